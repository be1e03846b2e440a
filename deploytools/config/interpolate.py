"""{project}, {env} and {tf.<output>} placeholders; {tf.*} stay as they are until outputs exist."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Only identifier-like braces are placeholders, so JSON bodies such as '{"a": 1}' pass through.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)?)\}")
ALLOWED = "{project}, {env}, {tf.<output_name>}"
# A brace that starts like a placeholder: its name, then what follows it.
_OPENING = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_.-]*)(.?)")
_SCOPES = ("project", "env", "tf")


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def unknown_placeholders(text: str) -> list[str]:
    return [p for p in placeholders(text) if p not in ("project", "env") and not is_tf(p)]


def malformed_placeholders(text: str) -> list[tuple[str, str]]:
    """Brace expressions meant as placeholders that are not one: (the fragment, why).

    A brace followed by a quote or a space and a quote (a JSON body) is not meant as one; one
    that opens with a scope name, or holds another brace, is.
    """
    found: list[tuple[str, str]] = []
    position = 0
    while (start := text.find("{", position)) != -1:
        position = start + 1
        if PLACEHOLDER.match(text, start):
            continue
        opening = _OPENING.match(text, start)
        if opening is None:
            continue
        name, after = opening.group(1), opening.group(2)
        nested = after == "{"
        if not nested and name.split(".", 1)[0] not in _SCOPES:
            continue
        end = _closing(text, start)
        fragment = text[start:end]
        if nested:
            found.append((fragment, "placeholders cannot be nested"))
        elif end == len(text) and not fragment.endswith("}"):
            found.append((fragment, "it has no closing }"))
        else:
            found.append((fragment, f"write one of {ALLOWED}"))
        position = max(position, end)
    return found


def _closing(text: str, start: int) -> int:
    """The end of the brace expression at `start`, nested braces included."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def is_tf(name: str) -> bool:
    return name.startswith("tf.") and len(name) > 3


@dataclass
class Resolver:
    """Resolves placeholders; records {tf.*} names that have no value yet."""

    project: str
    env: str
    tf_outputs: Mapping[str, Any] | None = None
    pending: set[str] = field(default_factory=set)

    def text(self, value: str) -> str:
        return PLACEHOLDER.sub(self._one, value)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        return value

    def _one(self, match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "project":
            return self.project
        if name == "env":
            return self.env
        if is_tf(name):
            output = name[3:]
            if self.tf_outputs is not None and output in self.tf_outputs:
                return str(self.tf_outputs[output])
            self.pending.add(output)
        return match.group(0)
