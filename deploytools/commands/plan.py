"""deploytools plan: what deploy would do, read-only."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env
from deploytools.commands.deploy import make_run
from deploytools.errors import ExitCode

NAME = "plan"
HELP = "show what deploy would do for an environment; changes nothing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    parser.add_argument(
        "--detailed-exitcode", action="store_true",
        help="exit 0 when deploy would change nothing, 2 when it would (as terraform plan)",
    )  # fmt: skip
    parser.add_argument(
        "--comment", action="store_true",
        help="in a pull request's workflow: post the plan as one PR comment, updated in place",
    )  # fmt: skip


def run(app: App) -> int:
    from deploytools.github.publish import publish
    from deploytools.pipeline import plan
    from deploytools.pipeline.plan import render

    result = plan(make_run(app))
    lines = render(result.document)
    for line in lines:
        app.reporter.line(line)
    changes = publish(result.document, lines, app.reporter, comment=app.args.comment)
    if app.args.json:
        app.reporter.document(app.reporter.steps_document(plan=result.document))
    if result.check_errors:
        return ExitCode.CHECK_FINDINGS
    return 2 if app.args.detailed_exitcode and changes else ExitCode.OK
