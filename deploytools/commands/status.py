"""deploytools status: what is live on every target, and drift from the last release."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, add_only, not_implemented

NAME = "status"
HELP = "show what is live on every target and any drift from the last release"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)


def run(app: App) -> int:
    app.config.environment(app.args.env)
    raise not_implemented(NAME, "the targets issue")
