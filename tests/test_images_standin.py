"""Real Dockerfiles build on an engine without a bridge network. RUN steps
get the host's network, and a `FROM python:X.Y[-slim]` the engine lacks gets a stand-in made
from the local Debian root filesystem image, with pip and this machine's CA bundle. Real engine;
`RUN pip install` really reaches the package index."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from deploytools.steps.images.base_standin import (
    LOCAL_PYTHON,
    STANDIN_LABEL,
    StandIns,
    base_images,
    is_python_base,
)
from deploytools.steps.images.builder import SdkBuilder
from deploytools.steps.images.engine_network import sdk_network_mode
from deploytools.steps.images.errors import BuildFailed
from tests import support
from tests.fixtures.images.apps import build_request

BASE = "python:3.10-slim"
DOCKERFILE = f"""\
FROM {BASE}
RUN pip install six==1.16.0
RUN python -c "import six; print(six.__version__)"
"""


@pytest.fixture
def python_rootfs(docker_engine: docker.DockerClient) -> str:
    """The local Debian root filesystem image stand-ins are made from."""
    try:
        docker_engine.images.get(LOCAL_PYTHON)
    except docker.errors.ImageNotFound:
        support.unavailable(f"{LOCAL_PYTHON} is missing: run scripts/services up --python-base")
    return LOCAL_PYTHON


def _forget_standin(client: docker.DockerClient, ref: str) -> None:
    """Remove an earlier run's stand-in (never a real image), so this test makes it anew."""
    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        return
    if (image.labels or {}).get(STANDIN_LABEL) == "true":
        client.images.remove(ref, force=True)


@pytest.mark.slow
def test_item_17_python_slim_dockerfile_with_pip_install_builds_on_a_bridgeless_engine(
    tmp_path: Path, docker_engine: docker.DockerClient, python_rootfs: str
) -> None:
    assert sdk_network_mode(docker_engine) == "host", "this engine was expected to lack a bridge"
    _forget_standin(docker_engine, BASE)
    said: list[str] = []
    builder = SdkBuilder(docker_engine)
    tag = "deploytools-test/standin-app:v1"
    builder.build(build_request(tmp_path, DOCKERFILE, tag), push=None, progress=said.append)

    named = [line for line in said if "stand-in" in line]
    assert named == [
        f"{BASE} is not available here: using a stand-in with Python 3.11 from "
        f"{LOCAL_PYTHON} (labelled {STANDIN_LABEL}=true)"
    ]
    base = docker_engine.images.get(BASE)
    assert base.labels[STANDIN_LABEL] == "true"
    env = dict(item.split("=", 1) for item in base.attrs["Config"]["Env"])
    assert env["SSL_CERT_FILE"] == env["PIP_CERT"] == "/etc/ssl/certs/ca-certificates.crt"
    printed = docker_engine.containers.run(
        tag, ["python", "-c", "import six; print(six.__version__)"], network_mode="none",
        remove=True,
    )  # fmt: skip
    assert printed.decode().strip() == "1.16.0"

    # A second image on the same base: the stand-in is reused and named once per builder.
    again = build_request(tmp_path, DOCKERFILE + "RUN true\n", "deploytools-test/standin-app:v2")
    builder.build(again, push=None, progress=said.append)
    assert len([line for line in said if "stand-in" in line]) == 1
    docker_engine.images.remove("deploytools-test/standin-app:v2", force=True)
    docker_engine.images.remove(tag, force=True)


def test_a_failing_run_step_still_fails_the_build(
    tmp_path: Path, docker_engine: docker.DockerClient, python_rootfs: str
) -> None:
    dockerfile = f"FROM {BASE}\nRUN python -c 'import not_installed_anywhere'\n"
    with pytest.raises(BuildFailed) as err:
        SdkBuilder(docker_engine).build(
            build_request(tmp_path, dockerfile, "deploytools-test/standin-fails:v1"),
            push=None,
            progress=lambda _: None,
        )
    assert "No module named 'not_installed_anywhere'" in str(err.value)


def test_bases_are_read_with_build_args_and_stages_left_out() -> None:
    text = (
        "ARG PY=3.11\n"
        "FROM python:${PY}-slim AS build\n"
        "FROM build AS test\n"
        "FROM scratch\n"
        "COPY --from=build /a /a\n"
        "FROM --platform=linux/amd64 public.ecr.aws/lambda/python:3.12\n"
    )
    assert [(b.image, b.line) for b in base_images(text, {})] == [
        ("python:3.11-slim", 2),
        ("public.ecr.aws/lambda/python:3.12", 6),
    ]
    assert base_images(text, {"PY": "3.9"})[0].image == "python:3.9-slim"


@pytest.mark.parametrize(
    ("image", "served"),
    [
        ("python:3.12-slim", True),
        ("python:3.10", True),
        ("python:3.11.9-slim-bookworm", True),
        ("docker.io/library/python:3.9-slim", True),
        ("python:3.12-alpine", False),
        ("node:20", False),
        ("python:latest", False),
        ("public.ecr.aws/lambda/python:3.12", False),
    ],
)
def test_which_bases_a_standin_serves(image: str, served: bool) -> None:
    assert is_python_base(image) is served


class _EngineWithout:
    """A fake engine that has none of the images asked for (no engine call is made for real:
    the test reads the message for a machine without the root filesystem image)."""

    class images:  # the SDK's attribute name
        @staticmethod
        def get(ref: str) -> object:
            raise docker.errors.ImageNotFound(ref)


def test_without_the_rootfs_image_the_message_names_the_base_and_the_fix(tmp_path: Path) -> None:
    standins = StandIns(lambda: _EngineWithout())
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch AS web\nFROM python:3.12-slim\n")
    with pytest.raises(BuildFailed) as err:
        standins.prepare(
            "api", dockerfile, build_args={}, platform="linux/amd64", progress=lambda _: None
        )
    assert str(err.value) == (
        "image api: FROM python:3.12-slim (line 2) is not available here and this engine "
        "cannot pull it; run `bash scripts/services up --python-base` (it makes "
        "deploytools/python:3-local) so deploytools can make a stand-in, or `docker load` the image"
    )
