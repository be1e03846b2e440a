"""{project}, {env} and {tf.<output>} placeholders; {tf.*} stay as they are until outputs exist."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Only identifier-like braces are placeholders, so JSON bodies such as '{"a": 1}' pass through.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)?)\}")
ALLOWED = "{project}, {env}, {tf.<output_name>}"


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def unknown_placeholders(text: str) -> list[str]:
    return [p for p in placeholders(text) if p not in ("project", "env") and not is_tf(p)]


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
