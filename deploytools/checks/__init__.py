"""The DT rules: functions of files and config. No network, no Docker, no AWS.

Each module in this package registers its rules with `@rule`; `all_rules` imports them all,
so adding a rule is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from deploytools.checks.base import REGISTRY, CheckContext, Finding, Rule, Severity, rule

__all__ = ["CheckContext", "Finding", "Rule", "Severity", "all_rules", "rule", "run_checks"]


def all_rules() -> dict[str, Rule]:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(REGISTRY.items()))


def run_checks(ctx: CheckContext, only: set[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for rule_id, registered in all_rules().items():
        if only and rule_id not in only:
            continue
        findings.extend(registered.run(ctx))
    return sorted(set(findings))
