"""Two ways to build one image for one platform with no attestations.

- buildx (where `docker buildx version` works): `docker buildx build --platform … --provenance=false
  --sbom=false`, with cache-from/to, run through deploytools.proc; it pushes itself (--push).
- the Docker SDK's legacy builder (where buildx is absent): we send the context tarball we
  hashed, with `platform=`; the legacy builder never adds attestations. Pushed separately.

Both build with the host's network where the engine has no bridge (engine_network), and there
make stand-ins for the `python:X.Y[-slim]` bases the engine lacks (base_standin).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from deploytools import interrupts, proc
from deploytools.errors import BadInput, CommandFailed
from deploytools.lib.build_context import BuildContext, write_tar
from deploytools.lib.retry import Backoff, retry
from deploytools.steps.images.base_standin import StandIns
from deploytools.steps.images.content_tag import file_digest
from deploytools.steps.images.engine_network import cli_network_mode, sdk_network_mode
from deploytools.steps.images.errors import BuildFailed, DockerUnavailable
from deploytools.steps.images.registry import Endpoint
from deploytools.steps.images.registry import push as _push
from deploytools.steps.images.retry import is_transient

Progress = Callable[[str], None]
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
TAIL = 15  # lines of build output shown with a failure
_BUILDX_STEP = re.compile(r"^#\d+ \[[^\]]+\] ")
_SDK_STEP = re.compile(r"^Step \d+/\d+ : ")
_SDK_NOISE = (" ---> ", "Removing intermediate container")  # the builder's own bookkeeping
# The legacy builder's layer cache races image removals on the same engine (another process's
# `docker rmi` or prune): the cached image a step builds on can go before the step commits its
# child (moby/moby#36901), and a step's cache lookup fails on an image removed while it looked
# (GetCachedImage). Built again, the step no longer meets the removed image.
_CACHE_RACED = ("unknown parent image ID", 'unable to find image "sha256:')


@dataclass(frozen=True)
class BuildRequest:
    name: str  # the key under images:
    context: BuildContext
    platform: str
    build_args: Mapping[str, str]
    target: str | None
    tags: tuple[str, ...]  # full references (<repository>:<tag>), the first is the content tag
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()


class Builder(Protocol):
    """Builds request.tags; with `push` set, leaves request.tags[0] in that registry too."""

    name: str

    def build(
        self, request: BuildRequest, *, push: Endpoint | None, progress: Progress
    ) -> None: ...

    def has_image(self, ref: str) -> bool:
        """Whether the local engine already has this reference."""
        ...

    def image_id(self, ref: str) -> str | None:
        """The local image's id (its config's digest), None when the engine does not hold it."""
        ...

    def capacity(self) -> int:
        """How many builds the engine takes at once: its CPUs."""
        ...


@runtime_checkable
class PushesAfterBuilding(Protocol):
    """A builder whose push is a step of its own: the run holds a build slot only while it
    builds, so one image's upload overlaps the next one's build."""

    def push(self, ref: str, *, endpoint: Endpoint, progress: Progress) -> None: ...


def docker_host() -> str:
    return (
        os.environ.get("DOCKER_HOST")
        or os.environ.get("DEPLOYTOOLS_DOCKER_HOST")
        or DEFAULT_DOCKER_HOST
    )


def docker_client() -> Any:
    """A Docker SDK client for DOCKER_HOST (else DEPLOYTOOLS_DOCKER_HOST), checked to answer."""
    import docker
    import requests  # the SDK's transport: here only for its exceptions

    base_url = docker_host()
    try:
        client = docker.DockerClient(base_url=base_url, timeout=600)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise DockerUnavailable(
            f"no Docker engine answers at {base_url} ({exc}); start one or set DOCKER_HOST"
        ) from exc
    return client


def buildx_available() -> bool:
    try:
        result = proc.run(
            ["docker", "buildx", "version"],
            check=False,
            timeout=30,
            env={"DOCKER_HOST": docker_host()},
        )
    except BadInput:  # no docker CLI at all
        return False
    return result.returncode == 0


def choose_builder(
    *, backoff: Backoff | None = None, client_factory: Callable[[], Any] = docker_client
) -> Builder:
    """buildx where present, else the SDK's legacy builder (the engine must answer)."""
    if buildx_available():
        return BuildxBuilder(backoff=backoff, client_factory=client_factory)
    return SdkBuilder(client_factory(), backoff=backoff)


# --- buildx ---------------------------------------------------------------------------


