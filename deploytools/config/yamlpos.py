"""YAML loading that remembers the line of every key and refuses what a config never needs.

Nodes are composed here from parser events rather than by PyYAML's composer, so that depth,
alias expansion, tags and keys are checked before any object is constructed: a 1 KB alias bomb
is refused after counting, not after expanding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

MAX_DEPTH = 50  # nesting levels; a deploytools.yml needs five or six
MAX_ALIAS_VALUES = 10_000  # values aliases may add in total, counted before expanding
MAX_NUMBER_DIGITS = 100
CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = {f"{CORE}{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}
NUMBER_TAGS = (f"{CORE}int", f"{CORE}float")


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
    """The text is not YAML; the message is the parser's."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


class YamlRefused(YamlSyntax):
    """YAML, but a construct a config file never needs (and that can hurt): the message says
    what to write instead."""


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is allowed), refusing other encodings and control characters."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlRefused(1, "the file is UTF-16; save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise YamlRefused(
            line,
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at column {column}); save the file as UTF-8",
        ) from None
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:
        line, column = _position(text, bad.start())
        raise YamlRefused(
            line,
            f"control character U+{ord(bad.group()):04X} at column {column}; remove it "
            "(the file must be UTF-8 text)",
        )
    return text


def _position(data: str | bytes, offset: int) -> tuple[int, int]:
    newline = "\n" if isinstance(data, str) else b"\n"
    start = data.rfind(newline, 0, offset) + 1  # type: ignore[arg-type]
    return data.count(newline, 0, offset) + 1, offset - start + 1  # type: ignore[arg-type]


