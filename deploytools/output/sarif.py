"""SARIF 2.1.0 for GitHub code scanning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deploytools import __version__
from deploytools.checks.base import Finding, Rule, Severity
from deploytools.checks.waivers import Waived

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def to_sarif(
    findings: Iterable[Finding],
    rules: Iterable[Rule],
    *,
    waived: Iterable[Waived] = (),
    not_run: Iterable[str] = (),
) -> dict[str, Any]:
    """The findings as results; waived ones too, each with its `suppressions` justification;
    what could not run as the invocation's warning notifications."""
    rule_list = sorted(rules, key=lambda r: r.id)
    index = {rule.id: i for i, rule in enumerate(rule_list)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "deploytools",
                        "version": __version__,
                        "informationUri": "https://github.com/deploytools/deploytools",
                        "rules": [_rule(r) for r in rule_list],
                    }
                },
                "results": [_result(f, index) for f in findings]
                + [_suppressed(w, index) for w in waived],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "warning", "message": {"text": line}} for line in not_run
                        ],
                    }
                ],
            }
        ],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": rule.description or rule.title},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVELS[finding.severity],
        "message": {
            "text": f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": max(1, finding.line)},
                }
            }
        ],
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    return result


def _suppressed(waived: Waived, index: dict[str, int]) -> dict[str, Any]:
    result = _result(waived.finding, index)
    kind = "inSource" if waived.source == "inline" else "external"
    suppression: dict[str, Any] = {"kind": kind, "justification": waived.reason}
    if kind == "external":
        suppression["location"] = {"physicalLocation": _location(waived.source)}
    result["suppressions"] = [suppression]
    return result


def _location(source: str) -> dict[str, Any]:
    file, _, line = source.rpartition(":")
    return {
        "artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": max(1, int(line or 1))},
    }
