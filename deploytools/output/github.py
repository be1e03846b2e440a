"""GitHub Actions workflow commands and files; plain no-ops or text outside Actions."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import TextIO


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", stream: TextIO | None = None, **props: object) -> None:
    params = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    line = f"::{name}{' ' + params if params else ''}::{escape_data(message)}"
    print(line, file=stream or sys.stdout, flush=True)


def add_mask(value: str) -> None:
    # Each line separately: the runner masks per line of a multi-line value. On stderr, which
    # the runner reads for commands too, so that stdout stays one JSON document under --json.
    for line in value.splitlines() or [value]:
        if line.strip():
            command("add-mask", line, sys.stderr)


def group(title: str, stream: TextIO | None = None) -> None:
    command("group", title, stream)


def endgroup(stream: TextIO | None = None) -> None:
    command("endgroup", "", stream)


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """::error file=…,line=…::message (level: error, warning, notice)."""
    command(level, message, stream, file=file, line=line, title=title)


def _append_file(variable: str, text: str) -> bool:
    target = os.environ.get(variable)
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(text)
    return True


def _keyed(name: str, value: str) -> str:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"  # cannot occur in the value: multi-line safe
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def set_output(name: str, value: str) -> bool:
    return _append_file("GITHUB_OUTPUT", _keyed(name, value))


def set_env(name: str, value: str) -> bool:
    return _append_file("GITHUB_ENV", _keyed(name, value))


def write_summary(markdown: str) -> bool:
    return _append_file("GITHUB_STEP_SUMMARY", markdown.rstrip("\n") + "\n")


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
