"""Fixtures shared by the whole suite: fake AWS credentials, moto's server, the private
Docker engine, the loopback registry and Terraform with the provider mirror.

What the machine lacks fails the test in CI and skips it elsewhere (tests.support.unavailable).
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# `tests.support` must import however pytest was started (plain `pytest` puts only tests/ on
# sys.path while tests/ has no __init__.py).
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests import support  # noqa: E402

if TYPE_CHECKING:
    import docker

# Fixture name -> the marker a test using it gets, so `-m "not docker"` selects.
_FIXTURE_MARKERS = {
    "docker_engine": "docker",
    "busybox_image": "docker",
    "registry": "registry",
    "registry_repo": "registry",
    "terraform_bin": "terraform",
    "terraform_cli_config": "terraform",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*tools): needs these tools (tests.support.requires); else skip/fail"
    )
    # A safety net for session fixtures and subprocesses: nothing reaches real AWS or phones
    # home, whatever the shell running pytest had set.
    for name in (*support.AWS_ENV_TO_CLEAR, *support.aws_endpoint_vars()):
        os.environ.pop(name, None)
    os.environ.update(support.FAKE_AWS_ENV)
    os.environ["CHECKPOINT_DISABLE"] = "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in _FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
    # Files with a slow test first, each file's tests in their own order: scripts/test hands
    # whole files to its workers in this order (--no-loadscope-reorder), so the long ones do
    # not start last, nor two of the longest on one worker.
    order = {path: index for index, path in enumerate(_slow_files_first(items))}
    items.sort(key=lambda item: order.get(item.path, len(order)))


def _slow_files_first(items: list[pytest.Item]) -> list[Path]:
    """The files with a slow test, longest first by their `slow(minutes=N)` (default 1), the
    longer and the shorter halves interleaved: xdist gives each worker two files at the start,
    and the longest then land on different workers."""
    minutes: dict[Path, float] = {}
    for item in items:
        marker = item.get_closest_marker("slow")
        if marker is not None:
            minutes[item.path] = max(minutes.get(item.path, 0), marker.kwargs.get("minutes", 1))
    ranked = sorted(minutes, key=lambda path: (-minutes[path], str(path)))
    half = (len(ranked) + 1) // 2
    longer, shorter = ranked[:half], ranked[half:]
    return [path for pair in zip_longest(longer, shorter) for path in pair if path is not None]


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires"):
        for tool in mark.args:
            support.requires(tool)


def pytest_sessionfinish(session: pytest.Session) -> None:
    support.services.release()


# --- AWS ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake keys and us-east-1 for every test; no profile, no AWS_ENDPOINT_URL*."""
    for name in (*support.AWS_ENV_TO_CLEAR, *support.aws_endpoint_vars()):
        monkeypatch.delenv(name, raising=False)
    for name, value in support.FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)


@dataclass(frozen=True)
class MotoServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's server in a thread on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs each request from the server's threads; its handler can outlive the
    # stream pytest captured for the test that started it ("I/O operation on closed file").
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield MotoServer(host, port)
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: MotoServer) -> str:
    """The moto server's URL, its state reset for this test."""
    support.reset_moto(moto_server.url)
    return moto_server.url


# --- Docker and the registry -------------------------------------------------------------


@pytest.fixture(scope="session")
def _docker_client() -> Iterator[docker.DockerClient]:
    import docker

    base_url = support.require_docker()
    client = docker.DockerClient(base_url=base_url, timeout=300)
    try:
        yield client
        support.remove_run_containers(client)
    finally:
        client.close()


