"""Variables a job gets per run: what submitting code passes in `containerOverrides`.

An API that starts the Batch trainer (`batch.submit_job(containerOverrides={"environment":
[{"name": "LEARNING_RATE", ...}]})`) or an ECS task (`ecs.run_task(overrides={
"containerOverrides": [{"environment": [...]}]})`) sets those variables for that run, so the
job's target need not set them (and placeholders in its definition are never needed). Only
literal names count; the job definition or task a call names, when literal, says which
target it is for.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MARKER = "containerOverrides"
CALLS = {"submit_job": ("batch", "jobDefinition"), "run_task": ("ecs", "taskDefinition")}


@dataclass(frozen=True)
class Override:
    kind: str  # batch | ecs
    definition: str | None  # the job definition / task definition named literally, if any
    names: frozenset[str]
    file: Path
    line: int


def overrides(files: Iterable[tuple[Path, str]]) -> list[Override]:
    """Every submit_job / run_task call with literal containerOverrides environment names."""
    found: list[Override] = []
    for path, source in files:
        if MARKER not in source:  # most files: no parse needed
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in CALLS:
                continue
            kind, key = CALLS[node.func.attr]
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            names = frozenset(_names(node))
            if names:
                definition = _string(keywords.get(key))
                found.append(Override(kind, definition, names, path, node.lineno))
    return found


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _names(call: ast.Call) -> set[str]:
    """`name` values of the dicts under any `environment` key inside the call's arguments."""
    names: set[str] = set()
    for node in ast.walk(call):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if _string(key) == "environment" and isinstance(value, ast.List | ast.Tuple):
                for item in value.elts:
                    if isinstance(item, ast.Dict):
                        names |= _entry_name(item)
    return names


def _entry_name(entry: ast.Dict) -> set[str]:
    for key, value in zip(entry.keys, entry.values, strict=True):
        name = _string(value)
        if _string(key) == "name" and name:
            return {name}
    return set()
