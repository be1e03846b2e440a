"""A zip Lambda's dependencies: its requirements installed for the function's runtime and
architecture, from binary wheels only, into a folder cached by what decides its content.

pip runs on this machine but installs for Lambda (`--platform manylinux… --implementation cp
--python-version X.Y --only-binary=:all:`), so a wheel built for this machine's Python or libc
never slips in. The cache lives under the user's cache folder, never beside the code; its key
is the requirements' text, the runtime and the architecture, so a second build of the same
requirements calls no pip at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploytools import proc
from deploytools.errors import BadInput, DeployError
from deploytools.lib import user_cache

DEFAULT_RUNTIME = "python3.12"
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name -> the wheel tag's
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CACHE_FORMAT = 1  # part of the key: a change to how folders are made invalidates old ones
PIP_TIMEOUT = 900.0
_RUNTIME = re.compile(r"^python(3)\.(\d+)$")
_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")
_NETWORK = ("Max retries exceeded", "Could not fetch URL", "NewConnectionError", "SSLError")
_SKIPPED_NAMES = ("__pycache__",)
_SKIPPED_SUFFIXES = (".pyc", ".pyo")

PipRunner = Callable[[Sequence[str], dict[str, str]], tuple[int, str]]


class DependencyUnavailable(BadInput):
    """A requirement has no wheel for the function's runtime and architecture."""


class DependencyInstallFailed(DeployError):
    """pip failed for another reason (the index unreachable, a broken requirement file)."""


@dataclass(frozen=True)
class Requirements:
    origin: str  # what the user sees: "requirements.txt", "pyproject.toml [project.dependencies]"
    lines: tuple[str, ...]  # one requirement specifier each, comments and blanks dropped


@dataclass(frozen=True)
class InstalledDependencies:
    folder: Path
    requirements: Requirements
    cached: bool  # True when no pip ran: the folder came from an earlier build

    @property
    def described(self) -> str:
        return f"{len(self.requirements.lines)} requirement(s) from {self.requirements.origin}"

    @property
    def note(self) -> str:
        return f"{self.described} ({'from the cache' if self.cached else 'installed'})"


def find_requirements(source: Path, requirements: Path | None = None) -> Requirements | None:
    """The named file; else the source folder's requirements.txt, else its pyproject.toml
    dependencies; None when the package declares none."""
    if requirements is not None:
        if not requirements.is_file():
            raise BadInput(
                f"package.requirements: {requirements} does not exist; "
                "name the requirements file relative to deploytools.yml"
            )
        return _from_requirements_txt(requirements, origin=requirements.name)
    if (source / "requirements.txt").is_file():
        return _from_requirements_txt(source / "requirements.txt", origin="requirements.txt")
    if (source / "pyproject.toml").is_file():
        return _from_pyproject(source / "pyproject.toml")
    return None


def _from_requirements_txt(path: Path, *, origin: str) -> Requirements | None:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return Requirements(origin, tuple(lines)) if lines else None


def _from_pyproject(path: Path) -> Requirements | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(
            f"{path}: not valid TOML ({exc}); fix it or name package.requirements"
        ) from exc
    dependencies = data.get("project", {}).get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise BadInput(f"{path}: [project] dependencies must be a list of requirement strings")
    if not dependencies:
        return None
    return Requirements("pyproject.toml [project.dependencies]", tuple(dependencies))


def python_version(runtime: str) -> str:
    """`python3.12` -> `3.12`; only Python runtimes have requirements pip can install."""
    match = _RUNTIME.match(runtime)
    if not match:
        raise BadInput(
            f"package.runtime: {runtime} is not a Python runtime (such as {DEFAULT_RUNTIME}); "
            "dependencies are installed for Python runtimes only"
        )
    return f"{match[1]}.{match[2]}"


def wheel_platforms(runtime: str, architecture: str) -> tuple[str, ...]:
    """The manylinux tags the runtime's glibc accepts: Amazon Linux 2023 (Python 3.12 and
    later) has glibc 2.34, Amazon Linux 2 (earlier ones) glibc 2.26."""
    if architecture not in ARCHITECTURES:
        raise BadInput(
            f"package.architecture: {architecture} is not a Lambda architecture; "
            f"allowed: {', '.join(ARCHITECTURES)}"
        )
    machine = ARCHITECTURES[architecture]
    platforms = [f"manylinux2014_{machine}"]
    if int(python_version(runtime).split(".")[1]) >= 12:
        platforms.append(f"manylinux_2_28_{machine}")
    return tuple(platforms)