def buildx_args(request: BuildRequest, *, push: bool, network: str | None = None) -> list[str]:
    args = [
        "docker", "buildx", "build",
        "--platform", request.platform,
        "--provenance=false",  # no attestation manifests: Lambda rejects the index they make
        "--sbom=false",
        "--progress=plain",
        "--file", str(request.context.dockerfile),
    ]  # fmt: skip
    for key, value in sorted(request.build_args.items()):
        args += ["--build-arg", f"{key}={value}"]
    if request.target:
        args += ["--target", request.target]
    for ref in request.cache_from:
        args += ["--cache-from", ref]
    for ref in request.cache_to:
        args += ["--cache-to", ref]
    for tag in request.tags:
        args += ["--tag", tag]
    if network:
        args += ["--network", network]
    args.append("--push" if push else "--load")
    args.append(str(request.context.root))
    return args


def buildx_login(endpoint: Endpoint) -> None:
    """docker login for buildx --push (the SDK path passes credentials per push instead)."""
    auth = endpoint.auth_config()
    if auth is None:
        return
    proc.run(
        ["docker", "login", "--username", auth["username"], "--password-stdin", endpoint.host],
        input=auth["password"],
        env={"DOCKER_HOST": docker_host()},
        timeout=120,
    )


class BuildxBuilder:
    name = "buildx"

    def __init__(
        self, *, backoff: Backoff | None = None, client_factory: Callable[[], Any] | None = None
    ) -> None:
        self.backoff = backoff or Backoff()
        self.standins = StandIns(client_factory or docker_client)

    def has_image(self, ref: str) -> bool:
        return self.image_id(ref) is not None

    def image_id(self, ref: str) -> str | None:
        found = proc.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", ref],
            check=False,
            env={"DOCKER_HOST": docker_host()},
        )
        if found.returncode != 0:
            return None
        return found.stdout.strip() or None

    def capacity(self) -> int:
        found = proc.run(
            ["docker", "info", "--format", "{{.NCPU}}"],
            check=False,
            env={"DOCKER_HOST": docker_host()},
        )
        return _cpus(found.stdout.strip())

    def build(self, request: BuildRequest, *, push: Endpoint | None, progress: Progress) -> None:
        network = cli_network_mode(docker_host())
        if network:  # an engine that cannot pull: python bases may need stand-ins
            self.standins.prepare(
                request.name,
                request.context.dockerfile,
                build_args=request.build_args,
                platform=request.platform,
                progress=progress,
            )
        if push is not None:
            buildx_login(push)
        args = buildx_args(request, push=push is not None, network=network)

        def once() -> subprocess.CompletedProcess[str]:
            return proc.run(args, env={"DOCKER_HOST": docker_host()}, timeout=3600)

        def pushing_hiccup(exc: Exception) -> bool:
            # The build is cached by then: only a registry hiccup is worth a second run.
            text = exc.stderr if isinstance(exc, CommandFailed) else ""
            return push is not None and "push" in text.lower() and is_transient(_tail(text, 5))

        try:
            result = retry(once, backoff=self.backoff, transient=pushing_hiccup)
        except CommandFailed as exc:
            raise BuildFailed(_buildx_failure(request.name, exc.stderr)) from exc
        for line in (result.stderr + result.stdout).splitlines():
            if _BUILDX_STEP.match(line) and "DONE" not in line:
                progress(f"{request.name}: {line.split(' ', 1)[1]}")


def _tail(text: str, count: int = TAIL) -> str:
    return "\n".join(line for line in text.strip().splitlines()[-count:])


def _buildx_failure(name: str, output: str) -> str:
    failing = [line.strip() for line in output.splitlines() if line.strip().startswith("> [")]
    step = failing[-1].lstrip("> ").rstrip(":") if failing else "an unknown step"
    return f"image {name}: build failed at {step}\n{_tail(output)}"


# --- the Docker SDK's legacy builder ------------------------------------------------------


