"""Terraform's own diagnostics, trimmed to the `Error:` blocks a user needs to read."""

from __future__ import annotations

import re

from deploytools.output.mask import redact

MAX_LINES = 40
_BOX = re.compile(r"^[╷│╵] ?")  # drawn around diagnostics when colour is on
_START = re.compile(r"^(Error|Warning): ")


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for raw in text.splitlines():
        line = _BOX.sub("", raw).rstrip()
        start = _START.match(line)
        if start:
            current = [line] if start.group(1) == "Error" else None
            if current is not None:
                blocks.append(current)
        elif current is not None:
            current.append(line)
    return blocks


def error_blocks(stderr: str, stdout: str = "") -> str:
    """The `Error:` blocks of Terraform's output, or its last lines when it printed none."""
    # Diagnostics go to stderr; stdout (progress lines) only when stderr holds no block.
    blocks = _blocks(stderr) or _blocks(stdout)
    if not blocks:
        lines = [_BOX.sub("", line).rstrip() for line in (stderr + "\n" + stdout).splitlines()]
        tail = [line for line in lines if line.strip()][-MAX_LINES:]
        return redact("\n".join(tail)) or "(terraform printed nothing)"
    trimmed = "\n\n".join("\n".join(block).strip() for block in blocks).splitlines()
    if len(trimmed) > MAX_LINES:
        omitted = len(trimmed) - MAX_LINES
        trimmed = [*trimmed[:MAX_LINES], f"… ({omitted} more lines)"]
    return redact("\n".join(trimmed))
