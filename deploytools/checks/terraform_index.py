"""The Terraform files of one run, each parsed once: the configured roots and the local modules
they reference (or, without a configured root, every .tf file in scope).

A module whose local `source` names no folder, and a file python-hcl2 cannot parse, are kept
here for DT000 to report, so a rule never goes quietly blind.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from deploytools.checks.hcl_cache import HclCache
from deploytools.checks.index import FileIndex, IndexedFile
from deploytools.lib.hcl import HclSyntaxError, TfFile, tf_file, unquote

LOCAL_SOURCE = ("./", "../")
_SOURCE = re.compile(r"^\s*source\s*=", re.M)


@dataclass(frozen=True)
class Unparseable:
    rel: str
    line: int
    column: int


@dataclass(frozen=True)
class MissingModule:
    rel: str  # the .tf file that calls the module
    line: int  # the line of its `source`
    module: str
    source: str
    folder: str  # where the source points, relative to the repository root


class TerraformIndex:
    """Parsed Terraform files, the folders they came from and what could not be read."""

    def __init__(
        self,
        index: FileIndex,
        read: Callable[[Path], str],
        cache: HclCache,
        *,
        candidates: Iterable[IndexedFile],
        roots: tuple[str, ...] | None,
    ) -> None:
        self._index, self._read = index, read
        self.files: list[TfFile] = []
        self.unparseable: list[Unparseable] = []
        self.missing_modules: list[MissingModule] = []
        self._rel: dict[Path, str] = {}
        self._cache = cache
        if roots is None:
            for entry in candidates:
                if entry.name.endswith(".tf"):
                    self._parse(entry)
            for tf in list(self.files):
                self._follow(tf)
        else:
            self._walk(roots)

    @property
    def folders(self) -> set[str]:
        return {posixpath.dirname(rel) for rel in self._rel.values()}

    def _walk(self, roots: tuple[str, ...]) -> None:
        queue, seen = list(roots), set(roots)
        while queue:
            folder = queue.pop(0)
            for entry in self._index.in_folder(folder):
                if not entry.name.endswith(".tf"):
                    continue
                tf = self._parse(entry)
                if tf is None:
                    continue
                for module_folder in self._follow(tf):
                    if module_folder not in seen:
                        seen.add(module_folder)
                        queue.append(module_folder)

    def _parse(self, entry: IndexedFile) -> TfFile | None:
        text = self._read(entry.path)
        try:
            tf = tf_file(entry.path, text, self._cache.parse(text))
        except HclSyntaxError as exc:
            self.unparseable.append(Unparseable(entry.rel, exc.line, exc.column))
            return None
        self.files.append(tf)
        self._rel[tf.path] = entry.rel
        return tf

    def _follow(self, tf: TfFile) -> list[str]:
        """The existing local module folders `tf` calls; records the ones that do not exist."""
        rel = self._rel[tf.path]
        here = posixpath.dirname(rel)
        found = []
        for block in tf.blocks:
            source = unquote(str(block.body.get("source", ""))) if block.kind == "module" else ""
            if not source.startswith(LOCAL_SOURCE):
                continue
            folder = posixpath.normpath(posixpath.join(here, source.split("//")[0]))
            if os.path.isdir(self._index.root / folder):
                found.append("" if folder == "." else folder)
                continue
            line = block.span.line if block.span else 1
            if block.span is not None:
                match = _SOURCE.search(tf.text, block.span.start, block.span.end)
                line = tf.line_of(match.start()) if match else line
            self.missing_modules.append(MissingModule(rel, line, block.name, source, folder))
        return found