def cache_root() -> Path:
    """The user's cache folder (never the repository): $XDG_CACHE_HOME or ~/.cache."""
    return user_cache.cache_root() / "lambda-dependencies"


def cache_key(requirements: Requirements, *, runtime: str, architecture: str) -> str:
    material = json.dumps(
        {
            "format": CACHE_FORMAT,
            "requirements": list(requirements.lines),
            "runtime": runtime,
            "architecture": architecture,
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def install(
    requirements: Requirements,
    *,
    runtime: str,
    architecture: str,
    run_pip: PipRunner | None = None,
) -> InstalledDependencies:
    """The folder holding the installed requirements, from the cache when it has them."""
    platforms = wheel_platforms(runtime, architecture)
    key = cache_key(requirements, runtime=runtime, architecture=architecture)
    root = cache_root()
    folder = root / key
    if folder.is_dir():
        return InstalledDependencies(folder, requirements, cached=True)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        target = staging / "site"
        listing = staging / "requirements.txt"
        listing.write_text("\n".join(requirements.lines) + "\n", encoding="utf-8")
        args = [
            sys.executable, "-m", "pip", "install",
            *[arg for platform in platforms for arg in ("--platform", platform)],
            "--implementation", "cp",
            "--python-version", python_version(runtime),
            "--only-binary=:all:",
            "--target", str(target),
            "--no-compile",  # .pyc files of this machine's Python: Lambda's makes its own
            "--disable-pip-version-check", "--no-input",
            "-r", str(listing),
        ]  # fmt: skip
        returncode, output = (run_pip or _run_pip)(args, _pip_env())
        if returncode != 0:
            raise _failure(requirements, runtime=runtime, platforms=platforms, output=output)
        target.mkdir(exist_ok=True)  # requirements that install no file still make a folder
        try:
            target.rename(folder)  # atomic: a concurrent build sees all of it or nothing
        except OSError:
            if not folder.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return InstalledDependencies(folder, requirements, cached=False)


def _pip_env() -> dict[str, str]:
    """pip verifies the index with this machine's CA bundle where it has one."""
    env: dict[str, str] = {"PIP_REQUIRE_VIRTUALENV": "0"}
    if CA_BUNDLE.is_file():
        for name in ("SSL_CERT_FILE", "PIP_CERT"):
            env[name] = os.environ.get(name) or str(CA_BUNDLE)
    return env


def _run_pip(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    result = proc.run(args, env=env, check=False, timeout=PIP_TIMEOUT)
    return result.returncode, (result.stderr or "") + (result.stdout or "")


def _failure(
    requirements: Requirements, *, runtime: str, platforms: Sequence[str], output: str
) -> DeployError:
    missing = _NOT_FOUND.search(output)
    if missing:
        return DependencyUnavailable(
            f"{requirements.origin}: no binary wheel of {missing[1]} for {runtime} on "
            f"{' or '.join(platforms)}; pin a version that publishes one (see its files on "
            "PyPI), or deploy the function as a container image built from the runtime image"
        )
    if any(marker in output for marker in _NETWORK):
        return DependencyInstallFailed(
            f"{requirements.origin}: pip could not reach the package index; check the network "
            "or PIP_INDEX_URL, then deploy again"
        )
    tail = "\n".join(output.strip().splitlines()[-10:])
    return DependencyInstallFailed(f"{requirements.origin}: pip install failed:\n{tail}")


def dependency_files(folder: Path) -> list[tuple[str, Path, int, bool]]:
    """(entry name, path, size, executable) of every file in an installed folder, sorted."""
    found: list[tuple[str, Path, int, bool]] = []
    for current, dirs, files in os.walk(folder):
        base = Path(current)
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_NAMES)
        for name in files:
            if name.endswith(_SKIPPED_SUFFIXES):
                continue
            path = base / name
            info = path.stat()
            if stat.S_ISREG(info.st_mode):
                rel = path.relative_to(folder).as_posix()
                found.append((rel, path, info.st_size, bool(info.st_mode & 0o111)))
    return sorted(found)
