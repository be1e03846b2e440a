"""Workload containers: the sandbox's ECS tasks, EKS pods and Lambda execution environments,
run by the local Docker engine. The one container runner of the sandbox.

A workload runs from the registry that stands in for ECR, by the reference it was deployed
with: an ECR repository URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…`)
names the same repository in the loopback registry, a loopback reference is used as it is, and
an image the engine already holds locally runs without a pull (nothing else can be pulled).
Tasks and pods get `--network none` (their own loopback only), so health checks and probes run
inside them through `docker exec`; a Lambda environment gets `--network host`, because its
runtime calls the Runtime API on the host's loopback (the engine has no bridge, and nothing
but loopback is served). Each container carries the label `deploytools.sandbox=<sandbox id>`;
`remove_all` (and so `deploytools sandbox down`) removes every container with it.

Environment values (secrets included) go to the engine only; nothing here logs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Network = Literal["none", "host"]

SANDBOX_LABEL = "deploytools.sandbox"
WORKLOAD_LABEL = "deploytools.workload"  # e.g. "ecs:<service>", "lambda:<function>"
ROLE_LABEL = "deploytools.role"  # ecs | eks | lambda: which emulator started the container
LOOPBACK_HOSTS = ("127.", "localhost")


def sandbox_id(folder: Path | None = None) -> str:
    """A stable id for the sandbox whose state lives in `folder` (default: the current one),
    so that `sandbox down` finds the containers even after the sandbox process died."""
    if folder is None:
        from deploytools.sandbox import state

        folder = state.state_dir()
    return hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]


def registry_ref(image: str, registry: str | None) -> str | None:
    """Where the sandbox pulls `image` from; None when it names a registry out of reach."""
    host, sep, rest = image.partition("/")
    if sep and ".dkr.ecr." in host and host.endswith(".amazonaws.com"):
        return f"{registry}/{rest}" if registry else None
    if sep and host.startswith(LOOPBACK_HOSTS):
        return image
    return None


class PullFailed(Exception):
    """The image could not be pulled; the message says why, as containerd words it."""


class StartFailed(Exception):
    """The engine could not start the container (e.g. its executable does not exist)."""


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    name: str  # a readable part of the container's name
    env: Mapping[str, str] = field(default_factory=dict)
    command: Sequence[str] | None = None
    entrypoint: Sequence[str] | None = None
    workdir: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    network: Network = "none"
    mounts: Mapping[str, str] = field(default_factory=dict)  # host dir -> container dir, read-only


@dataclass(frozen=True)
class ContainerState:
    running: bool
    exit_code: int | None = None
    error: str = ""


class DockerWorkloads:
    """Start, watch, probe and remove the sandbox's workload containers."""

    def __init__(self, client: Any, registry: str | None, sandbox: str) -> None:
        self.client = client
        self.registry = registry
        self.sandbox = sandbox
        self._pull_lock = threading.Lock()

    def start(self, spec: ContainerSpec) -> str:
        """The new container's id; raises PullFailed or StartFailed."""
        import docker

        ref = self._image(spec.image)
        name = f"dt-{self.sandbox}-{_slug(spec.name)}-{uuid.uuid4().hex[:6]}"
        labels = {**spec.labels, SANDBOX_LABEL: self.sandbox}
        try:
            container = self.client.containers.create(
                ref,
                command=list(spec.command) if spec.command else None,
                entrypoint=list(spec.entrypoint) if spec.entrypoint else None,
                environment=dict(spec.env),
                working_dir=spec.workdir or None,
                labels=labels,
                name=name,
                network_mode=spec.network,
                volumes={
                    host: {"bind": inside, "mode": "ro"} for host, inside in spec.mounts.items()
                },
            )
        except docker.errors.APIError as exc:
            raise StartFailed(_explain(exc)) from exc
        try:
            container.start()
        except docker.errors.APIError as exc:
            container.remove(force=True)
            raise StartFailed(_explain(exc)) from exc
        return str(container.id)

    def state(self, container_id: str) -> ContainerState:
        import docker

        try:
            attrs = self.client.api.inspect_container(container_id)["State"]
        except docker.errors.NotFound:
            return ContainerState(False, None, "the container is gone")
        if attrs.get("Running"):
            return ContainerState(True)
        return ContainerState(False, int(attrs.get("ExitCode", 0)), str(attrs.get("Error") or ""))

    def wait(self, container_id: str) -> int:
        """Block until the container exits; its exit status (-1 if the engine lost it)."""
        import docker
        import requests

        while True:
            try:
                return int(self.client.api.wait(container_id, timeout=60).get("StatusCode", -1))
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                if not self.state(container_id).running:  # a dropped answer, not a live one
                    return self.state(container_id).exit_code or -1
            except docker.errors.DockerException:
                return -1

    def restart(self, container_id: str) -> None:
        self.client.api.start(container_id)

    def exec(self, container_id: str, command: Sequence[str], timeout: float) -> int | None:
        """The exit code of `command` run inside the container; None if it outlasts timeout
        or cannot run there."""
        import docker

        try:
            run = self.client.api.exec_create(container_id, list(command))
        except docker.errors.APIError:
            return None
        done = threading.Event()

        def execute() -> None:
            with contextlib.suppress(docker.errors.APIError):
                self.client.api.exec_start(run["Id"])
            done.set()

        threading.Thread(target=execute, daemon=True, name="probe").start()
        if not done.wait(timeout):
            return None
        code = self.client.api.exec_inspect(run["Id"]).get("ExitCode")
        return None if code is None else int(code)

    def http_get(self, container_id: str, port: int, path: str, timeout: float) -> bool:
        """An HTTP GET to the container's own loopback, run inside it (busybox wget or
        Python, whichever the image has): True on a 2xx/3xx answer."""
        url = f"http://127.0.0.1:{port}{path or '/'}"
        # No `-T`: Debian's busybox-static wget crashes with it; exec's timeout bounds the call.
        wget = ["wget", "-q", "-O", "/dev/null", url]
        if self.exec(container_id, wget, timeout + 1) == 0:
            return True
        script = f"import urllib.request as u; u.urlopen({url!r}, timeout={timeout})"
        for python in ("python3", "python"):
            if self.exec(container_id, [python, "-c", script], timeout + 1) == 0:
                return True
        return False

    def remove(self, container_id: str) -> None:
        remove_container(self.client, container_id)

    def remove_all(self, **labels: str) -> int:
        """Remove this sandbox's containers (only those with all of `labels`, when given)."""
        return remove_labelled(self.client, self.sandbox, labels)

    def _image(self, image: str) -> str:
        import docker

        ref = registry_ref(image, self.registry)
        if ref is None:
            try:
                self.client.images.get(image)
            except docker.errors.ImageNotFound as exc:
                raise PullFailed(f"failed to resolve ref {image}: not found") from exc
            return image
        with self._pull_lock:
            try:
                self.client.api.pull(ref)
            except docker.errors.APIError as exc:
                raise PullFailed(f"failed to resolve ref {image}: not found") from exc
        return ref


