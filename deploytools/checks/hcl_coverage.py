"""Terraform files the rules could not read: python-hcl2 rejects some files Terraform accepts
(a Unicode identifier, for one), and a rule that skips a file must say so, never go quiet."""

from __future__ import annotations

from collections.abc import Iterator

from deploytools.checks.base import CheckContext, Finding, Severity
from deploytools.checks.tfparse import load


def unparseable_findings(ctx: CheckContext) -> Iterator[Finding]:
    for path in ctx.files("*.tf"):
        if load(path) is not None:
            continue
        line, column = _position(ctx.read(path))
        yield Finding(
            ctx.rel(path),
            line,
            "DT000",
            f"python-hcl2 cannot parse this file (stopped at column {column}); DT007, "
            "DT008 and DT009 did not read it",
            fix="Run terraform validate; if Terraform accepts the file, report the construct "
            "to python-hcl2 and review the file by hand.",
            severity=Severity.WARNING,
        )


def _position(text: str) -> tuple[int, int]:
    import hcl2

    try:
        hcl2.loads(text)
    except Exception as exc:  # lark's exceptions vary by version; most carry a position
        return int(getattr(exc, "line", 1) or 1), int(getattr(exc, "column", 1) or 1)
    return 1, 1