def load(text: str) -> Located:
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntax(line, f"{exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # the reader's errors carry no mark
        raise YamlSyntax(1, str(exc).splitlines()[0]) from None
    located = Located(data=None, lines={(): 1})
    if node is not None:
        located.data = _Converter().convert(node, (), located.lines)
    return located


def _compose(text: str) -> yaml.Node | None:
    """libyaml's parser where it is installed (ten times faster); PyYAML's own when the text
    is not YAML, for its clearer messages."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return _Composer(text, yaml.SafeLoader).compose()
    try:
        return _Composer(text, fast).compose()
    except yaml.YAMLError:
        return _Composer(text, yaml.SafeLoader).compose()


class _Frame:
    """A collection being composed: its node, its anchor and how many values it expands to."""

    def __init__(self, node: yaml.CollectionNode, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.size = 1
        self.items: list[yaml.Node] = []

    @property
    def expects_key(self) -> bool:
        return isinstance(self.node, yaml.MappingNode) and len(self.items) % 2 == 0


class _Composer:
    """PyYAML's composer, iterative, with the limits checked as each event arrives."""

    def __init__(self, text: str, loader: Any) -> None:
        self.events = yaml.parse(text, Loader=loader)
        self.resolver: Any = yaml.resolver.Resolver()  # untyped in the stubs
        self.anchors: dict[str, tuple[yaml.Node, int]] = {}
        self.stack: list[_Frame] = []
        self.alias_values = 0

    def compose(self) -> yaml.Node | None:
        root: yaml.Node | None = None
        for event in self.events:
            start: Any = event.start_mark
            end: Any = event.end_mark
            line = start.line + 1 if start else 1
            if isinstance(event, yaml.StreamStartEvent | yaml.StreamEndEvent):
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                if root is not None:
                    raise YamlRefused(line, "more than one YAML document; keep one (remove ---)")
                continue
            if isinstance(event, yaml.DocumentEndEvent):
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                frame = self.stack.pop()
                mapping = isinstance(frame.node, yaml.MappingNode)
                frame.node.value = _pairs(frame.items) if mapping else frame.items
                root = self._add(frame.node, frame.anchor, frame.size) or root
                continue
            self._check_key(event, line)
            if isinstance(event, yaml.AliasEvent):
                root = self._alias(event, line) or root
            elif isinstance(event, yaml.ScalarEvent):
                tag = self._tag(event, yaml.ScalarNode, event.value, event.implicit, line)
                scalar = yaml.ScalarNode(tag, event.value, start, end, style=event.style)
                root = self._add(scalar, event.anchor, 1) or root
            elif isinstance(event, yaml.CollectionStartEvent):
                if len(self.stack) >= MAX_DEPTH:
                    raise YamlRefused(
                        line, f"nested deeper than {MAX_DEPTH} levels; flatten the structure"
                    )
                kind = (
                    yaml.MappingNode
                    if isinstance(event, yaml.MappingStartEvent)
                    else yaml.SequenceNode
                )
                tag = self._tag(event, kind, None, event.implicit, line)
                node = kind(tag, [], start, end)
                self.stack.append(_Frame(node, event.anchor))
        return root

    def _check_key(self, event: yaml.Event, line: int) -> None:
        if not self.stack or not self.stack[-1].expects_key:
            return
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(line, f"an alias (*{event.anchor}) cannot be a key; write the key")
        if isinstance(event, yaml.CollectionStartEvent):
            raise YamlRefused(line, "a key must be text, not a list or a mapping")
        plain = isinstance(event, yaml.ScalarEvent) and event.tag is None and event.implicit[0]
        if plain and getattr(event, "value", None) == "<<":
            raise YamlRefused(
                line,
                "merge keys (<<) are not supported; write the keys out or alias the whole value",
            )

    def _alias(self, event: yaml.AliasEvent, line: int) -> yaml.Node | None:
        name = event.anchor or ""
        if name not in self.anchors:
            if any(frame.anchor == name for frame in self.stack):
                raise YamlRefused(line, f"alias *{name} refers to a value that contains it")
            raise YamlRefused(line, f"alias *{name} is not defined; define &{name} before it")
        node, size = self.anchors[name]
        self.alias_values += size
        if self.alias_values > MAX_ALIAS_VALUES:
            raise YamlRefused(
                line,
                f"aliases expand to more than {MAX_ALIAS_VALUES:,} values; use fewer aliases "
                "or write the values out",
            )
        return self._add(node, None, size)

    def _add(self, node: yaml.Node, anchor: str | None, size: int) -> yaml.Node | None:
        """Attach a finished node to its parent; the root is returned."""
        if anchor is not None:
            self.anchors[anchor] = (node, size)
        if not self.stack:
            return node
        parent = self.stack[-1]
        parent.items.append(node)
        parent.size += size
        return None

    def _tag(
        self,
        event: yaml.NodeEvent,
        kind: type[yaml.Node],
        value: str | None,
        implicit: Any,
        line: int,
    ) -> str:
        tag: str | None = getattr(event, "tag", None)
        if tag is None or tag == "!":
            return str(self.resolver.resolve(kind, value, implicit))
        if tag not in ALLOWED_TAGS:
            shown = tag.replace(CORE, "!!")
            raise YamlRefused(
                line,
                f"tag {shown} is not allowed; remove it (or use !!str, !!int, !!float, "
                "!!bool or !!null)",
            )
        return tag


def _pairs(items: list[yaml.Node]) -> list[tuple[yaml.Node, yaml.Node]]:
    return list(zip(items[0::2], items[1::2], strict=True))


class _Converter:
    """Nodes to plain data with the line of every key; keys are kept as the text they are."""

    def __init__(self) -> None:
        self.constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)  # `on:` stays "on", `1:` stays "1"
                child = (*path, key)
                line = key_node.start_mark.line + 1
                if key in result:
                    raise DuplicateKey(child, line, lines[child])
                lines[child] = line
                result[key] = self.convert(value_node, child, lines)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                items.append(self.convert(item, child, lines))
            return items
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        text = str(node.value)
        shown = node.tag.replace(CORE, "!!")
        if node.tag in NUMBER_TAGS and len(text) > MAX_NUMBER_DIGITS:
            raise YamlRefused(
                line, f"a number of {len(text):,} characters is too long; quote it if it is text"
            )
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            preview = text if len(text) <= 40 else text[:40] + "..."
            raise YamlRefused(line, f"{preview!r} is not a valid {shown}; quote it") from None
