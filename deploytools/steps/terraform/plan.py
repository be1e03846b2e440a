"""Read `terraform show -json <planfile>` into a summary that carries no values at all.

The summary names resources, actions and attribute *names*; it never copies an attribute
value, so a value Terraform marks sensitive cannot reach it. Sensitive values found in the
plan are still registered as secrets, so that any other output (Terraform's own errors,
logs) masks them too.
"""

from __future__ import annotations

import re

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from deploytools.output.mask import redact, register_secret


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    READ = "read"
    NOOP = "no-op"


# How each action is counted in the headline, in Terraform's own words.
VERBS = {
    Action.CREATE: "to add",
    Action.UPDATE: "to change",
    Action.REPLACE: "to replace",
    Action.DELETE: "to destroy",
    Action.FORGET: "to forget",
}


def action_of(actions: Sequence[str]) -> Action:
    """Terraform's action list (e.g. ["delete", "create"]) as one Action."""
    if len(actions) == 1 and actions[0] in {a.value for a in Action}:
        return Action(actions[0])
    if "create" in actions and len(actions) > 1:
        return Action.REPLACE
    # A list this version does not know: count it as a change rather than hide it.
    return Action.DELETE if "delete" in actions else Action.UPDATE


@dataclass(frozen=True)
class ResourceChange:
    """One resource instance the plan changes; names only, never values."""

    address: str
    type: str
    action: Action
    actions: tuple[str, ...]  # Terraform's own, e.g. ("create", "delete")
    mode: str = "managed"  # or "data"
    replace_paths: tuple[str, ...] = ()  # attributes that force the replacement
    changed_attributes: tuple[str, ...] = ()  # top-level attribute names an update touches
    reason: str | None = None  # Terraform's action_reason, e.g. "replace_because_tainted"

    @property
    def is_replace(self) -> bool:
        return self.action is Action.REPLACE

    @property
    def create_before_destroy(self) -> bool:
        return self.actions == ("create", "delete")

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "action": self.action.value,
            "actions": list(self.actions),
            "replace_paths": list(self.replace_paths),
            "changed_attributes": list(self.changed_attributes),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PlanSummary:
    """A saved plan, the sha256 of the exact file that was summarised, and what it changes."""

    path: Path
    sha256: str
    changes: tuple[ResourceChange, ...]  # no-ops and data reads left out
    has_changes: bool  # from -detailed-exitcode: False means apply has nothing to do
    text: str  # the human summary; never contains a value
    destroy: bool = False
    output_changes: tuple[str, ...] = ()  # names of outputs whose value changes

    @property
    def headline(self) -> str:
        return self.text.splitlines()[0] if self.text else ""

    def counts(self) -> dict[str, int]:
        """Changes per action, e.g. {"create": 2, "replace": 1}."""
        return dict(Counter(change.action.value for change in self.changes))

    def by_type(self) -> dict[str, dict[str, int]]:
        """Changes per resource type and action."""
        table: dict[str, Counter[str]] = {}
        for change in self.changes:
            table.setdefault(change.type, Counter())[change.action.value] += 1
        return {rtype: dict(counter) for rtype, counter in sorted(table.items())}

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_file": str(self.path),
            "sha256": self.sha256,
            "has_changes": self.has_changes,
            "destroy": self.destroy,
            "counts": self.counts(),
            "by_type": self.by_type(),
            "changes": [change.as_dict() for change in self.changes],
            "output_changes": list(self.output_changes),
            "text": self.text,
        }


