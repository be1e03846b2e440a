"""The rule framework: rules registered by id, each a function of files and config."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from deploytools.checks.hcl_cache import HclCache
from deploytools.checks.index import FileIndex, IndexedFile, below, matching
from deploytools.checks.scope import Scope, relative
from deploytools.checks.terraform_index import TerraformIndex
from deploytools.config.loader import LoadedConfig
from deploytools.lib.hcl import TfFile


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


@dataclass
class CheckContext:
    """What a rule may look at: the repository's files and the (valid) config, if any.

    `root` is the repository root: every finding's path is relative to it. `scope` limits what
    the rules read to what the config names (None: the whole repository). The listing and the
    parsed Terraform files are made once per context and shared by every rule.
    """

    root: Path
    config: LoadedConfig | None = None
    config_problems: list[str] = field(default_factory=list)
    scope: Scope | None = None
    config_path: Path | None = None  # the config file, also when it is invalid

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        if self.config_path is None and self.config is not None:
            self.config_path = self.config.path

    @cached_property
    def index(self) -> FileIndex:
        return FileIndex(self.root)

    @cached_property
    def cache(self) -> HclCache:
        """What this run parses or scans, by content, for the next run (see hcl_cache)."""
        return HclCache(self.root)

    @cached_property
    def terraform(self) -> TerraformIndex:
        roots = None if self.scope is None else self.scope.terraform_roots
        return TerraformIndex(
            self.index, self.read, self.cache, candidates=self._in_scope, roots=roots
        )

    @cached_property
    def _in_scope(self) -> list[IndexedFile]:
        if self.scope is None:
            return self.index.files
        paths = self.scope.paths
        return [f for f in self.index.files if below(f.rel, paths)]

    @cached_property
    def _scoped(self) -> list[IndexedFile]:
        """The files in scope, the folders of the Terraform the config names included."""
        if self.scope is None or self.scope.terraform_roots is None:
            return self._in_scope
        folders = self.terraform.folders
        extra = {f.rel for folder in folders for f in self.index.in_folder(folder)}
        known = {f.rel for f in self._in_scope}
        if extra <= known:
            return self._in_scope
        return [f for f in self.index.files if f.rel in known or f.rel in extra]

    @cached_property
    def all_files(self) -> list[Path]:
        return [f.path for f in self._scoped]

    def files(self, *patterns: str) -> Iterator[Path]:
        """Files in scope whose name (or path relative to root) matches one of the globs."""
        if patterns not in self._queries:
            self._queries[patterns] = [f.path for f in matching(self._scoped, patterns)]
        return iter(self._queries[patterns])

    @cached_property
    def _queries(self) -> dict[tuple[str, ...], list[Path]]:
        return {}

    def terraform_files(self) -> list[TfFile]:
        """The Terraform files in scope, parsed once per run."""
        return self.terraform.files

    def save_caches(self) -> None:
        """Keep for the next run what this one parsed (nothing, if it read no Terraform)."""
        if "cache" in self.__dict__:
            self.cache.save()

    def rel(self, path: Path) -> str:
        """The path relative to the repository root, forward slashes."""
        known = self.index.lookup(path)
        if known is not None:
            return known.rel
        absolute = path if path.is_absolute() else self.root / path
        rel = relative(absolute, self.root)
        if rel.startswith(".."):
            try:
                rel = relative(absolute.resolve(), self.root)
            except OSError:
                return path.as_posix()
        return path.as_posix() if rel.startswith("..") else rel

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
    needs_config: bool = False  # reads targets or other config; skipped without one


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str,
    title: str,
    *,
    description: str = "",
    severity: Severity = Severity.ERROR,
    needs_config: bool = False,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule; its id is stable and appears in every finding."""

    def register(function: RuleFunction) -> RuleFunction:
        if rule_id in REGISTRY and REGISTRY[rule_id].run is not function:
            raise RuntimeError(f"rule {rule_id} is registered twice")
        name = function.__name__.strip("_").replace("_", "-")
        REGISTRY[rule_id] = Rule(
            rule_id, name, title, description, severity, function, needs_config
        )
        return function

    return register
