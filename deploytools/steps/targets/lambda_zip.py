"""Deterministic Lambda zip packages: same files in, byte-identical zip out.

Entries are sorted, stamped 1980-01-01 (the zip epoch) and given fixed permissions, so the
CodeSha256 changes only when a packaged file does and re-deploying unchanged code is a no-op.
Tests, caches, notebooks, `.env` files and training code are left out by default; a target's
`package.excludes` adds glob patterns (`**` spans folders; a trailing `/` matches folders only;
a pattern without `/` matches a name at any depth, one with `/` the path from `source`).
The package's requirements (lambda_deps) are installed for the function's runtime and merged
in at the zip's root, its own files winning over a dependency's file of the same name.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from deploytools.config.model import LambdaPackage
from deploytools.errors import BadInput
from deploytools.output import Reporter
from deploytools.steps.targets import lambda_deps

DEFAULT_EXCLUDES = (
    "tests/",
    "test/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "__pycache__/",
    "*.pyc",
    "*.pyo",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    "training/",
    ".git/",
    "*.ipynb",
    ".ipynb_checkpoints/",
    ".env*",
    ".DS_Store",
)
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped bytes Lambda accepts in the API call itself
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit for a deployment package, unzipped
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PackageFile:
    name: str  # the entry name: path relative to source, forward slashes
    path: Path
    size: int
    executable: bool


@dataclass(frozen=True)
class ZipPackage:
    path: Path
    code_sha256: str  # base64 of the zip's SHA-256: Lambda's CodeSha256 format
    zipped_size: int
    unzipped_size: int
    file_count: int
    dependencies: str = ""  # what was merged in, e.g. "2 requirement(s) from requirements.txt"

    @property
    def summary(self) -> str:
        text = (
            f"{self.file_count} files, {human_size(self.unzipped_size)} unzipped, "
            f"{human_size(self.zipped_size)} zipped"
        )
        return f"{text}; {self.dependencies}" if self.dependencies else text


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    folders_only: bool
    anchored: bool  # matched against the whole relative path, not just a name

    def matches(self, rel: str, *, is_folder: bool) -> bool:
        if self.folders_only and not is_folder:
            return False
        subject = rel if self.anchored else rel.rsplit("/", 1)[-1]
        return self.regex.fullmatch(subject) is not None


def select_files(source: Path, excludes: Iterable[str] = ()) -> list[PackageFile]:
    """The files a package of `source` holds, sorted by entry name. Writes nothing."""
    if not source.is_dir():
        raise BadInput(f"{source}: the package source folder does not exist")
    patterns = [compile_pattern(p) for p in (*DEFAULT_EXCLUDES, *excludes)]
    selected: list[PackageFile] = []
    for folder, dirs, files in os.walk(source):
        base = Path(folder)
        rel_base = base.relative_to(source).as_posix()
        prefix = "" if rel_base == "." else f"{rel_base}/"
        dirs[:] = sorted(d for d in dirs if not _excluded(patterns, prefix + d, is_folder=True))
        for name in sorted(files):
            rel = prefix + name
            if _excluded(patterns, rel, is_folder=False):
                continue
            path = base / name
            try:
                info = path.stat()  # follows a symlinked file: Lambda gets its content
            except OSError:
                continue  # a dangling symlink has nothing to package
            if stat.S_ISREG(info.st_mode):
                selected.append(PackageFile(rel, path, info.st_size, bool(info.st_mode & 0o111)))
    return sorted(selected, key=lambda f: f.name)


def build_zip(
    source: Path,
    *,
    out: Path,
    excludes: Iterable[str] = (),
    reporter: Reporter | None = None,
    requirements: Path | None = None,
    runtime: str = lambda_deps.DEFAULT_RUNTIME,
    architecture: str = "x86_64",
) -> ZipPackage:
    """Write the zip of `source` with its dependencies to `out`; return its hash and sizes.

    `requirements` names the requirements file (default: the source folder's requirements.txt,
    else its pyproject.toml dependencies); they are installed for `runtime` and `architecture`.
    """
    files = select_files(source, excludes)
    if not files:
        raise BadInput(f"{source}: nothing to package (every file is excluded)")
    installed = _dependencies(source, requirements, runtime=runtime, architecture=architecture)
    if installed is not None:
        files = merge(files, _installed_files(installed.folder))
    unzipped = sum(f.size for f in files)
    if unzipped > UNZIPPED_LIMIT:
        what = f" with {installed.described}" if installed else ""
        fix = "trim its requirements, exclude more files" if installed else "exclude more files"
        raise BadInput(
            f"{source}: the package is {human_size(unzipped)} unzipped{what}; Lambda allows "
            f"{human_size(UNZIPPED_LIMIT)}: {fix} or deploy a container image"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for file in files:
            archive_file(archive, file)
    partial.replace(out)
    digest = hashlib.sha256()
    with out.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    package = ZipPackage(
        path=out,
        code_sha256=base64.b64encode(digest.digest()).decode("ascii"),
        zipped_size=out.stat().st_size,
        unzipped_size=unzipped,
        file_count=len(files),
        dependencies=installed.note if installed else "",
    )
    if reporter is not None:
        reporter.info(f"  zip {source.name}/: {package.summary} (sha256 {package.code_sha256})")
    return package


def build_package(
    root: Path, package: LambdaPackage, *, out: Path, reporter: Reporter | None = None
) -> ZipPackage:
    """build_zip for a target's `package:` section; its paths are relative to `root`, the
    folder of deploytools.yml."""
    return build_zip(
        root / package.source,
        out=out,
        excludes=list(package.excludes),
        reporter=reporter,
        requirements=root / package.requirements if package.requirements else None,
        runtime=package.runtime,
        architecture=package.architecture,
    )


def _dependencies(
    source: Path, requirements: Path | None, *, runtime: str, architecture: str
) -> lambda_deps.InstalledDependencies | None:
    found = lambda_deps.find_requirements(source, requirements)
    if found is None:
        return None
    return lambda_deps.install(found, runtime=runtime, architecture=architecture)


def _installed_files(folder: Path) -> list[PackageFile]:
    return [PackageFile(*entry) for entry in lambda_deps.dependency_files(folder)]


def merge(own: Sequence[PackageFile], dependencies: Sequence[PackageFile]) -> list[PackageFile]:
    """One entry per name, sorted: the package's own file wins over a dependency's."""
    names = {f.name for f in own}
    return sorted([*own, *(d for d in dependencies if d.name not in names)], key=lambda f: f.name)


def archive_file(archive: zipfile.ZipFile, file: PackageFile) -> None:
    info = zipfile.ZipInfo(file.name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so external_attr carries the mode on every host
    mode = 0o755 if file.executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.file_size = file.size  # lets zipfile pick zip64 up front for large files
    with file.path.open("rb") as src, archive.open(info, "w") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def compile_pattern(pattern: str) -> Pattern:
    text = pattern.strip()
    folders_only = text.endswith("/")
    text = text.strip("/") if text.startswith("/") else text.rstrip("/")
    anchored = "/" in text or pattern.startswith("/")
    return Pattern(_translate(text), folders_only, anchored)


@lru_cache(maxsize=512)
def _translate(glob: str) -> re.Pattern[str]:
    """A glob as a regex: `*` and `?` stay within one folder, `**` spans any number."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            body = glob[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out))


def _excluded(patterns: Sequence[Pattern], rel: str, *, is_folder: bool) -> bool:
    return any(p.matches(rel, is_folder=is_folder) for p in patterns)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
