"""deploytools rollback: restore the previous (or a named) release on every target."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, add_only
from deploytools.commands.deploy import finish, make_run

NAME = "rollback"
HELP = "restore the previous release (or --to RELEASE) on every target"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)
    parser.add_argument("--to", metavar="RELEASE", help="release id to restore (default: previous)")
    parser.add_argument(
        "--yes", action="store_true", help="confirm a rollback of a protected environment"
    )


def run(app: App) -> int:
    from deploytools.pipeline import rollback

    reporter = app.reporter
    try:
        result = rollback(make_run(app), to=app.args.to)
    finally:
        reporter.summary(f"deploytools rollback {app.args.env}")
    return finish(
        app,
        result,
        lambda release: f"rolled back {result.env} to {result.to.id}: release {release}",
    )
