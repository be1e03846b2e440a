"""One listing of the repository per run: every path made relative once, queried by pattern.

Inside a git work tree the listing is `git ls-files` (tracked plus untracked, minus what
.gitignore excludes); elsewhere a walk of the folder. Either way SKIP_DIRS are left out, and so
is the sandbox's backend override: deploytools writes it for a sandbox run, possibly while
`check` reads the root (a head start), and it is no code of the user's.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from deploytools import proc
from deploytools.errors import DeployError
from deploytools.lib.terraform_sandbox_backend import OVERRIDE_FILE

# Folders no rule should read: dependencies, caches, tool state.
SKIP_DIRS = frozenset({
    ".git", "node_modules", ".terraform", "__pycache__", ".venv", "venv", ".venv-tools",
    ".tools", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".next", "dist", "build",
})  # fmt: skip


def skipped(folder: str) -> bool:
    return folder in SKIP_DIRS or folder.startswith(".venv")


@dataclass(frozen=True)
class IndexedFile:
    full: str  # absolute, under the (resolved) root
    rel: str  # relative to the root, forward slashes
    name: str

    @cached_property
    def path(self) -> Path:
        """Made when a rule asks: most files of a large tree are only matched by name."""
        return Path(self.full)


def _matcher(patterns: Iterable[str]) -> Callable[[str], object]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


class FileIndex:
    """The files of one root, listed once, in path order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.from_git, rels = _listing(root)
        base = str(Path(root, "x"))[:-1]  # the root and one separator, also for "/"
        self.files: list[IndexedFile] = []
        self._folders: dict[str, list[IndexedFile]] = {}
        for rel in sorted(rels):
            folder, _, name = rel.rpartition("/")
            if name == OVERRIDE_FILE:
                continue
            entry = IndexedFile(base + rel, rel, name)
            self.files.append(entry)
            self._folders.setdefault(folder, []).append(entry)
        # By the path's text: hashing a str is far cheaper than hashing a Path (its parts).
        self._by_path = {f.full: f for f in self.files}

    def lookup(self, path: Path) -> IndexedFile | None:
        return self._by_path.get(str(path))

    def in_folder(self, folder: str) -> list[IndexedFile]:
        """The files directly inside `folder` ("" for the root)."""
        return self._folders.get(folder, [])


def matching(files: Iterable[IndexedFile], patterns: Iterable[str]) -> list[IndexedFile]:
    """Files whose name or relative path matches one of the glob patterns."""
    match = _matcher(patterns)
    return [f for f in files if match(f.name) or match(f.rel)]


def below(rel: str, prefixes: Iterable[str]) -> bool:
    """True when `rel` is one of the prefixes or inside one ("" is the whole repository)."""
    return any(not p or rel == p or rel.startswith(p + "/") for p in prefixes)


def _listing(root: Path) -> tuple[bool, list[str]]:
    listed = _git_listing(root)
    if listed is not None:
        return True, listed
    return False, _walk(root)


def _git_listing(root: Path) -> list[str] | None:
    """Relative paths git knows (tracked and untracked, not ignored); None outside a work tree.

    One git process: `-t` tags each path (H tracked, ? untracked, R deleted), and a deleted
    file, listed as tracked too, is left out."""
    try:
        argv = ["git", "-C", str(root), "ls-files", "-z", "-t", "-c", "-o", "-d"]
        listed = proc.run([*argv, "--exclude-standard"], check=False)
    except DeployError:  # git is not installed: the walk does the job
        return None
    if listed.returncode != 0:
        return None
    entries = [entry for entry in listed.stdout.split("\0") if len(entry) > 2]
    gone = {entry[2:] for entry in entries if entry[0] == "R"}
    found = []
    for rel in dict.fromkeys(entry[2:] for entry in entries):
        if rel in gone:
            continue
        if any(skipped(part) for part in rel.split("/")[:-1]):
            continue
        found.append(rel)
    return found


def _walk(root: Path) -> list[str]:
    found: list[str] = []
    base = str(root)
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not skipped(d)]
        rel = os.path.relpath(folder, base)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in files)
    return found