@pytest.fixture
def docker_engine(
    _docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> docker.DockerClient:
    """A client for the private engine; DOCKER_HOST points there too for this test.

    The engine has no bridge network: run containers with network_mode="host".
    """
    monkeypatch.setenv("DOCKER_HOST", support.DOCKER_HOST)
    return _docker_client


@pytest.fixture
def busybox_image(docker_engine: docker.DockerClient) -> str:
    """The tag of the local base image with a shell (Debian's busybox-static)."""
    import docker

    try:
        docker_engine.images.get(support.BUSYBOX_IMAGE)
    except docker.errors.ImageNotFound:
        support.services.ensure()
        try:
            docker_engine.images.get(support.BUSYBOX_IMAGE)
        except docker.errors.ImageNotFound:
            support.unavailable(f"{support.BUSYBOX_IMAGE} is missing: {support.SERVICES_HINT}")
    return support.BUSYBOX_IMAGE


@pytest.fixture(scope="session")
def registry() -> str:
    """host:port of the loopback registry (127.0.0.1:5055), which allows deletes."""
    return support.require_registry()


@pytest.fixture
def registry_repo(registry: str) -> str:
    """A repository name in the registry that no other test uses: host:port/test/<random>."""
    return f"{registry}/test/{uuid.uuid4().hex[:12]}"


# --- Terraform --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def terraform_bin() -> Path:
    return support.requires("terraform")


@pytest.fixture(scope="session")
def _terraform_cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from deploytools.sandbox import tfmirror

    mirror = tfmirror.find_provider_mirror()
    if mirror is None:
        support.unavailable(
            "no Terraform provider mirror on this machine "
            "(a folder holding registry.terraform.io/<namespace>/<type>/<version>)"
        )
    return tfmirror.write_cli_config(tmp_path_factory.mktemp("terraform") / "terraformrc", mirror)


@pytest.fixture
def terraform_cli_config(_terraform_cli_config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CLI config that installs providers from the mirror found; TF_CLI_CONFIG_FILE set."""
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(_terraform_cli_config))
    monkeypatch.setenv("TF_IN_AUTOMATION", "1")
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    return _terraform_cli_config


# --- linters ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    return support.requires("checkov")


@pytest.fixture(scope="session")
def zizmor_bin() -> Path:
    return support.requires("zizmor")


@pytest.fixture(scope="session")
def actionlint_bin() -> Path:
    return support.requires("actionlint")


# --- Shared by many modules: AWS contexts, the output mask, sample apps, the CLI world -----
# Modules whose code needs other endpoints (an emulator, the ECS sandbox, the EKS double)
# define their own `aws` from their own fixtures. Imports are made where used, as above, so that
# collecting the suite stays light.

if TYPE_CHECKING:
    from deploytools.aws import AwsContext
    from tests.fakes import World


@pytest.fixture
def aws() -> Iterator[AwsContext]:
    """An AwsContext on moto's in-process mock, in us-east-1."""
    from moto import mock_aws

    from deploytools.aws import AwsContext

    with mock_aws():
        yield AwsContext("us-east-1")


@pytest.fixture
def moto_server_aws(moto_endpoint: str) -> AwsContext:
    """An AwsContext whose ECR, STS, Lambda and ECS are the moto server, which Docker and
    other processes reach too."""
    from tests.fixtures.images.apps import moto_aws

    return moto_aws(moto_endpoint)


@pytest.fixture
def clean_masks() -> Iterator[None]:
    """No secret registered with the output mask leaks into, or out of, the test."""
    from deploytools.output import mask

    mask.forget_all()
    yield
    mask.forget_all()


@pytest.fixture
def images_app(tmp_path: Path, docker_engine: docker.DockerClient) -> Iterator[Path]:
    """A copy of the images sample app; its images are removed from the engine afterwards."""
    from tests.fixtures.images.apps import env_config, make_app

    root = make_app(tmp_path)
    yield root
    project = env_config(root).model.project
    support.remove_images_tagged(docker_engine, project)


@pytest.fixture
def seeded_aws(aws: AwsContext) -> AwsContext:
    """`aws` with the required secret of the sample app (tests/fakes.py) in SSM."""
    from tests.fakes import put_secret

    put_secret(aws)
    return aws


@pytest.fixture
def cli_world(monkeypatch: pytest.MonkeyPatch, seeded_aws: AwsContext) -> World:
    """The deploy command's ports are fakes of this World (one clock, so release ids keep
    increasing), over `seeded_aws`."""
    from deploytools.commands import deploy as deploy_command
    from tests.fakes import OUTPUTS, World, fake_ports

    state = World()
    ports = fake_ports(state, outputs=OUTPUTS)
    monkeypatch.setattr(deploy_command, "default_ports", lambda app: ports)
    return state


@pytest.fixture
def head_start_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """tmp_path is the working folder and holds the user cache (head-start recipes go there),
    head starts are on, and no head start outlives the test."""
    from deploytools.lib import head_start

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPLOYTOOLS_HEAD_START", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    head_start.end()
