"""The files a Lambda zip package holds: the built-in excludes plus a target's own.

Tests, caches, notebooks, `.env` files and training code are left out by default; a target's
`package.excludes` adds glob patterns (`**` spans folders; a trailing `/` matches folders only;
a pattern without `/` matches a name at any depth, one with `/` the path from `source`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from deploytools.errors import BadInput

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
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit for a deployment package, unzipped


@dataclass(frozen=True)
class PackageFile:
    name: str  # the entry name: path relative to source, forward slashes
    path: Path
    size: int
    executable: bool


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
    inside = source.resolve()
    selected: list[PackageFile] = []
    for folder, dirs, files in os.walk(source):
        base = Path(folder)
        rel_base = base.relative_to(source).as_posix()
        prefix = "" if rel_base == "." else f"{rel_base}/"
        dirs[:] = sorted(d for d in dirs if not _excluded(patterns, prefix + d, is_folder=True))
        for name in dirs:
            _refuse_escaping_link(source, base / name, prefix + name, inside)
        for name in sorted(files):
            rel = prefix + name
            if _excluded(patterns, rel, is_folder=False):
                continue
            path = base / name
            _refuse_escaping_link(source, path, rel, inside)
            try:
                info = path.stat()  # follows a symlinked file: Lambda gets its content
            except OSError:
                continue  # a dangling symlink has nothing to package
            if stat.S_ISREG(info.st_mode):
                selected.append(PackageFile(rel, path, info.st_size, bool(info.st_mode & 0o111)))
    return sorted(selected, key=lambda f: f.name)


def _refuse_escaping_link(source: Path, path: Path, rel: str, inside: Path) -> None:
    """A symlink out of the source folder would put a file of the machine into the zip."""
    if path.is_symlink() and not path.resolve().is_relative_to(inside):
        raise BadInput(
            f"{source}: {rel} is a symlink that leaves the package source folder; copy the "
            "file into the folder or exclude it"
        )


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
