"""deploytools secrets: list, export or exec with the environment's SSM parameters."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, not_implemented

NAME = "secrets"
HELP = "list, export or exec with the environment's secrets from SSM Parameter Store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "export", "exec"), help="what to do")
    add_env(parser)
    parser.add_argument(
        "--format", choices=("github", "dotenv", "json"), default=None,
        help="export format (github writes to $GITHUB_ENV, masked)",
    )  # fmt: skip
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="with exec: -- CMD [ARGS...]")


def run(app: App) -> int:
    app.config.environment(app.args.env)
    raise not_implemented(NAME, "the secrets issue")
