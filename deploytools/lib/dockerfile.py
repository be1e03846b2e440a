"""Just enough of the Dockerfile grammar to read FROM, COPY and ADD with their line numbers.

Handles the `# escape=` parser directive, line continuations, comment lines inside a
continued instruction, heredocs (`<<EOF` … `EOF`), flags (`--from=`, `--chown=`, …) and the
JSON-array form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, ADD, RUN, …
    arguments: str  # continuation lines joined with a space
    line: int  # 1-based line where the instruction starts


@dataclass(frozen=True)
class Transfer:
    """A COPY or ADD: its flags, sources and destination."""

    instruction: Instruction
    flags: dict[str, str]  # --from=builder → {"from": "builder"}; --link → {"link": ""}
    sources: tuple[str, ...]
    destination: str

    @property
    def from_stage(self) -> str | None:
        return self.flags.get("from")


@dataclass(frozen=True)
class Stage:
    """A FROM line: its image, optional --platform and `AS name`."""

    instruction: Instruction
    image: str
    platform: str | None
    name: str | None


def parse(text: str) -> list[Instruction]:
    lines = text.splitlines()
    escape = _escape_directive(lines)
    instructions: list[Instruction] = []
    index = 0
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index + 1
        parts: list[str] = []
        current = raw
        while True:
            body = current.rstrip()
            if body.endswith(escape):
                parts.append(body[:-1])
                index += 1
                # comment lines and (deprecated) blank lines inside a continuation are dropped
                while index < len(lines) and (
                    lines[index].strip().startswith("#") or not lines[index].strip()
                ):
                    index += 1
                if index >= len(lines):
                    break
                current = lines[index]
                continue
            parts.append(body)
            index += 1
            break
        logical = " ".join(p.strip() for p in parts)
        index = _skip_heredocs(logical, lines, index)
        match = _INSTRUCTION.match(logical)
        if match:
            instructions.append(Instruction(match[1].upper(), (match[2] or "").strip(), start))
    return instructions


def _escape_directive(lines: list[str]) -> str:
    for line in lines:
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break  # directives are only valid before the first other line
        if match[1].lower() == "escape" and match[2] in ("`", "\\"):
            return match[2]
    return "\\"


def _skip_heredocs(logical: str, lines: list[str], index: int) -> int:
    for strip_tabs, _, word in _HEREDOC.findall(logical):
        while index < len(lines):
            line = lines[index].lstrip("\t") if strip_tabs else lines[index]
            index += 1
            if line.rstrip("\r") == word:
                break
    return index


def split_flags(arguments: str) -> tuple[dict[str, str], str]:
    """Leading --name[=value] flags, and the rest of the arguments."""
    flags: dict[str, str] = {}
    rest = arguments.strip()
    while rest.startswith("--"):
        token, _, remainder = rest.partition(" ")
        name, _, value = token[2:].partition("=")
        flags[name.lower()] = value
        rest = remainder.strip()
    return flags, rest


def transfer(instruction: Instruction) -> Transfer | None:
    """COPY/ADD arguments, in shell or JSON form; None for other instructions or no sources."""
    if instruction.keyword not in ("COPY", "ADD"):
        return None
    flags, rest = split_flags(instruction.arguments)
    items: list[str] | None = None
    if rest.startswith("["):
        try:
            parsed = json.loads(rest)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(i, str) for i in parsed):
            items = parsed
    if items is None:
        items = rest.split()
    if len(items) < 2:
        return None
    return Transfer(instruction, flags, tuple(items[:-1]), items[-1])


def stages(instructions: list[Instruction]) -> list[Stage]:
    result = []
    for instruction in instructions:
        if instruction.keyword != "FROM":
            continue
        flags, rest = split_flags(instruction.arguments)
        words = rest.split()
        name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
        result.append(Stage(instruction, words[0] if words else "", flags.get("platform"), name))
    return result
