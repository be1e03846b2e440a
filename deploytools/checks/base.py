"""The rule framework: rules registered by id, each a function of files and config."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from deploytools.config.loader import LoadedConfig


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    file: str  # relative to the repository root, forward slashes
    line: int
    rule: str
    message: str  # one line
    fix: str = ""
    severity: Severity = Severity.ERROR

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
        }


# Folders no rule should read: dependencies, caches, tool state.
SKIP_DIRS = {
    ".git", "node_modules", ".terraform", "__pycache__", ".venv", "venv", ".venv-tools",
    ".tools", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".next", "dist", "build",
}  # fmt: skip


@dataclass
class CheckContext:
    """What a rule may look at: the repository's files and the (valid) config, if any."""

    root: Path
    config: LoadedConfig | None = None
    config_problems: list[str] = field(default_factory=list)

    @cached_property
    def all_files(self) -> list[Path]:
        found: list[Path] = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv"))
            found.extend(Path(folder, name) for name in sorted(files))
        return found

    def files(self, *patterns: str) -> Iterator[Path]:
        """Files whose name (or path relative to root) matches one of the glob patterns."""
        for path in self.all_files:
            rel = self.rel(path)
            if any(fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(rel, p) for p in patterns):
                yield path

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


RuleFunction = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    description: str
    severity: Severity
    run: RuleFunction


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, title: str, *, description: str = "", severity: Severity = Severity.ERROR
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule; its id is stable and appears in every finding."""

    def register(function: RuleFunction) -> RuleFunction:
        if rule_id in REGISTRY and REGISTRY[rule_id].run is not function:
            raise RuntimeError(f"rule {rule_id} is registered twice")
        name = function.__name__.strip("_").replace("_", "-")
        REGISTRY[rule_id] = Rule(rule_id, name, title, description, severity, function)
        return function

    return register
