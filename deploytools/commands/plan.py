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


def run(app: App) -> int:
    from deploytools.pipeline import plan
    from deploytools.pipeline.plan import render

    result = plan(make_run(app))
    for line in render(result.document):
        app.reporter.line(line)
    if app.args.json:
        app.reporter.document(app.reporter.steps_document(plan=result.document))
    return ExitCode.CHECK_FINDINGS if result.check_errors else ExitCode.OK
