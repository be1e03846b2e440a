"""Waivers: findings a team has decided do not apply, each with its reason, never silently.

Two sources: `check.ignore` in deploytools.yml (a rule, globs from the repository root and a
required reason) and an inline comment `deploytools: ignore DTnnn -- reason` on the finding's
line or the line above it. Every waiver used is reported with its reason; a config waiver that
matches no finding is a warning, so stale waivers surface.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding, Severity

INLINE = re.compile(
    r"deploytools:\s*ignore\s+(?P<rules>DT\d{3}(?:\s*,\s*DT\d{3})*)(?:\s*--\s*(?P<reason>.*))?",
    re.IGNORECASE,
)
NO_REASON = "no reason given"


@dataclass(frozen=True)
class Waived:
    """A finding left out of the result, and the waiver that left it out."""

    finding: Finding
    source: str  # "deploytools.yml:12" (check.ignore) or "inline"
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {**self.finding.as_dict(), "waiver": self.source, "reason": self.reason}


@dataclass(frozen=True)
class CheckReport:
    findings: list[Finding]  # what counts, stale-waiver warnings included
    waived: list[Waived]


@dataclass(frozen=True)
class _ConfigWaiver:
    index: int
    rule: str
    paths: tuple[str, ...]
    reason: str
    line: int

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and any(_glob(finding.file, p) for p in self.paths)


def _glob(path: str, pattern: str) -> bool:
    """A glob from the repository root; `**` spans folders and a folder covers its files."""
    pattern = pattern.strip().removeprefix("./")
    if fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern.rstrip("/") + "/"):
        return True
    return "**/" in pattern and fnmatch.fnmatchcase(path, pattern.replace("**/", ""))


def _config_waivers(ctx: CheckContext) -> list[_ConfigWaiver]:
    if ctx.config is None:
        return []
    found = []
    for index, waiver in enumerate(ctx.config.model.check.ignore):
        line = ctx.config.line(("check", "ignore", index))
        found.append(_ConfigWaiver(index, waiver.rule, tuple(waiver.paths), waiver.reason, line))
    return found


class _Lines:
    """Source lines of the files findings point at, read once each."""

    def __init__(self, ctx: CheckContext) -> None:
        self._ctx = ctx
        self._cache: dict[str, list[str]] = {}

    def around(self, finding: Finding) -> list[str]:
        if finding.file not in self._cache:
            path = Path(finding.file)
            path = path if path.is_absolute() else self._ctx.root / path
            self._cache[finding.file] = self._ctx.read(path).splitlines()
        lines = self._cache[finding.file]
        return [lines[n - 1] for n in (finding.line, finding.line - 1) if 0 < n <= len(lines)]


def _inline_reason(lines: Iterable[str], rule_id: str) -> str | None:
    for line in lines:
        for match in INLINE.finditer(line):
            rules = {r.strip().upper() for r in match["rules"].split(",")}
            if rule_id in rules:
                return (match["reason"] or "").strip() or NO_REASON
    return None


def apply_waivers(
    ctx: CheckContext, findings: Iterable[Finding], *, every_rule_ran: bool = True
) -> CheckReport:
    """Split findings into what counts and what a waiver covers; flag unused config waivers."""
    waivers = _config_waivers(ctx)
    used: set[int] = set()
    lines = _Lines(ctx)
    kept: list[Finding] = []
    waived: list[Waived] = []
    config_file = ctx.rel(ctx.config.path) if ctx.config is not None else ""
    for finding in findings:
        if finding.rule == "DT000":  # the config itself must be valid for waivers to exist
            kept.append(finding)
            continue
        hit = next((w for w in waivers if w.matches(finding)), None)
        if hit is not None:
            used.add(hit.index)
            waived.append(Waived(finding, f"{config_file}:{hit.line}", hit.reason))
            continue
        reason = _inline_reason(lines.around(finding), finding.rule)
        if reason is not None:
            waived.append(Waived(finding, "inline", reason))
            continue
        kept.append(finding)
    if every_rule_ran:
        kept.extend(_stale(w, config_file) for w in waivers if w.index not in used)
    return CheckReport(sorted(set(kept)), waived)


def _stale(waiver: _ConfigWaiver, config_file: str) -> Finding:
    paths = ", ".join(waiver.paths)
    return Finding(
        config_file,
        waiver.line,
        "DT000",
        f"check.ignore[{waiver.index}]: the waiver of {waiver.rule} for {paths} matches no "
        "finding (stale waiver)",
        fix="Remove the waiver, or correct its rule or paths.",
        severity=Severity.WARNING,
    )
