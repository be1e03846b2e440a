"""Stand-ins for `FROM python:X.Y[-slim]` bases an engine has no way to pull.

An engine without a bridge network is one whose containers reach loopback only (as on the
sandbox machine): deploytools does not ask it to pull from Docker Hub. A `python:X.Y` or
`python:X.Y-slim` base it lacks is made on demand from the local Debian root filesystem image
(`deploytools/python:3-local`, from `scripts/services up --python-base`) and tagged with the
name the Dockerfile uses, with pip and this machine's CA bundle (SSL_CERT_FILE and PIP_CERT
point at the copy inside the image: the package index answers a host-network container over
HTTPS only with this machine's bundle). It carries Debian's Python, whatever version the
name asks for, is labelled `org.deploytools.standin=true`, and every build that uses one says
so once. Any other base such an engine lacks stops the build before the engine is asked for
it, in one line naming the base and how to get it (`docker load`, or the stand-ins
scripts/base-images makes). An engine with a bridge pulls bases as it always does; nothing
is made there.
"""

from __future__ import annotations

import glob
import io
import os
import re
import sys
import tarfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploytools import proc
from deploytools.lib import dockerfile as dockerfile_grammar
from deploytools.lib.user_cache import cache_root
from deploytools.steps.images.errors import BuildFailed

LOCAL_PYTHON = "deploytools/python:3-local"
STANDIN_LABEL = "org.deploytools.standin"
FOR_LABEL = "org.deploytools.standin.for"
PYTHON_LABEL = "org.deploytools.standin.python"
CA_IN_IMAGE = "/etc/ssl/certs/ca-certificates.crt"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
SYSTEM_WHEELS = "/usr/share/python-wheels"  # Debian's python3-pip-whl
MAKE_HINT = f"run `bash scripts/services up --python-base` (it makes {LOCAL_PYTHON})"
# The bases scripts/base-images makes stand-ins for (the examples' own).
SCRIPT_STANDINS = ("python:3.12-slim", "public.ecr.aws/lambda/python:3.12")
_PYTHON_REF = re.compile(
    r"^(?:docker\.io/)?(?:library/)?python:3\.\d+(?:\.\d+)?(?:-slim)?(?:-(?:bookworm|bullseye))?$"
)
_ARG_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_LOCK = threading.Lock()  # concurrent image builds make one stand-in once

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Base:
    image: str  # as the FROM line names it, build args resolved
    line: int


def is_python_base(image: str) -> bool:
    """`python:X.Y`, `python:X.Y-slim` (optionally `.Z`, `-bookworm`): what a stand-in serves."""
    return _PYTHON_REF.match(image) is not None


def base_images(text: str, build_args: Mapping[str, str]) -> list[Base]:
    """The images FROM lines pull, in order: not `scratch`, not an earlier stage's name."""
    instructions = dockerfile_grammar.parse(text)
    defaults: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, value = instruction.arguments.partition("=")
            defaults[name.strip()] = value.strip().strip("\"'")
    values = {**defaults, **build_args}
    stages: set[str] = set()
    found: list[Base] = []
    for stage in dockerfile_grammar.stages(instructions):
        image = _ARG_REF.sub(lambda m: _arg(m, values), stage.image)
        if image and image.lower() != "scratch" and image.lower() not in stages:
            found.append(Base(image, stage.instruction.line))
        if stage.name:
            stages.add(stage.name.lower())
    return found


def _arg(match: re.Match[str], values: Mapping[str, str]) -> str:
    name = match[1] or match[3]
    return values.get(name) or (match[2] or "")


