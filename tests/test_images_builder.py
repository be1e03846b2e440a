"""The buildx path, by its argument list and through a stand-in `docker` CLI.

buildx is not installed on this machine, so a small script named `docker` on PATH records
what deploytools runs and answers like buildx would; the legacy-builder path is tested for
real with the Docker engine (test_images_publish.py).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from deploytools.lib.retry import Backoff
from deploytools.steps.images import builder as builders
from deploytools.steps.images.builder import BuildRequest, buildx_args, choose_builder
from deploytools.steps.images.errors import BuildFailed
from deploytools.steps.images.registry import Endpoint
from tests.fixtures.images.apps import build_request

FAKE_DOCKER = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if args[:1] == ["login"] else ""
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "stdin": stdin}) + "\n")
if args[:2] == ["buildx", "version"]:
    sys.exit(0 if os.environ.get("FAKE_BUILDX") == "1" else 1)
if args[:2] == ["network", "ls"]:  # the engine's bridge networks, one name a line
    print(os.environ.get("FAKE_BRIDGE", "bridge"))
    sys.exit(0)
if args[:2] == ["buildx", "build"]:
    if os.environ.get("FAKE_BUILD_FAILS") == "1":
        sys.stderr.write(
            "#5 [2/3] COPY app.py /app/\n#5 DONE 0.1s\n#6 [3/3] RUN false\n"
            "#6 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1\n"
            "------\n > [3/3] RUN false:\n------\n"
            "ERROR: failed to solve: process \"/bin/sh -c false\" did not complete successfully\n"
        )
        sys.exit(1)
    sys.stderr.write("#5 [2/3] COPY app.py /app/\n#5 DONE 0.1s\n#6 [3/3] RUN true\n")
sys.exit(0)
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "docker"
    script.write_text(FAKE_DOCKER)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "docker.log"
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    monkeypatch.setenv("FAKE_BUILDX", "1")
    return log


def calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def request_(tmp_path: Path) -> BuildRequest:
    return build_request(
        tmp_path,
        "FROM scratch\nCOPY app.py /app/\n",
        "123.dkr.ecr.us-east-1.amazonaws.com/app-api:ct-abc",
        files={"app.py": "print(1)\n"},
        build_args={"MODEL": "distilbert", "A": "1"},
        target="runtime",
        cache_from=("type=registry,ref=123.dkr.ecr.us-east-1.amazonaws.com/app-api:cache",),
        cache_to=("type=inline",),
    )


def test_buildx_arguments(request_: BuildRequest) -> None:
    root = request_.context.root
    assert buildx_args(request_, push=True) == [
        "docker", "buildx", "build",
        "--platform", "linux/amd64",
        "--provenance=false",
        "--sbom=false",
        "--progress=plain",
        "--file", str(root / "Dockerfile"),
        "--build-arg", "A=1",
        "--build-arg", "MODEL=distilbert",
        "--target", "runtime",
        "--cache-from", "type=registry,ref=123.dkr.ecr.us-east-1.amazonaws.com/app-api:cache",
        "--cache-to", "type=inline",
        "--tag", "123.dkr.ecr.us-east-1.amazonaws.com/app-api:ct-abc",
        "--push",
        str(root),
    ]  # fmt: skip
    assert buildx_args(request_, push=False)[-2] == "--load"


def test_buildx_is_chosen_where_present_and_pushes_itself(
    fake_docker: Path, request_: BuildRequest
) -> None:
    builder = choose_builder(client_factory=lambda: pytest.fail("the SDK is not needed"))
    assert builder.name == "buildx"
    progress: list[str] = []
    endpoint = Endpoint(
        "123.dkr.ecr.us-east-1.amazonaws.com", username="AWS", password="s3cr3t-token"
    )
    builder.build(request_, push=endpoint, progress=progress.append)
    recorded = calls(fake_docker)
    assert [c["args"][:2] for c in recorded] == [  # type: ignore[index]
        ["buildx", "version"],
        ["network", "ls"],
        ["login", "--username"],
        ["buildx", "build"],
    ]
    login = recorded[2]
    assert login["args"] == [
        "login", "--username", "AWS", "--password-stdin", "123.dkr.ecr.us-east-1.amazonaws.com",
    ]  # fmt: skip
    assert login["stdin"] == "s3cr3t-token"  # never on the command line
    assert recorded[3]["args"] == buildx_args(request_, push=True)[1:]
    assert "--network" not in recorded[3]["args"]  # type: ignore[operator]
    assert progress == ["api: [2/3] COPY app.py /app/", "api: [3/3] RUN true"]


def test_buildx_builds_with_the_host_network_where_the_engine_has_no_bridge(
    fake_docker: Path, request_: BuildRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BRIDGE", "")
    builder = builders.BuildxBuilder(client_factory=lambda: pytest.fail("FROM scratch: no SDK"))
    builder.build(request_, push=None, progress=lambda _: None)
    build = calls(fake_docker)[-1]["args"]
    assert build == buildx_args(request_, push=False, network="host")[1:]
    assert build[-4:-1] == ["--network", "host", "--load"]  # type: ignore[index]


def test_a_buildx_failure_names_the_failing_step(
    fake_docker: Path, request_: BuildRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BUILD_FAILS", "1")
    builder = builders.BuildxBuilder(backoff=Backoff(attempts=1))
    with pytest.raises(BuildFailed) as caught:
        builder.build(request_, push=None, progress=lambda _: None)
    message = str(caught.value)
    assert message.startswith("image api: build failed at [3/3] RUN false\n")
    assert 'ERROR: failed to solve: process "/bin/sh -c false"' in message


def test_the_legacy_builder_is_chosen_without_buildx(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BUILDX", "0")
    client = object()
    builder = choose_builder(client_factory=lambda: client)
    assert builder.name == "docker-sdk"
    assert builder.client is client  # type: ignore[attr-defined]


def test_no_docker_cli_means_no_buildx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert builders.buildx_available() is False
