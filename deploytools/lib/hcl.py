"""Terraform files: python-hcl2 for the values, the text for line numbers.

python-hcl2 gives no line numbers (its `with_meta` option is a no-op in 8.x) and its output
differs between major versions (8.x keeps the quotes of strings and labels, 4.x strips them),
so values are normalised here and each block's lines are found by scanning the text with a
small bracket matcher that knows HCL strings, comments and heredocs.

Suppressions: a comment containing `deploytools: allow DTnnn <reason>` on a finding's line,
inside the flagged block/statement, or on the line directly above it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

META_KEYS = frozenset({"__is_block__", "__comments__", "__start_line__", "__end_line__"})
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\n")
_COMMENT = re.compile(r"(#|//)(?P<text>.*)$")


def unquote(value: str) -> str:
    """A label or string as written, without the quotes python-hcl2 8.x keeps."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def normalise(value: Any) -> Any:
    """python-hcl2 output without quotes around strings and keys, nor its meta keys."""
    if isinstance(value, str):
        return unquote(value)
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {unquote(k): normalise(v) for k, v in value.items() if k not in META_KEYS}
    return value


def expression(value: Any) -> str | None:
    """The text of an HCL expression python-hcl2 rendered as "${...}", else None."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return None


def parse_expression(text: str) -> Any:
    """An HCL expression (e.g. the object inside jsonencode(...)) as normalised data."""
    import hcl2

    try:
        parsed = hcl2.loads(f"x = {text}\n")
    except Exception:  # python-hcl2 raises lark's exceptions, which vary by version
        return None
    return normalise(parsed.get("x"))


# -- the text side ---------------------------------------------------------------------------

# What the scans below stop at: brackets, strings, comments and heredocs; in a string, an
# escape, its end and interpolations.
_SIGNIFICANT = re.compile(r'[{}\[\]()"#/<]')
_IN_STRING = re.compile(r'[\\"]|[$%]\{')


def _skip_string(text: str, i: int) -> int:
    """Index after the string literal starting at text[i] == '"', interpolations included."""
    i += 1
    while True:
        found = _IN_STRING.search(text, i)
        if found is None:
            return len(text)
        i = found.start()
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i = match_bracket(text, i + 1)


def match_bracket(text: str, i: int) -> int:
    """Index just after the bracket that closes the one at text[i] ({, [ or ()."""
    closing = {"{": "}", "[": "]", "(": ")"}
    stack = [closing[text[i]]]
    i += 1
    while stack:
        found = _SIGNIFICANT.search(text, i)  # the characters between matter to no rule below
        if found is None:
            return len(text)
        i = found.start()
        char = text[i]
        if char == '"':
            i = _skip_string(text, i)
            continue
        if char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        if text.startswith("<<", i):
            heredoc = _HEREDOC.match(text, i)
            if heredoc:
                marker = re.compile(rf"^\s*{heredoc.group(1)}\s*$", re.M)
                closing_line = marker.search(text, heredoc.end())
                i = len(text) if closing_line is None else closing_line.end()
                continue
        if char in closing:
            stack.append(closing[char])
        elif char == stack[-1]:
            stack.pop()
        i += 1
    return i


@dataclass(frozen=True)
class Span:
    """A range of a file's text, with 1-based line numbers."""

    start: int  # offset of the first character
    end: int  # offset after the last character
    line: int
    end_line: int


@dataclass(frozen=True)
class Block:
    """A top-level `resource`, `data` or `module` block."""

    kind: str  # resource | data | module
    type: str  # e.g. aws_iam_policy_document; "" for a module
    name: str
    body: Mapping[str, Any]  # normalised
    span: Span | None  # None when the header could not be found in the text


@dataclass(frozen=True)
class TfFile:
    path: Path
    text: str
    blocks: tuple[Block, ...]  # resource, data and module blocks, normalised
    raw: Mapping[str, Any]  # python-hcl2's own output, for blocks not modelled here

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def span(self, start: int, end: int) -> Span:
        return Span(start, end, self.line_of(start), self.line_of(max(start, end - 1)))

    def bracket_span(self, open_at: int) -> Span:
        return self.span(open_at, match_bracket(self.text, open_at))

    def comments(self, first_line: int, last_line: int) -> Iterator[str]:
        """Comment texts on lines first_line..last_line (1-based, inclusive)."""
        for line in self.lines[max(first_line - 1, 0) : last_line]:
            match = _COMMENT.search(line)
            if match:
                yield match.group("text")

    def allowed(self, rule_id: str, span: Span | None, *, line: int | None = None) -> bool:
        """True when a `deploytools: allow <rule_id>` comment covers the span or line."""
        marker = re.compile(rf"deploytools:\s*allow\s+{rule_id}\b", re.I)
        first = span.line - 1 if span else (line or 1) - 1
        last = span.end_line if span else (line or 1)
        return any(marker.search(text) for text in self.comments(first, last))


_HEADER = re.compile(
    r'^[ \t]*(resource|data|module)((?:[ \t]+(?:"[^"\n]*"|[A-Za-z_][\w-]*))+)[ \t]*\{', re.M
)
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)')


def _headers(text: str) -> dict[tuple[str, ...], re.Match[str]]:
    """Each block header of the text by (kind, *labels), the first one where a key repeats;
    one scan of the text for all blocks."""
    found: dict[tuple[str, ...], re.Match[str]] = {}
    for match in _HEADER.finditer(text):
        labels = tuple(quoted or bare for quoted, bare in _LABEL.findall(match[2]))
        found.setdefault((match[1], *labels), match)
    return found


def _header(text: str, match: re.Match[str] | None) -> Span | None:
    if match is None:
        return None
    end = match_bracket(text, match.end() - 1)
    line = text.count("\n", 0, match.start()) + 1
    return Span(match.start(), end, line, text.count("\n", 0, end - 1) + 1)


def _blocks(parsed: Mapping[str, Any], text: str) -> Iterator[Block]:
    headers = _headers(text)
    for kind in ("resource", "data"):
        for entry in parsed.get(kind) or []:
            for rtype, named in entry.items():
                for name, body in named.items():
                    type_, label = unquote(rtype), unquote(name)
                    span = _header(text, headers.get((kind, type_, label)))
                    yield Block(kind, type_, label, normalise(body), span)
    for entry in parsed.get("module") or []:
        for name, body in entry.items():
            label = unquote(name)
            span = _header(text, headers.get(("module", label)))
            yield Block("module", "", label, normalise(body), span)


_POSITION = re.compile(r"line (\d+), col(?:umn)? (\d+)")


class HclSyntaxError(ValueError):
    """python-hcl2 cannot parse the file (Terraform may still accept it)."""

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column
        super().__init__(f"line {line}, column {column}")


def parse_text(text: str) -> dict[str, Any]:
    """python-hcl2's output for the text; HclSyntaxError where it stops (its message quotes the
    file's text, which may hold a secret, so only the position is kept)."""
    import hcl2

    try:
        parsed: dict[str, Any] = hcl2.loads(text)
    except Exception as exc:  # python-hcl2 raises lark's exceptions, which vary by version
        where = _POSITION.search(str(exc))
        line, column = (int(where[1]), int(where[2])) if where else (1, 1)
        raise HclSyntaxError(line, column) from exc
    return parsed


def tf_file(path: Path, text: str, parsed: Mapping[str, Any]) -> TfFile:
    """The file's blocks, from python-hcl2's output for its text."""
    return TfFile(path, text, tuple(_blocks(parsed, text)), parsed)


def parse_file(path: Path, text: str) -> TfFile:
    """The file's blocks; HclSyntaxError where python-hcl2 stops."""
    return tf_file(path, text, parse_text(text))
