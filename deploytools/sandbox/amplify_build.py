"""The BUILD step of the sandbox's Amplify jobs: the build spec's commands, run in a container.

For the application whose `appRoot` is the app's root (AMPLIFY_MONOREPO_APP_ROOT), the
`frontend.phases.preBuild.commands` then `frontend.phases.build.commands` run in one shell in
a container of the Node image (deploytools.sandbox.node_image: Debian's Node 18, npm and
corepack from registry.npmjs.org), `--network host` so that npm, pnpm and corepack reach the
npm registry over HTTPS (nothing listens there), in a copy of the source (without
node_modules, .git, .next and .pnpm-store) under /src, with the app's and the branch's
environment variables. Then `frontend.artifacts.baseDirectory` must exist and, on
WEB_COMPUTE, hold a Next.js server build (`server/` or `standalone/`). A command that exits
non-zero fails the step with its exit code, the first error line it printed (next's
`Error: …`, pnpm's `ERR_PNPM_…`) and the output's tail as the log.

Builds reuse what earlier ones made, as Amplify's caches do between jobs: the builder's cache
folder (the sandbox's: $DEPLOYTOOLS_SANDBOX_BUILD_CACHE, default
~/.cache/deploytools/amplify-builds) is mounted at /cache and holds npm's cache, pnpm's store
and corepack's package managers (so a second build downloads nothing) and, per app
(repository and app root), the folders of the spec's `frontend.cache.paths` (`.next/cache`:
next's compiler cache), restored before the commands and saved after a build that passed.
A build that passed leaves its baseDirectory (without `cache/`) in the builder's artifacts
folder, under the job's name (the sandbox's: <sandbox dir>/amplify-artifacts/<appId>/<branch>/
<jobId>).

The source is the repository when it is a local path (or `file://` URL), else the folder the
builder was given (the sandbox's: $DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE, default the folder the
sandbox started in). Simulated, and said so in the step's reason: the build when no Docker
engine answers, the Node image is missing (deploytools.sandbox.node_image makes the default
one when it can), or the app root is not in the source.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import shutil
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
CACHE_MOUNT = "/cache"
CACHE_ENVIRONMENT = {
    "npm_config_cache": f"{CACHE_MOUNT}/npm",
    "npm_config_store_dir": f"{CACHE_MOUNT}/pnpm-store",  # pnpm reads npm_config_* too
    "COREPACK_HOME": f"{CACHE_MOUNT}/corepack",
}
# The lines a failing tool prints its error on: node's and next's `Error: …` (after next's
# cross marks too) and `Type error: …`, npm's `npm error …`, pnpm's `ERR_PNPM_…`.
ERROR_LINE = re.compile(
    r"^\s*(?:[\u2a2f\u00d7x]\s+)?(?:[A-Z]\w*Error:|Error:|Type error:|npm error |ERR_PNPM_\w+)"
)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ERROR_WIDTH = 300  # characters of the error line kept in the reason


@dataclass(frozen=True)
class BuildRequest:
    build_spec: str
    app_root: str
    repository: str
    platform: str
    environment: dict[str, str] = field(default_factory=dict)
    job: str = ""  # the artifacts' folder name, e.g. {appId}/{branch}/{jobId}


@dataclass(frozen=True)
class BuildOutcome:
    ok: bool
    reason: str  # why it failed, or `simulated: …`; "" for a build that ran and passed
    log: str
    artifacts: Path | None = None  # the baseDirectory's copy, for a build that passed

    @property
    def simulated(self) -> bool:
        return self.reason.startswith("simulated:")


class Builder(Protocol):
    def build(self, request: BuildRequest) -> BuildOutcome: ...


def default_cache() -> Path:
    """The sandbox's build cache: shared by its builds, kept when the sandbox stops."""
    default = Path.home() / ".cache" / "deploytools" / "amplify-builds"
    return Path(os.environ.get("DEPLOYTOOLS_SANDBOX_BUILD_CACHE") or default)


def simulated(why: str) -> BuildOutcome:
    reason = f"simulated: the build commands were not run ({why})"
    return BuildOutcome(True, reason, reason + "\n")


