"""YAML loading that remembers the line of every key, and refuses duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


@dataclass
class Located:
    """Plain data plus the 1-based line of each key path (the key's line for mappings)."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class DuplicateKey(ValueError):
    def __init__(self, path: KeyPath, line: int, first_line: int) -> None:
        self.path = path
        self.line = line
        self.first_line = first_line
        super().__init__(f"duplicate key (first defined on line {first_line})")


class YamlSyntax(ValueError):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def load(text: str) -> Located:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntax(line, f"{exc.problem or exc}") from exc
    located = Located(data=None, lines={(): 1})
    if node is not None:
        located.data = _convert(node, (), located.lines)
    return located


def _convert(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(stream="").construct_object(key_node)  # scalar keys only
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in result:
                raise DuplicateKey(child, line, lines[child])
            lines[child] = line
            result[key] = _convert(value_node, child, lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            items.append(_convert(item, child, lines))
        return items
    return yaml.SafeLoader(stream="").construct_object(node)