class SdkBuilder:
    name = "docker-sdk"

    def __init__(self, client: Any, *, backoff: Backoff | None = None) -> None:
        self.client = client
        self.backoff = backoff or Backoff()
        self.standins = StandIns(lambda: client)

    def build(self, request: BuildRequest, *, push: Endpoint | None, progress: Progress) -> None:
        self._build(request, progress)
        if push is not None:
            self.push(request.tags[0], endpoint=push, progress=progress)

    def push(self, ref: str, *, endpoint: Endpoint, progress: Progress) -> None:
        """docker push of `ref` (a reference under `endpoint`'s host) to that registry."""
        repository, _, tag = ref.removeprefix(endpoint.host + "/").rpartition(":")
        _push(
            self.client,
            endpoint=endpoint,
            repository=repository,
            tag=tag,
            backoff=self.backoff,
            progress=progress,
        )

    def _build(self, request: BuildRequest, progress: Progress) -> None:
        network = sdk_network_mode(self.client)
        if network:  # an engine that cannot pull: python bases may need stand-ins
            self.standins.prepare(
                request.name,
                request.context.dockerfile,
                build_args=request.build_args,
                platform=request.platform,
                progress=progress,
            )

        def cache_raced(exc: Exception) -> bool:
            first_line = str(exc).split("\n", 1)[0]
            return isinstance(exc, BuildFailed) and any(race in first_line for race in _CACHE_RACED)

        def again(attempt: int, delay: float, exc: Exception) -> None:
            progress(
                f"{request.name}: an image was removed from the engine mid-build; building again"
            )

        image_id = retry(
            lambda: self._build_once(request, network, progress),
            backoff=replace(self.backoff, attempts=2, first=0.0),  # once more, at once
            transient=cache_raced,
            on_retry=again,
        )
        for ref in request.tags[1:]:
            repository, _, tag = ref.rpartition(":")
            self.client.api.tag(image_id, repository, tag)

    def _build_once(self, request: BuildRequest, network: str | None, progress: Progress) -> str:
        """One legacy-builder build of `request`; the image's id."""
        import docker.errors
        import requests

        ctx = request.context
        dockerfile = ctx.dockerfile_in_context or f".dockerfile.{file_digest(ctx.dockerfile)[:12]}"
        log = _BuildLog(request.name, progress)
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as tarball:
            write_tar(ctx, tarball, dockerfile_name=dockerfile)
            tarball.seek(0)
            try:
                stream = self.client.api.build(
                    fileobj=tarball,
                    custom_context=True,
                    dockerfile=dockerfile,
                    tag=request.tags[0],
                    platform=request.platform,
                    buildargs=dict(request.build_args),
                    target=request.target,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    network_mode=network,  # RUN steps reach what the host reaches
                    decode=True,
                )
                for chunk in interrupts.checked(stream):
                    log.feed(chunk)
            except docker.errors.APIError as exc:
                raise BuildFailed(f"image {request.name}: {exc.explanation or exc}") from exc
            except requests.RequestException as exc:
                raise DockerUnavailable(f"image {request.name}: the Docker engine: {exc}") from exc
        if not log.image_id:
            raise BuildFailed(f"image {request.name}: the build reported no image\n{log.tail}")
        return log.image_id

    def has_image(self, ref: str) -> bool:
        return self.image_id(ref) is not None

    def image_id(self, ref: str) -> str | None:
        import docker.errors

        try:
            return str(self.client.images.get(ref).id)
        except docker.errors.ImageNotFound:
            return None

    def capacity(self) -> int:
        import docker.errors
        import requests

        try:
            return _cpus(str(self.client.info().get("NCPU", "")))
        except (docker.errors.DockerException, requests.RequestException):
            return 1


def _cpus(text: str) -> int:
    """The engine's CPU count as `docker info` reports it; 1 when it does not say."""
    return max(int(text), 1) if text.isdigit() else 1


class _BuildLog:
    """The legacy builder's JSON stream: step lines as progress, the tail kept for errors."""

    def __init__(self, name: str, progress: Progress) -> None:
        self.name = name
        self.progress = progress
        self.lines: deque[str] = deque(maxlen=TAIL)
        self.step = "the first step"
        self.image_id = ""

    @property
    def tail(self) -> str:
        return "\n".join(self.lines)

    def feed(self, chunk: dict[str, Any]) -> None:
        if "error" in chunk or "errorDetail" in chunk:
            error = str(chunk.get("error") or chunk["errorDetail"].get("message", "")).strip()
            raise BuildFailed(
                f"image {self.name}: build failed at {self.step}: {error}\n{self.tail}"
            )
        self.image_id = (chunk.get("aux") or {}).get("ID", self.image_id)
        for line in str(chunk.get("stream", "")).splitlines():
            if not line.strip() or line.startswith(_SDK_NOISE):
                continue
            self.lines.append(line.rstrip())
            if _SDK_STEP.match(line):
                self.step = line.strip()
                self.progress(f"{self.name}: {self.step}")
