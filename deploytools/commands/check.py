"""deploytools check: config and repository pitfalls (DT rules); changes nothing."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from deploytools.commands import App
from deploytools.errors import BadInput, ExitCode
from deploytools.lib.zip_selection import DEFAULT_EXCLUDES
from deploytools.output import github

if TYPE_CHECKING:  # the rules load the config model (pydantic): not for `--help`
    from deploytools.checks import CheckReport, Finding

NAME = "check"
HELP = "check deploytools.yml and the repository for known deploy pitfalls; changes nothing"
FORMATS = ("text", "json", "sarif", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default=None,
        help="output format (default: github inside GitHub Actions, else text)",
    )  # fmt: skip
    parser.add_argument("--rule", nargs="+", metavar="ID", help="run only these rules")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument(
        "--no-terraform-validate", action="store_true",
        help="skip terraform init -backend=false + validate of the configured roots",
    )  # fmt: skip


def run(app: App) -> int:
    from deploytools.checks import Severity, all_rules, check_report, skipped_rules
    from deploytools.checks.terraform_validate import Validation, validate
    from deploytools.output.sarif import to_sarif

    args = app.args
    rules = all_rules()
    if args.list_rules:
        return _list_rules(app)
    only = {r.upper() for r in args.rule} if args.rule else None
    unknown = sorted((only or set()) - set(rules))
    if unknown:
        raise BadInput(f"--rule: unknown rule {', '.join(unknown)}; allowed: {', '.join(rules)}")
    ctx = app.check_context()
    skipped = skipped_rules(ctx, only)
    # Terraform's own validation belongs to `check`; deploy's plan reports the same errors.
    run_validate = not args.no_terraform_validate and (not only or "DT000" in only)
    validation = validate(ctx) if run_validate else Validation()
    report = check_report(ctx, only, extra=validation.findings)
    findings = report.findings
    fmt = "json" if args.json else args.format or ("github" if github.in_actions() else "text")
    notes = [skipped_note(skipped)] if skipped else []
    # In GitHub, what validate could not do is a warning annotation (below).
    for note in [*notes, *(validation.not_run if fmt != "github" else [])]:
        if fmt == "text":
            app.reporter.line(note)
        else:  # stdout carries the document
            print(note, file=sys.stderr)
    if fmt == "json":
        app.reporter.document(
            {
                "findings": [f.as_dict() for f in findings],
                "waived": [w.as_dict() for w in report.waived],
                **_counts(findings),
                "skipped_rules": skipped,
                "not_run": validation.not_run,
            }
        )
    elif fmt == "sarif":
        app.reporter.document(
            to_sarif(findings, rules.values(), waived=report.waived, not_run=validation.not_run)
        )
    elif fmt == "github":
        for line in validation.not_run:
            github.annotation("warning", line, title="terraform validate")
        for f in findings:
            message = f"{f.rule} {f.message}" + (f" Fix: {f.fix}" if f.fix else "")
            github.annotation(f.severity.value, message, file=f.file, line=f.line, title=f.rule)
        _print_waived(app, report)
    else:
        _print_text(app, report)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    return ExitCode.CHECK_FINDINGS if errors else ExitCode.OK


def skipped_note(skipped: list[str]) -> str:
    return (
        f"no deploytools.yml: skipped {', '.join(skipped)} (they read the config's targets); "
        "the other rules ran on the repository"
    )


def _counts(findings: list[Finding]) -> dict[str, int]:
    from deploytools.checks import Severity

    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return {"errors": errors, "warnings": len(findings) - errors}


def _print_text(app: App, report: CheckReport) -> None:
    if getattr(app.args, "verbose", False):
        app.reporter.line(f"built-in Lambda zip excludes: {', '.join(DEFAULT_EXCLUDES)}")
    for f in report.findings:
        app.reporter.line(f"{f.file}:{f.line}: {f.rule} {f.severity.value}: {f.message}")
        if f.fix:
            app.reporter.line(f"    fix: {f.fix}")
    _print_waived(app, report)
    counts = _counts(report.findings)
    waived = f", {len(report.waived)} waived" if report.waived else ""
    app.reporter.line(f"{counts['errors']} error(s), {counts['warnings']} warning(s){waived}")


def _print_waived(app: App, report: CheckReport) -> None:
    for w in report.waived:
        f = w.finding
        app.reporter.line(f"{f.file}:{f.line}: {f.rule} waived ({w.source}): {w.reason}")


def _list_rules(app: App) -> int:
    from deploytools.checks import all_rules

    rules = all_rules()
    if app.args.json:
        app.reporter.document(
            {
                "rules": [
                    {"id": r.id, "title": r.title, "severity": r.severity} for r in rules.values()
                ]
            }
        )
    else:
        for r in rules.values():
            app.reporter.line(f"{r.id}  {r.title}")
    return 0