class StandIns:
    """One builder's stand-ins: made when missing, each named once in that builder's output."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._client_factory = client_factory
        self._named: set[str] = set()

    def prepare(
        self, name: str, dockerfile: Path, *, build_args: Mapping[str, str], platform: str,
        progress: Progress,
    ) -> None:  # fmt: skip
        """Make sure every base of `dockerfile` is local: python ones get stand-ins; any
        other missing one is BuildFailed, before the engine tries to pull it."""
        bases = base_images(_read(dockerfile), build_args)
        if not bases:
            return
        client = self._client_factory()
        for base in bases:
            if not is_python_base(base.image):
                if not _on_loopback(base.image) and _local(client, base.image) is None:
                    raise missing_base(name, base)
                continue
            image = _local(client, base.image) or self._make(client, name, base, platform)
            labels = image.labels or {}
            if labels.get(STANDIN_LABEL) == "true" and base.image not in self._named:
                self._named.add(base.image)
                progress(
                    f"{base.image} is not available here: using a stand-in with Python "
                    f"{labels.get(PYTHON_LABEL, '3')} from {LOCAL_PYTHON} "
                    f"(labelled {STANDIN_LABEL}=true)"
                )

    def _make(self, client: Any, name: str, base: Base, platform: str) -> Any:
        with _LOCK:
            image = _local(client, base.image)  # another build may have made it meanwhile
            if image is not None:
                return image
            where = f"image {name}: FROM {base.image} (line {base.line})"
            local = _local(client, LOCAL_PYTHON)
            if local is None:
                raise BuildFailed(
                    f"{where} is not available here and this engine cannot pull it; "
                    f"{MAKE_HINT} so deploytools can make a stand-in, or `docker load` the image"
                )
            arch = f"{local.attrs.get('Os', 'linux')}/{local.attrs.get('Architecture', '')}"
            if arch != platform:
                raise BuildFailed(
                    f"{where} for {platform} is not available here, and the stand-in base "
                    f"{LOCAL_PYTHON} is {arch}: build for {arch}, or `docker load` the image"
                )
            import docker.errors

            try:
                version = _python_version(client)
                _build(client, _standin_context(base.image, version, where), tag=base.image,
                       where=where)  # fmt: skip
            except docker.errors.DockerException as exc:
                raise BuildFailed(f"{where}: making its stand-in failed: {exc}") from exc
            made = _local(client, base.image)
            if made is None:
                raise BuildFailed(f"{where}: the stand-in build reported no image")
            return made


def _read(dockerfile: Path) -> str:
    try:
        return dockerfile.read_text(encoding="utf-8")
    except OSError:
        return ""  # the build itself reports a missing Dockerfile


def missing_base(name: str, base: Base) -> BuildFailed:
    """A base this engine lacks and cannot pull, with how to get it here."""
    where = f"image {name}: FROM {base.image} (line {base.line})"
    if base.image in SCRIPT_STANDINS:
        fix = "run `bash scripts/base-images` (it makes stand-ins for " + ", ".join(SCRIPT_STANDINS)
        fix += ")"
    else:
        fix = "`docker load` it (saved with `docker save` where it can be pulled)"
    return BuildFailed(
        f"{where} is not on this engine, which cannot pull images here (no bridge network, "
        f"no registry access); {fix}, or base the image on python:X.Y[-slim], which gets a "
        "stand-in"
    )


def _on_loopback(image: str) -> bool:
    """A base in a loopback registry (the sandbox's): the engine can pull that one."""
    host = image.split("/", 1)[0] if "/" in image else ""
    return host.split(":", 1)[0] in ("localhost", "::1") or host.startswith("127.")


def _local(client: Any, ref: str) -> Any:
    import docker.errors

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def _python_version(client: Any) -> str:
    """Debian's Python in the root filesystem, X.Y (run once, with no network)."""
    out = client.containers.run(
        LOCAL_PYTHON,
        ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        network_mode="none",
        remove=True,
    )
    return bytes(out).decode().strip()


def _standin_context(image: str, version: str, where: str) -> bytes:
    """The build context of a stand-in: a Dockerfile, the CA bundle and a pip wheel."""
    bundle = _ca_bundle(where)
    wheel = _pip_wheel(where)
    dockerfile = "\n".join(
        [
            f"FROM {LOCAL_PYTHON}",
            f"COPY ca-certificates.crt {CA_IN_IMAGE}",
            f"COPY {wheel.name} /tmp/{wheel.name}",
            # Official python images have no EXTERNALLY-MANAGED marker, pip on PATH and a
            # `python` command; Debian's interpreter gets the same.
            "RUN rm -f /usr/lib/python3*/EXTERNALLY-MANAGED"
            f" && python3 /tmp/{wheel.name}/pip install --no-index --no-cache-dir"
            f" --disable-pip-version-check --no-compile /tmp/{wheel.name}"
            f" && rm -f /tmp/{wheel.name}"
            " && ln -sf /usr/bin/python3 /usr/local/bin/python",
            f"ENV SSL_CERT_FILE={CA_IN_IMAGE} PIP_CERT={CA_IN_IMAGE}"
            " PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1",
            f'LABEL {STANDIN_LABEL}="true" {FOR_LABEL}="{image}" {PYTHON_LABEL}="{version}"',
            "",
        ]
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for entry, data in (
            ("Dockerfile", dockerfile.encode()),
            ("ca-certificates.crt", bundle.read_bytes()),
            (wheel.name, wheel.read_bytes()),
        ):
            info = tarfile.TarInfo(entry)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _ca_bundle(where: str) -> Path:
    for candidate in (os.environ.get("SSL_CERT_FILE"), str(HOST_CA_BUNDLE)):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise BuildFailed(
        f"{where} needs a stand-in, and this machine has no CA bundle at {HOST_CA_BUNDLE} "
        "to put in it: apt-get install ca-certificates (or set SSL_CERT_FILE)"
    )


def _pip_wheel(where: str) -> Path:
    """Debian's pip wheel where installed, else one downloaded once into the user's cache."""
    system = sorted(glob.glob(f"{SYSTEM_WHEELS}/pip-*-py3-none-any.whl"))
    if system:
        return Path(system[-1])
    folder = cache_root() / "wheels"
    cached = sorted(folder.glob("pip-*-py3-none-any.whl"))
    if cached:
        return cached[-1]
    folder.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    if HOST_CA_BUNDLE.is_file():
        for name in ("SSL_CERT_FILE", "PIP_CERT"):
            env[name] = os.environ.get(name) or str(HOST_CA_BUNDLE)
    result = proc.run(
        [sys.executable, "-m", "pip", "download", "pip", "--only-binary=:all:", "--no-deps",
         "--disable-pip-version-check", "-d", str(folder)],
        env=env, check=False, timeout=300,
    )  # fmt: skip
    cached = sorted(folder.glob("pip-*-py3-none-any.whl"))
    if result.returncode != 0 or not cached:
        raise BuildFailed(
            f"{where} needs a stand-in with pip, and no pip wheel could be had "
            f"({SYSTEM_WHEELS} has none; pip download failed); "
            "apt-get install python3-pip-whl, then build again"
        )
    return cached[-1]


def _build(client: Any, context: bytes, *, tag: str, where: str) -> None:
    stream = client.api.build(
        fileobj=io.BytesIO(context),
        custom_context=True,
        tag=tag,
        network_mode="none",  # everything it needs is in its context
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
    )
    lines: list[str] = []
    for chunk in stream:
        if "error" in chunk or "errorDetail" in chunk:
            error = str(chunk.get("error") or chunk["errorDetail"].get("message", "")).strip()
            tail = "\n".join(lines[-10:])
            raise BuildFailed(f"{where}: making its stand-in failed: {error}\n{tail}")
        lines.extend(str(chunk.get("stream", "")).splitlines())
