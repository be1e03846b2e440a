"""DT008: an ECS service behind a load balancer with a health-check grace period under 60 s.

ECS counts failed load balancer health checks from the moment a task starts unless the
grace period says otherwise (the default is 0). A model server that loads weights for 40 s
is killed before it can answer, again and again, until the circuit breaker gives up.

Checked: `resource "aws_ecs_service"` with a `load_balancer` block (or a dynamic one) and
`health_check_grace_period_seconds` missing or under 60; and calls of our `ecs_service`
module that pass `load_balancers` and a `health_check_grace_period_seconds` under 60 (the
module's own default is 120). A `var.x` value is judged by the variable's default in the
same folder; other expressions are not guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.lib.hcl import TfFile

RULE = "DT008"
MINIMUM = 60
ATTRIBUTE = "health_check_grace_period_seconds"
MODULE_NAME = "ecs_service"
VARIABLE_REF = re.compile(r"^\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}$")
FIX = f"Set {ATTRIBUTE} to at least {MINIMUM} (longer than the app needs to start)."


def _label(key: str) -> str:
    """python-hcl2 keeps the quotes of labels and strings from version 5 on."""
    return key.strip('"')


def _blocks(parsed: Mapping[str, Any], kind: str) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """(labels, body) of every top-level block of `kind` (resource, module, variable)."""
    for entry in parsed.get(kind, []):
        yield from _walk_labels(entry, [])


def _walk_labels(
    node: Mapping[str, Any], labels: list[str]
) -> Iterator[tuple[list[str], dict[str, Any]]]:
    for key, value in node.items():
        if not isinstance(value, dict):
            continue
        if "__is_block__" in value or not any(isinstance(v, dict) for v in value.values()):
            yield [*labels, _label(key)], value
        else:
            yield from _walk_labels(value, [*labels, _label(key)])


def _number(value: Any, defaults: Mapping[str, Any]) -> float | None:
    """The value as seconds, following `var.x` to its default; None when unknowable."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        match = VARIABLE_REF.match(value.strip())
        value = defaults.get(match[1]) if match else _label(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _has_load_balancer(body: Mapping[str, Any]) -> bool:
    if body.get("load_balancer"):
        return True
    for dynamic in body.get("dynamic", []):
        if any(_label(name) == "load_balancer" for name in dynamic):
            return True
    return False


def _module_has_load_balancers(body: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    value = body.get("load_balancers")
    if value is None:
        return False
    if isinstance(value, str):
        match = VARIABLE_REF.match(value.strip())
        if match:
            value = defaults.get(match[1], value)  # unknown: assume a load balancer
    return not (isinstance(value, list) and len(value) == 0) and value != "null"


def _is_ecs_service_module(body: Mapping[str, Any]) -> bool:
    source = _label(str(body.get("source", ""))).rstrip("/")
    return source.split("//")[-1].rsplit("/", 1)[-1] == MODULE_NAME


def _variable_defaults(files: list[TfFile]) -> dict[Path, dict[str, Any]]:
    """Per folder: the default of every variable its .tf files declare."""
    defaults: dict[Path, dict[str, Any]] = {}
    for tf in files:
        folder = defaults.setdefault(tf.path.parent, {})
        for labels, body in _blocks(tf.raw, "variable"):
            if "default" in body:
                folder[labels[0]] = body["default"]
    return defaults


def _line_of(text: str, header: str, attribute: str | None) -> int:
    """The block's header line (the first matching `header`), or the attribute's line inside
    that block."""
    lines = text.splitlines()
    matcher = re.compile(header)
    start = next((i for i, line in enumerate(lines) if matcher.search(line)), 0)
    if attribute is not None:
        pattern = re.compile(rf"^\s*{re.escape(attribute)}\s*=")
        for offset, line in enumerate(lines[start + 1 :], start=start + 1):
            if re.match(r"^(resource|module|data|variable|locals|output)\b", line):
                break
            if pattern.match(line):
                return offset + 1
    return start + 1


@rule(
    RULE,
    "health-check grace period under 60 s for a service behind a load balancer",
    description=(
        "aws_ecs_service with a load_balancer and health_check_grace_period_seconds missing "
        "or below 60, or an ecs_service module call passing less: slow-starting tasks are "
        "killed by failed health checks before they are ready."
    ),
)
def health_check_grace(ctx: CheckContext) -> Iterator[Finding]:
    files = ctx.terraform_files()
    all_defaults: dict[Path, dict[str, Any]] | None = None
    for tf in files:
        path, text, parsed = tf.path, tf.text, tf.raw
        if "aws_ecs_service" not in text and MODULE_NAME not in text:
            continue
        all_defaults = all_defaults if all_defaults is not None else _variable_defaults(files)
        defaults = all_defaults.get(path.parent, {})
        for labels, body in _blocks(parsed, "resource"):
            if labels[0] != "aws_ecs_service" or not _has_load_balancer(body):
                continue
            name = labels[1] if len(labels) > 1 else "?"
            header = rf'^\s*resource\s+"aws_ecs_service"\s+"{re.escape(name)}"'  # on a finding
            where = f"aws_ecs_service.{name}"
            if ATTRIBUTE not in body:
                yield Finding(
                    ctx.rel(path),
                    _line_of(text, header, None),
                    RULE,
                    f"{where} is behind a load balancer but sets no {ATTRIBUTE} (ECS uses 0)",
                    FIX,
                )
                continue
            seconds = _number(body[ATTRIBUTE], defaults)
            if seconds is not None and seconds < MINIMUM:
                yield Finding(
                    ctx.rel(path),
                    _line_of(text, header, ATTRIBUTE),
                    RULE,
                    f"{where} is behind a load balancer with {ATTRIBUTE} = {seconds:g} "
                    f"(under {MINIMUM} s)",
                    FIX,
                )
        for labels, body in _blocks(parsed, "module"):
            if not _is_ecs_service_module(body) or ATTRIBUTE not in body:
                continue
            if not _module_has_load_balancers(body, defaults):
                continue
            seconds = _number(body[ATTRIBUTE], defaults)
            if seconds is not None and seconds < MINIMUM:
                name = labels[0]
                header = rf'^\s*module\s+"{re.escape(name)}"'
                yield Finding(
                    ctx.rel(path),
                    _line_of(text, header, ATTRIBUTE),
                    RULE,
                    f"module.{name} passes {ATTRIBUTE} = {seconds:g} with load_balancers "
                    f"(under {MINIMUM} s)",
                    FIX,
                )
