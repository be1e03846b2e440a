"""The BUILD step of the sandbox's Amplify jobs: the build spec's commands, run in a container.

For the application whose `appRoot` is the app's root (AMPLIFY_MONOREPO_APP_ROOT), the
`frontend.phases.preBuild.commands` then `frontend.phases.build.commands` run in one shell in
a container of the Node image (`--network host`, so that npm reaches its registry; nothing
listens there), in a copy of the source (without node_modules, .git and .next) under /src,
with the app's and the branch's environment variables. Then `frontend.artifacts.baseDirectory`
must exist and, on WEB_COMPUTE, hold a Next.js server build (`server/` or `standalone/`). A
command that exits non-zero fails the step with its exit code and the output's tail.

The source is the repository when it is a local path (or `file://` URL), else the folder the
builder was given (the sandbox's: $DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE, default the folder the
sandbox started in). Simulated, and said so in the step's reason: the build when no Docker
engine answers, the Node image is missing (deploytools.sandbox.node_image makes the default
one when it can), or the app root is not in the source.
"""

from __future__ import annotations

import io
import shlex
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from deploytools.sandbox.containers import SANDBOX_LABEL

SKIPPED = frozenset({"node_modules", ".git", ".next", ".pnpm-store"})
LOG_TAIL = 40  # lines of output kept for the step's log
BUILD_TIMEOUT = 1800.0  # Amplify's default build timeout is 30 minutes
MISSING_ARTIFACTS = 90  # exit codes of the script's own checks
NO_SERVER_BUILD = 91
STARTED = "# Executing command: "


@dataclass(frozen=True)
class BuildRequest:
    build_spec: str
    app_root: str
    repository: str
    platform: str
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildOutcome:
    ok: bool
    reason: str  # why it failed, or `simulated: …`; "" for a build that ran and passed
    log: str

    @property
    def simulated(self) -> bool:
        return self.reason.startswith("simulated:")


class Builder(Protocol):
    def build(self, request: BuildRequest) -> BuildOutcome: ...


def simulated(why: str) -> BuildOutcome:
    reason = f"simulated: the build commands were not run ({why})"
    return BuildOutcome(True, reason, reason + "\n")


class ContainerBuilder:
    """Runs builds on a Docker engine in `image` (one with sh, node and npm)."""

    def __init__(
        self,
        client: Any,
        image: str,
        source: Path,
        sandbox: str,
        make_image: Callable[[], str | None] | None = None,
    ) -> None:
        self.client = client
        self.image = image
        self.source = source
        self.sandbox = sandbox
        self.make_image = make_image  # makes a missing image; why it could not, or None

    def build(self, request: BuildRequest) -> BuildOutcome:
        import docker

        try:
            commands, base = phases(request.build_spec, request.app_root)
        except ValueError as exc:
            return BuildOutcome(False, f"BUILD failed: the build spec {exc}", f"!!! {exc}\n")
        source = self._source(request.repository)
        root = (source / request.app_root) if request.app_root else source
        if not root.is_dir():
            return simulated(
                f"the app root {request.app_root or '.'} is not in {source}; set "
                "DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE to the repository's checkout"
            )
        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            why = self.make_image() if self.make_image else None
            if why or not self.make_image:
                return simulated(why or f"no Node image {self.image} on the Docker engine")
        script = build_script(commands, base, request.platform == "WEB_COMPUTE")
        workdir = "/src/" + request.app_root if request.app_root else "/src"
        env = {**request.environment, "AMPLIFY_MONOREPO_APP_ROOT": request.app_root}
        container = self.client.containers.create(
            self.image,
            command=["sh", "-c", script],
            working_dir="/",
            environment={**env, "DEPLOYTOOLS_BUILD_DIR": workdir},
            labels={SANDBOX_LABEL: self.sandbox, "deploytools.workload": "amplify-build"},
            network_mode="host",
        )
        try:
            container.put_archive("/", _archive(source))
            container.start()
            code = int(container.wait(timeout=BUILD_TIMEOUT).get("StatusCode", 1))
            output = container.logs().decode("utf-8", "replace")
        finally:
            container.remove(force=True)
        tail = "\n".join(output.splitlines()[-LOG_TAIL:]) + "\n"
        if code == 0:
            return BuildOutcome(True, "", tail)
        said = [line[4:] for line in output.splitlines() if line.startswith("!!! ")]
        started = [line[len(STARTED) :] for line in output.splitlines() if line.startswith(STARTED)]
        if said:
            why = said[-1]
        elif started:  # the command ended the shell itself (`exit 3`)
            why = f"command {started[-1]} exited with code {code}"
        else:
            why = f"the build exited with code {code}"
        return BuildOutcome(False, f"BUILD failed: {why}", tail)

    def _source(self, repository: str) -> Path:
        local = repository.removeprefix("file://")
        if local.startswith("/") and Path(local).is_dir():
            return Path(local)
        return self.source


def phases(build_spec: str, app_root: str) -> tuple[list[str], str]:
    """The preBuild and build commands and the artifacts' baseDirectory for `app_root`."""
    try:
        spec = yaml.safe_load(build_spec or "") or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"is not YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise ValueError("is not a mapping")
    app: Any = spec
    if "applications" in spec:
        found = [a for a in spec["applications"] or [] if str(a.get("appRoot", "")) == app_root]
        if not found:
            raise ValueError(f"has no application with appRoot {app_root}")
        app = found[0]
    frontend = app.get("frontend") or {}
    commands: list[str] = []
    for phase in ("preBuild", "build"):
        commands += [str(c) for c in ((frontend.get("phases") or {}).get(phase) or {}).get(
            "commands"
        ) or []]  # fmt: skip
    base = str((frontend.get("artifacts") or {}).get("baseDirectory") or "")
    if not base:
        raise ValueError("sets no frontend.artifacts.baseDirectory")
    return commands, base


def build_script(commands: list[str], base: str, server_build: bool) -> str:
    """One shell session, as Amplify runs a phase: each command echoed, the first failure
    named with its exit code, then the artifact checks."""
    lines = ['cd "$DEPLOYTOOLS_BUILD_DIR" || exit 1']
    for command in commands:
        quoted = shlex.quote(command)
        lines += [
            f"echo {shlex.quote(STARTED)}{quoted}",
            command,
            "rc=$?",
            f'if [ "$rc" -ne 0 ]; then echo "!!! command {_escape(command)} exited with code '
            f'$rc"; exit "$rc"; fi',
        ]
    base_q = shlex.quote(base)
    lines.append(
        f"[ -d {base_q} ] || {{ echo '!!! artifacts.baseDirectory {_escape(base)} does not "
        f"exist after the build'; exit {MISSING_ARTIFACTS}; }}"
    )
    if server_build:
        lines.append(
            f"[ -d {base_q}/server ] || [ -d {base_q}/standalone ] || {{ echo '!!! "
            f"{_escape(base)} holds no Next.js server build (server/ or standalone/), which "
            f"WEB_COMPUTE needs'; exit {NO_SERVER_BUILD}; }}"
        )
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Text safe inside the script's single- and double-quoted messages."""
    return "".join(c for c in text if c not in "'\"`$\\")


def _archive(source: Path) -> bytes:
    data = io.BytesIO()

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if SKIPPED & set(Path(info.name).parts) else info

    with tarfile.open(fileobj=data, mode="w") as tar:
        tar.add(str(source), arcname="src", filter=keep)
    return data.getvalue()
