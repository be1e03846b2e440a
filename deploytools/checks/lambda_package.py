"""What DT004 asks of a Lambda zip package beyond its size: what the built-in excludes drop
without the target saying so, and whether the configured handler is in it.

The zip's own selection rules (the built-in excludes and their glob matcher) are passed in by
the rule, so this module depends on no step."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

# The built-in excludes that drop code a team may have meant to ship (a runtime script named
# test_query.py, a training/ module the handler imports); caches, .git and .env are never code.
CODE_EXCLUDES = ("tests/", "test/", "test_*.py", "*_test.py", "conftest.py", "training/", "*.ipynb")


class Matcher(Protocol):
    def matches(self, rel: str, *, is_folder: bool) -> bool: ...


class PackageEntry(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> Path: ...


Compile = Callable[[str], Matcher]


def _covered(patterns: Sequence[str], rel: str, compile_pattern: Compile) -> bool:
    """True when a pattern excludes the file or one of its folders."""
    compiled = [compile_pattern(p) for p in patterns]
    parts = rel.split("/")
    folders = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    if any(p.matches(folder, is_folder=True) for p in compiled for folder in folders):
        return True
    return any(p.matches(rel, is_folder=False) for p in compiled)


def dropped_silently(
    source: Path, excludes: Iterable[str], *, defaults: Sequence[str], compile_pattern: Compile
) -> list[str]:
    """Code files the built-in excludes leave out and the target's excludes do not name."""
    own = list(excludes)
    builtin = [p for p in defaults if p in CODE_EXCLUDES]
    skipped = [p for p in defaults if p not in CODE_EXCLUDES]

    def covered(patterns: Sequence[str], rel: str) -> bool:
        return _covered(patterns, rel, compile_pattern)

    found = []
    for folder, dirs, files in os.walk(source):
        rel_base = Path(folder).relative_to(source).as_posix()
        prefix = "" if rel_base == "." else f"{rel_base}/"
        dirs[:] = sorted(d for d in dirs if not covered(skipped, prefix + d + "/x"))
        for name in sorted(files):
            rel = prefix + name
            if covered(builtin, rel) and not covered(own, rel) and not covered(skipped, rel):
                found.append(rel)
    return sorted(found)


def handler_problem(files: Sequence[PackageEntry], handler: str) -> str | None:
    """Why `module.function` cannot run from the package, or None when it can."""
    module, _, function = handler.rpartition(".")
    if not module or not function:
        return f"the handler {handler!r} is not module.function"
    path = module.replace(".", "/")
    candidates = (f"{path}.py", f"{path}/__init__.py")
    held = {f.name: f for f in files}
    entry = next((held[c] for c in candidates if c in held), None)
    if entry is None:
        return f"the handler {handler} needs {candidates[0]}, which the package does not hold"
    try:
        tree = ast.parse(entry.path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None  # not parseable here: the runtime will say more than we can
    if function not in _top_level_names(tree):
        return f"the handler {handler} needs {function} in {entry.name}, which defines none"
    return None


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.If | ast.Try):  # e.g. a handler defined under try/except
            inner = ast.Module(body=[*node.body, *getattr(node, "orelse", [])], type_ignores=[])
            names |= _top_level_names(inner)
    return names
