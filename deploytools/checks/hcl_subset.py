"""The plain Terraform files read without python-hcl2, with its very output.

python-hcl2 takes about 2 ms a file (lark in pure Python); a file of blocks of
`name = value` lines, where a value is a literal, a one-line list of them or a reference
(`var.name`, `aws_s3_bucket.data.arn`), with `#` and `//` comments, a line reader turns into
the same dict in a few microseconds a line. Anything beyond that subset (block comments,
expressions, interpolation, heredocs, escapes, floats, multi-line values, labels without
quotes, attributes outside a block, names outside ASCII) returns None, and python-hcl2 reads
the file. tests/test_check_hcl_subset.py holds the two to the same output.
"""

from __future__ import annotations

import re
from typing import Any

# ASCII only: python-hcl2 8.x refuses the Unicode letters in names that Terraform accepts.
_OPEN = re.compile(r'([A-Za-z_][\w-]*)((?:[ \t]+"[^"\\$%]*")*)[ \t]*\{', re.ASCII)
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*=[ \t]*(.+)", re.ASCII)
_LABEL = re.compile(r'"[^"]*"')
_STRING = re.compile(r'"[^"\\$%]*"')
_INTEGER = re.compile(r"-?[0-9]+")
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A reference: python-hcl2 gives its text as an interpolation ("${var.name}").
_REFERENCE = re.compile(r"([A-Za-z_][\w-]*)(?:\.[A-Za-z_][\w-]*)+", re.ASCII)
_LIST = re.compile(r"\[(.*)\]")
_ITEM = re.compile(
    r'[ \t]*("[^"\\$%]*"|-?[0-9]+|[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)[ \t]*(,|$)', re.ASCII
)
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None}
_IN_TEXT = ("${", "%{", "\\")  # interpolation, templates, escapes (comments included)
# The code of a line up to its comment, strings skipped (they hold no quotes: no escapes); a
# block comment stops it too, and is beyond the subset. A heredoc is no value of the subset.
_CODE = re.compile(r'(?:[^"#/\n]|"[^"\n]*"|/(?![/*]))*')
# Whitespace other than space, tab, CR and LF: python-hcl2's lexer and str.strip differ on it.
_ODD_SPACE = re.compile(r"[^\S \t\r\n]")
_BLANKS = " \t\r"
COMMENTS = "__comments__"


class _Beyond(Exception):
    """The file uses more than the subset."""


def parse_subset(text: str) -> dict[str, Any] | None:
    """python-hcl2's output for a file of plain blocks, else None."""
    if any(marker in text for marker in _IN_TEXT) or _ODD_SPACE.search(text):
        return None
    try:
        return _parse(text)
    except _Beyond:
        return None


def _parse(text: str) -> dict[str, Any]:
    top: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], set[str]]] = []  # a body and its nested blocks' names
    for raw in text.split("\n"):
        line, comment = _split(raw)
        if line == "}":
            if not stack:
                raise _Beyond
            stack.pop()[0]["__is_block__"] = True
        elif line:
            opened = _OPEN.fullmatch(line)
            if opened:
                body = _open(top, stack, opened[1], _LABEL.findall(opened[2]))
                stack.append((body, set()))
            else:
                _assign(stack, line)
        if comment:  # where python-hcl2 keeps it: the body the line ends in
            (stack[-1][0] if stack else top).setdefault(COMMENTS, []).append({"value": comment})
    if stack:
        raise _Beyond
    return top


def _split(raw: str) -> tuple[str, str]:
    """The line's code and its comment's text, both stripped."""
    code = _CODE.match(raw)
    end = code.end() if code else 0
    rest = raw[end:]
    if not rest:
        comment = ""
    elif rest[0] == "#":
        comment = rest[1:]
    elif rest.startswith("//"):
        comment = rest[2:]
    else:  # a string left open
        raise _Beyond
    line = raw[:end].strip(_BLANKS)
    if not line.isascii():
        raise _Beyond
    return line, comment.strip()


def _assign(stack: list[tuple[dict[str, Any], set[str]]], line: str) -> None:
    attribute = _ATTRIBUTE.fullmatch(line)
    if attribute is None or not stack or attribute[1] in stack[-1][0]:
        raise _Beyond
    if attribute[1].startswith("__"):
        raise _Beyond  # python-hcl2's own keys
    stack[-1][0][attribute[1]] = _value(attribute[2].strip(_BLANKS))


def _open(
    top: dict[str, Any], stack: list[tuple[dict[str, Any], set[str]]], kind: str, labels: list[str]
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if stack:  # a nested block: no labels, a list of bodies under its name
        parent, blocks = stack[-1]
        if labels or (kind in parent and kind not in blocks):
            raise _Beyond
        blocks.add(kind)
        parent.setdefault(kind, []).append(body)
        return body
    entry: dict[str, Any] = body
    for label in reversed(labels):
        entry = {label: entry}
    top.setdefault(kind, []).append(entry)
    return body


def _value(text: str) -> Any:
    if _STRING.fullmatch(text):
        return text
    if _INTEGER.fullmatch(text):
        return int(text)
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    listed = _LIST.fullmatch(text)
    if listed:
        return _items(listed[1])
    if _BARE.fullmatch(text):
        return text
    reference = _REFERENCE.fullmatch(text)
    if reference and reference[1] not in _KEYWORDS:
        return f"${{{text}}}"
    raise _Beyond


def _items(inner: str) -> list[Any]:
    """The literals of a one-line list, a trailing comma allowed."""
    if not inner.strip():
        return []
    values: list[Any] = []
    at = 0
    while at < len(inner):
        item = _ITEM.match(inner, at)
        if item is None or item.end() == at:
            raise _Beyond
        values.append(_value(item[1]))
        at = item.end()
        if not item[2]:
            break
        if not inner[at:].strip():
            break  # a trailing comma
    if at < len(inner) and inner[at:].strip():
        raise _Beyond
    return values
