"""deploytools rollback: restore the previous (or a named) release on every target."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, add_only, not_implemented

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
    app.config.environment(app.args.env)
    raise not_implemented(NAME, "the targets issue")
