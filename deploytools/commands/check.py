"""deploytools check: config and repository pitfalls (DT rules); changes nothing."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from deploytools.commands import App
from deploytools.errors import BadInput, ExitCode
from deploytools.output import github

if TYPE_CHECKING:  # the rules load the config model (pydantic): not for `--help`
    from deploytools.checks import Finding

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


def run(app: App) -> int:
    from deploytools.checks import Severity, all_rules, run_checks, skipped_rules
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
    findings = run_checks(ctx, only)
    fmt = "json" if args.json else args.format or ("github" if github.in_actions() else "text")
    if skipped:
        note = skipped_note(skipped)
        if fmt == "text":
            app.reporter.line(note)
        else:  # stdout carries the document
            print(note, file=sys.stderr)
    if fmt == "json":
        document = {"findings": [f.as_dict() for f in findings], **_counts(findings)}
        app.reporter.document({**document, "skipped_rules": skipped})
    elif fmt == "sarif":
        app.reporter.document(to_sarif(findings, rules.values()))
    elif fmt == "github":
        for f in findings:
            message = f"{f.rule} {f.message}" + (f" Fix: {f.fix}" if f.fix else "")
            github.annotation(f.severity.value, message, file=f.file, line=f.line, title=f.rule)
    else:
        _print_text(app, findings)
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


def _print_text(app: App, findings: list[Finding]) -> None:
    for f in findings:
        app.reporter.line(f"{f.file}:{f.line}: {f.rule} {f.severity.value}: {f.message}")
        if f.fix:
            app.reporter.line(f"    fix: {f.fix}")
    counts = _counts(findings)
    app.reporter.line(f"{counts['errors']} error(s), {counts['warnings']} warning(s)")


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
