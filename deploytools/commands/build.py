"""deploytools build: build (and push) the images whose content changed."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, not_implemented

NAME = "build"
HELP = "build images for linux/amd64 (provenance off); --push pushes them to ECR"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="images to build (default: all)")
    parser.add_argument("--push", action="store_true", help="push to ECR and verify the manifest")
    parser.add_argument("--tag", help="extra tag (default: content tag and git SHA)")


def run(app: App) -> int:
    app.config.environment(app.args.env)
    raise not_implemented(NAME, "the images issue")
