"""The build context: exactly the entries Docker would send, and the tar we send ourselves.

The same list feeds the content tag and the tarball the legacy builder receives, so the tag
describes precisely what was built. Excluded directories are not walked unless a `!` line
could re-include something inside them.
"""

from __future__ import annotations

import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from deploytools.errors import BadInput
from deploytools.lib.dockerignore import DockerIgnore, MatchInfo, go_clean

FILE, DIRECTORY, LINK = "f", "d", "l"


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the context, slash-separated
    kind: str  # FILE, DIRECTORY or LINK
    mode: int  # st_mode (lstat)
    size: int


@dataclass(frozen=True)
class BuildContext:
    """A context folder, its ignore rules and the entries they let through, sorted by path."""

    root: Path
    dockerfile: Path
    ignore: DockerIgnore
    ignore_file: Path | None
    entries: tuple[Entry, ...]

    @property
    def files(self) -> list[str]:
        """Paths of the files and symlinks sent (directories left out)."""
        return [e.path for e in self.entries if e.kind != DIRECTORY]

    @property
    def dockerfile_in_context(self) -> str | None:
        """The Dockerfile's path inside the context, or None when it lives outside."""
        try:
            return self.dockerfile.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None


def ignore_file_for(context: Path, dockerfile: Path) -> Path | None:
    """BuildKit's rule: <Dockerfile>.dockerignore beside the Dockerfile wins over the context's."""
    specific = dockerfile.with_name(dockerfile.name + ".dockerignore")
    if specific.is_file():
        return specific
    general = context / ".dockerignore"
    return general if general.is_file() else None


def load_context(context: Path, dockerfile: Path) -> BuildContext:
    if not context.is_dir():
        raise BadInput(f"build context {context} is not a folder")
    if not dockerfile.is_file():
        raise BadInput(f"Dockerfile {dockerfile} does not exist")
    ignore_file = ignore_file_for(context, dockerfile)
    ignore = DockerIgnore.load(ignore_file, source=_display(ignore_file, context))
    return BuildContext(context, dockerfile, ignore, ignore_file, scan(context, ignore))


def _display(path: Path | None, context: Path) -> str:
    if path is None:
        return ".dockerignore"
    try:
        return path.resolve().relative_to(context.resolve()).as_posix()
    except ValueError:
        return path.name


def scan(context: Path, ignore: DockerIgnore, start: str = "") -> tuple[Entry, ...]:
    """The entries under `start` (a folder inside the context, "" for all) that are sent."""
    entries: list[Entry] = []
    start = "" if start in ("", ".") else go_clean(start)
    info: MatchInfo | None = None
    if start:
        parts = start.split("/")
        for depth in range(1, len(parts) + 1):
            _, info = ignore.evaluate("/".join(parts[:depth]), info)
    rules = bool(ignore.rules)
    stack: list[tuple[str, str, MatchInfo | None]] = [
        (str(context / start) if start else str(context), start + "/" if start else "", info)
    ]
    while stack:
        folder, prefix, parent = stack.pop()
        try:
            listing = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError as exc:
            raise BadInput(f"cannot read {folder} in the build context: {exc}") from exc
        for item in listing:
            rel = prefix + item.name
            excluded = False
            info = None
            if rules:
                decided, info = ignore.evaluate(rel, parent)
                excluded = decided is not None
            st = item.stat(follow_symlinks=False)
            is_dir = stat.S_ISDIR(st.st_mode)
            if excluded:
                if is_dir and ignore.may_include_below(rel):
                    stack.append((item.path, rel + "/", info))
                continue
            if is_dir:
                entries.append(Entry(rel, DIRECTORY, st.st_mode, 0))
                stack.append((item.path, rel + "/", info))
            elif stat.S_ISLNK(st.st_mode):
                entries.append(Entry(rel, LINK, st.st_mode, 0))
            elif stat.S_ISREG(st.st_mode):
                entries.append(Entry(rel, FILE, st.st_mode, st.st_size))
            # sockets, fifos and devices are not sent by Docker either
    entries.sort(key=lambda e: e.path)
    return tuple(entries)


def _normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The docker CLI sends the context owned by root; who ran the build must not matter.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_tar(ctx: BuildContext, fileobj: IO[bytes], *, dockerfile_name: str) -> None:
    """The context as the daemon receives it, plus the Dockerfile under `dockerfile_name`."""
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in ctx.entries:
            tar.add(
                str(ctx.root / entry.path), arcname=entry.path, recursive=False, filter=_normalize
            )
        if dockerfile_name not in {e.path for e in ctx.entries if e.kind == FILE}:
            tar.add(
                str(ctx.dockerfile), arcname=dockerfile_name, recursive=False, filter=_normalize
            )
