"""deploytools matrix: the images that need building, as a GitHub Actions build matrix."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, not_implemented

NAME = "matrix"
HELP = "print JSON for a GitHub Actions strategy.matrix: the images that need building"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)


def run(app: App) -> int:
    app.config.environment(app.args.env)
    raise not_implemented(NAME, "the images issue")