def connect(registry: str | None, sandbox: str | None = None) -> DockerWorkloads | str:
    """Workloads on the engine at $DOCKER_HOST, or why there is none (one line)."""
    try:
        import docker
    except ImportError:
        return "no Docker SDK: pip install docker"
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # the SDK raises several kinds for an engine that is not there
        return f"no Docker engine ({type(exc).__name__}): start one and set DOCKER_HOST"
    return DockerWorkloads(client, registry, sandbox or sandbox_id())


def remove_labelled(client: Any, sandbox: str, labels: Mapping[str, str] | None = None) -> int:
    """Remove every container of the sandbox `sandbox` (with all of `labels`); how many."""
    wanted = [f"{SANDBOX_LABEL}={sandbox}", *(f"{k}={v}" for k, v in (labels or {}).items())]
    # ignore_removed: a container another process removes between the listing and its
    # inspection is gone, which is what we want, not an error.
    found = client.containers.list(all=True, filters={"label": wanted}, ignore_removed=True)
    for container in found:
        remove_container(client, container.id)
    return len(found)


def remove_container(client: Any, container_id: str) -> None:
    """Remove a container, running or not; one that is gone or going already is fine."""
    import docker

    try:
        client.api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        pass  # it went by itself
    except docker.errors.APIError as exc:
        # Another clean-up (an environment closing, `sandbox down`) is removing it now; the
        # engine lists it as "removing" until it is done (moby/moby#37698).
        if exc.status_code != 409 or "already in progress" not in str(exc):
            raise


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return cleaned.strip("-.")[:40] or "workload"


def _explain(exc: Any) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def remove_labelled_everywhere(sandbox: str | None = None) -> int:
    """Remove the containers of this sandbox (default: the current one) if an engine answers;
    how many there were."""
    workloads = connect(None, sandbox)
    return 0 if isinstance(workloads, str) else workloads.remove_all()
