"""The DT rules: functions of files and config. No network, no Docker, no AWS.

Each module in this package registers its rules with `@rule`; `all_rules` imports them all,
so adding a rule is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from deploytools.checks.base import REGISTRY, CheckContext, Finding, Rule, Severity, rule
from deploytools.checks.waivers import CheckReport, apply_waivers

__all__ = [
    "CheckContext", "CheckReport", "Finding", "Rule", "Severity", "all_rules", "check_report",
    "rule", "run_checks", "skipped_rules",
]  # fmt: skip


def all_rules() -> dict[str, Rule]:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("dt"):
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(REGISTRY.items()))


def skipped_rules(ctx: CheckContext, only: set[str] | None = None) -> list[str]:
    """The rules that cannot run: they read the config, and there is none."""
    if ctx.config is not None or ctx.config_problems:
        return []
    return [r.id for r in all_rules().values() if r.needs_config and (not only or r.id in only)]


def check_report(
    ctx: CheckContext, only: set[str] | None = None, *, extra: Iterable[Finding] = ()
) -> CheckReport:
    """The findings of the rules (all, or `only`) and `extra`, the waived ones set apart."""
    skipped = set(skipped_rules(ctx, only))
    findings: list[Finding] = list(extra)
    for rule_id, registered in all_rules().items():
        if (only and rule_id not in only) or rule_id in skipped:
            continue
        findings.extend(registered.run(ctx))
    ctx.save_caches()
    return apply_waivers(ctx, set(findings), every_rule_ran=not only)


def run_checks(ctx: CheckContext, only: set[str] | None = None) -> list[Finding]:
    """The findings that count: waived ones left out, stale waivers included."""
    return check_report(ctx, only).findings