class ContainerBuilder:
    """Runs builds on a Docker engine in `image` (one with sh, node and npm); `cache` is
    mounted at /cache for the package managers, `artifacts` receives what passed builds made."""

    def __init__(
        self,
        client: Any,
        image: str,
        source: Path,
        sandbox: str,
        make_image: Callable[[], str | None] | None = None,
        cache: Path | None = None,
        artifacts: Path | None = None,
    ) -> None:
        self.client = client
        self.image = image
        self.source = source
        self.sandbox = sandbox
        self.make_image = make_image  # makes a missing image; why it could not, or None
        self.cache = cache
        self.artifacts = artifacts

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
        cached = cache_paths(request.build_spec, request.app_root) if self.cache else []
        script = build_script(commands, base, request.platform == "WEB_COMPUTE", cached)
        workdir = "/src/" + request.app_root if request.app_root else "/src"
        env = {**request.environment, "AMPLIFY_MONOREPO_APP_ROOT": request.app_root}
        volumes: dict[str, dict[str, str]] = {}
        if self.cache is not None:
            self.cache.mkdir(parents=True, exist_ok=True)
            volumes[str(self.cache)] = {"bind": CACHE_MOUNT, "mode": "rw"}
            app = hashlib.sha256(f"{request.repository}\0{request.app_root}".encode())
            env = {
                **CACHE_ENVIRONMENT,
                "DEPLOYTOOLS_BUILD_CACHE": f"{CACHE_MOUNT}/apps/{app.hexdigest()[:16]}",
                **env,
            }
        container = self.client.containers.create(
            self.image,
            command=["sh", "-c", script],
            working_dir="/",
            environment={**env, "DEPLOYTOOLS_BUILD_DIR": workdir},
            labels={SANDBOX_LABEL: self.sandbox, "deploytools.workload": "amplify-build"},
            network_mode="host",
            volumes=volumes,
        )
        saved: Path | None = None
        try:
            container.put_archive("/", _archive(source))
            container.start()
            code = int(container.wait(timeout=BUILD_TIMEOUT).get("StatusCode", 1))
            output = ANSI.sub("", container.logs().decode("utf-8", "replace"))
            if code == 0 and self.artifacts is not None and request.job:
                saved = self._save(container, f"{workdir}/{base}", self.artifacts / request.job)
        finally:
            container.remove(force=True)
        tail = "\n".join(output.splitlines()[-LOG_TAIL:]) + "\n"
        if code == 0:
            if saved is not None:
                tail += f"# artifacts ({base}) saved to {saved}\n"
            return BuildOutcome(True, "", tail, saved)
        return BuildOutcome(False, f"BUILD failed: {failure(output, code)}", tail)

    def _save(self, container: Any, inside: str, folder: Path) -> Path:
        """Copy the container's `inside` folder (without next's `cache/`) to `folder`."""
        chunks, _ = container.get_archive(inside)
        data = io.BytesIO(b"".join(chunks))
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        with tarfile.open(fileobj=data) as tar:
            top = Path(inside).name
            members = []
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if parts[:1] != (top,) or parts[1:2] == ("cache",):
                    continue
                member.name = str(Path(*parts[1:])) if len(parts) > 1 else "."
                members.append(member)
            tar.extractall(folder, members=members, filter="data")
        return folder

    def _source(self, repository: str) -> Path:
        local = repository.removeprefix("file://")
        if local.startswith("/") and Path(local).is_dir():
            return Path(local)
        return self.source


def failure(output: str, code: int) -> str:
    """Why the build failed: the artifact checks' message, or the failing command with the
    first error line it printed."""
    lines = output.splitlines()
    said = [line[4:] for line in lines if line.startswith("!!! ")]
    if said and not said[-1].startswith("command "):
        return said[-1]
    starts = [n for n, line in enumerate(lines) if line.startswith(STARTED)]
    if said:
        why = said[-1]
    elif starts:  # the command ended the shell itself (`exit 3`)
        why = f"command {lines[starts[-1]][len(STARTED) :]} exited with code {code}"
    else:
        why = f"the build exited with code {code}"
    printed = lines[starts[-1] + 1 :] if starts else lines
    errors = [line.strip() for line in printed if ERROR_LINE.match(line)]
    return f"{why}: {errors[0][:ERROR_WIDTH]}" if errors else why


def phases(build_spec: str, app_root: str) -> tuple[list[str], str]:
    """The preBuild and build commands and the artifacts' baseDirectory for `app_root`."""
    frontend = _frontend(build_spec, app_root)
    commands: list[str] = []
    for phase in ("preBuild", "build"):
        commands += [str(c) for c in ((frontend.get("phases") or {}).get(phase) or {}).get(
            "commands"
        ) or []]  # fmt: skip
    base = str((frontend.get("artifacts") or {}).get("baseDirectory") or "")
    if not base:
        raise ValueError("sets no frontend.artifacts.baseDirectory")
    return commands, base


def cache_paths(build_spec: str, app_root: str) -> list[str]:
    """The folders of `frontend.cache.paths` (`.next/cache/**/*` is `.next/cache`), relative
    to the app root; a path outside it is not cached."""
    paths = (_frontend(build_spec, app_root).get("cache") or {}).get("paths") or []
    folders: list[str] = []
    for path in paths:
        folder = re.sub(r"(/\*\*?)+(/\*)?$", "", str(path).strip()).rstrip("/")
        inside = not folder.startswith("/") and ".." not in Path(folder).parts
        if folder and inside and "*" not in folder and folder not in folders:
            folders.append(folder)
    return folders


def _frontend(build_spec: str, app_root: str) -> dict[str, Any]:
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
    return dict(app.get("frontend") or {})


def build_script(
    commands: list[str], base: str, server_build: bool, cached: list[str] | None = None
) -> str:
    """One shell session, as Amplify runs a phase: the `cached` folders restored from
    $DEPLOYTOOLS_BUILD_CACHE, each command echoed, the first failure named with its exit
    code, the artifact checks, then the cached folders saved for the next build."""
    lines = ['cd "$DEPLOYTOOLS_BUILD_DIR" || exit 1']
    for folder in cached or []:
        kept, here = f'"$DEPLOYTOOLS_BUILD_CACHE"/{shlex.quote(folder)}', shlex.quote(folder)
        lines.append(
            f'if [ -d {kept} ] && [ ! -e {here} ]; then mkdir -p "$(dirname {here})" '
            f"&& cp -a {kept} {here} && echo {shlex.quote(f'# Restored cache {folder}')} "
            f"|| echo {shlex.quote(f'# Cache {folder} not restored')}; fi"
        )
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
    for folder in cached or []:
        kept, here = f'"$DEPLOYTOOLS_BUILD_CACHE"/{shlex.quote(folder)}', shlex.quote(folder)
        saving = f'"$DEPLOYTOOLS_BUILD_CACHE"/{shlex.quote(folder + ".saving")}'
        lines.append(
            f'if [ -d {here} ]; then mkdir -p "$(dirname {kept})" && rm -rf {saving} '
            f"&& cp -a {here} {saving} && rm -rf {kept} && mv {saving} {kept} "
            f"&& echo {shlex.quote(f'# Saved cache {folder}')} "
            f"|| echo {shlex.quote(f'# Cache {folder} not saved')}; fi"
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