def _path_text(path: Sequence[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _changed_attributes(change: Mapping[str, Any]) -> tuple[str, ...]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    names = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    if isinstance(unknown, dict):
        names |= {k for k, v in unknown.items() if v}
    return tuple(sorted(names))


def resource_changes(plan: Mapping[str, Any]) -> tuple[ResourceChange, ...]:
    found: list[ResourceChange] = []
    for item in plan.get("resource_changes") or []:
        change = item.get("change") or {}
        actions = tuple(change.get("actions") or ("no-op",))
        action = action_of(actions)
        if action in (Action.NOOP, Action.READ):
            continue
        paths = change.get("replace_paths") or []
        found.append(
            ResourceChange(
                address=item["address"],
                type=item.get("type", ""),
                action=action,
                actions=actions,
                mode=item.get("mode", "managed"),
                replace_paths=tuple(_path_text(p) for p in paths if isinstance(p, list)),
                changed_attributes=(_changed_attributes(change) if action is Action.UPDATE else ()),
                reason=item.get("action_reason"),
            )
        )
    return tuple(found)


def output_changes(plan: Mapping[str, Any]) -> tuple[str, ...]:
    changed = []
    for name, change in (plan.get("output_changes") or {}).items():
        if tuple(change.get("actions") or ()) not in (("no-op",), ()):
            changed.append(name)
    return tuple(sorted(changed))


def string_leaves(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)


def sensitive_strings(value: Any) -> Iterator[str]:
    """The strings of a value Terraform calls sensitive that are worth masking.

    A sensitive string is a secret. A sensitive list or map is often sensitive only because
    one input was (Terraform taints whatever derives from it): masking its every leaf would
    mask "GET", "PUT" or a plain URL in every later line. Of those, only leaves that look like
    secrets are masked: 8 characters or more, no spaces, not a plain http(s) URL.
    """
    if isinstance(value, str):
        yield value
        return
    for leaf in string_leaves(value):
        if _secret_like(leaf):
            yield leaf


_CONSTANT_CASE = re.compile(r"[A-Z][A-Z0-9]*(?:[_-][A-Z0-9]+)+")


def _secret_like(text: str) -> bool:
    if len(text) < 8 or any(c.isspace() for c in text) or _CONSTANT_CASE.fullmatch(text):
        return False
    scheme, sep, rest = text.partition("://")
    plain_url = sep and scheme in ("http", "https") and "@" not in rest.split("/", 1)[0]
    return not plain_url


def _masked(value: Any, mask: Any) -> Iterator[str]:
    """String leaves of `value` where Terraform's sensitivity mask (`true` or nested) says so."""
    if mask is True:
        yield from sensitive_strings(value)
    elif isinstance(mask, dict) and isinstance(value, dict):
        for key, sub in mask.items():
            yield from _masked(value.get(key), sub)
    elif isinstance(mask, list) and isinstance(value, list):
        for item, sub in zip(value, mask, strict=False):
            yield from _masked(item, sub)


def sensitive_values(plan: Mapping[str, Any]) -> set[str]:
    """Every string the plan marks sensitive: attributes, outputs and root variables."""
    found: set[str] = set()
    for item in [*(plan.get("resource_changes") or []), *(plan.get("resource_drift") or [])]:
        change = item.get("change") or {}
        found.update(_masked(change.get("before"), change.get("before_sensitive")))
        found.update(_masked(change.get("after"), change.get("after_sensitive")))
    for change in (plan.get("output_changes") or {}).values():
        found.update(_masked(change.get("before"), change.get("before_sensitive")))
        found.update(_masked(change.get("after"), change.get("after_sensitive")))
    declared = (plan.get("configuration") or {}).get("root_module", {}).get("variables", {})
    for name, variable in (plan.get("variables") or {}).items():
        if (declared.get(name) or {}).get("sensitive"):
            found.update(sensitive_strings(variable.get("value")))
    return found


def register_sensitive(plan: Mapping[str, Any]) -> None:
    for value in sensitive_values(plan):
        register_secret(value)


def render(
    changes: Sequence[ResourceChange],
    *,
    has_changes: bool,
    destroy: bool = False,
    outputs: Sequence[str] = (),
) -> str:
    """The summary: headline, counts per type, replacements, updates (by attribute), deletions."""
    if not has_changes:
        return "No changes: the infrastructure matches the configuration; nothing to apply."
    counts = Counter(change.action for change in changes)
    parts = [f"{counts.get(action, 0)} {verb}" for action, verb in VERBS.items()]
    if not counts.get(Action.FORGET):
        parts.pop()
    kind = "Destroy plan" if destroy else "Plan"
    lines = [f"{kind}: {', '.join(parts)}."]
    by_type: dict[str, Counter[Action]] = {}
    for change in changes:
        by_type.setdefault(change.type, Counter())[change.action] += 1
    width = max((len(rtype) for rtype in by_type), default=0)
    for rtype, per_action in sorted(by_type.items()):
        cells = ", ".join(f"{n} {VERBS[a]}" for a, n in per_action.items() if a in VERBS)
        lines.append(f"  {rtype:<{width}}  {cells}")
    replaced = [c for c in changes if c.is_replace]
    if replaced:
        lines.append("Replaced (destroyed and re-created; anything in them is lost):")
        for change in replaced:
            how = "create before destroy" if change.create_before_destroy else "destroy first"
            forced = ", ".join(change.replace_paths)
            forced = f"; forced by {forced}" if forced else ""
            lines.append(f"  ! {change.address}  ({how}{forced})")
    updated = [c for c in changes if c.action is Action.UPDATE]
    if updated:
        # Names only, never values: why an apply that "should" be a no-op is not.
        lines.append("Changed in place:")
        for change in updated:
            named = ", ".join(change.changed_attributes) or "attributes known after apply"
            lines.append(f"  ~ {change.address}  ({named})")
    deleted = [c for c in changes if c.action is Action.DELETE]
    if deleted and not destroy:
        lines.append("Destroyed:")
        lines.extend(f"  - {change.address}" for change in deleted)
    if outputs:
        lines.append(f"Outputs changing: {', '.join(outputs)}")
    if not changes and outputs:
        lines[0] = "Plan: no resource changes; only outputs change."
    return redact("\n".join(lines))
