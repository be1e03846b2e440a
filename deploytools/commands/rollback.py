"""deploytools rollback: restore the previous (or a named) release on every target."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from deploytools.commands import App, add_env, add_only
from deploytools.commands.deploy import add_force_unlock, finish, make_run

if TYPE_CHECKING:
    from deploytools.pipeline.rollback import RollbackResult

NAME = "rollback"
HELP = "restore the last release that differs from what is live (or --to RELEASE)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)
    parser.add_argument("--to", metavar="RELEASE", help="release id to restore (default: previous)")
    parser.add_argument(
        "--yes", action="store_true", help="confirm a rollback of a protected environment"
    )
    add_force_unlock(parser)


def run(app: App) -> int:
    from deploytools.pipeline import rollback

    reporter = app.reporter
    try:
        result = rollback(make_run(app), to=app.args.to)
    finally:
        reporter.summary(f"deploytools rollback {app.args.env}")
    return finish(app, result, lambda release: _rolled_back_line(result, release))


def _rolled_back_line(result: RollbackResult, release: str | None) -> str:
    if result.to is None or release is None:
        return result.note
    return f"rolled back {result.env} to {result.to.id}: release {release}"
