"""deploytools deploy: images, Terraform, targets, Amplify, smoke checks, release record."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, add_only, not_implemented

NAME = "deploy"
HELP = "deploy an environment: images, Terraform, targets, Amplify, smoke, release record"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)
    parser.add_argument("--tag", help="extra image tag (default: content tag and git SHA)")
    parser.add_argument(
        "--yes", action="store_true", help="confirm a deploy to a protected environment"
    )


def run(app: App) -> int:
    app.config.environment(app.args.env)
    raise not_implemented(NAME, "the targets issue builds the pipeline")
