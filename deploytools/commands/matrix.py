"""deploytools matrix: the images that need building, as a GitHub Actions build matrix.

Always one JSON document on stdout (with or without --json), for `strategy.matrix`:
{"include": [{"image": name, "tag": content tag, "repository": ECR repository}, …]}.
An image whose content tag ECR already has is left out; an empty `include` means nothing to
build (guard the job with `if: fromJSON(needs.<job>.outputs.matrix).include[0]`).
"""

from __future__ import annotations

import argparse
import json

from deploytools.commands import App, add_env
from deploytools.errors import ExitCode
from deploytools.output import github

NAME = "matrix"
HELP = "print JSON for a GitHub Actions strategy.matrix: the images that need building"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)


def run(app: App) -> int:
    from deploytools.steps.images import plan_images

    reporter = app.reporter
    reporter.json_mode = True  # stdout carries only the document; human lines go to stderr
    env = app.env_config()
    aws = app.aws(env)
    aws.assert_account(env.environment.account_id, env=env.env)
    with reporter.step("matrix") as record:
        plans = plan_images(aws, env, root=app.config.root)
        include = [
            {"image": p.name, "tag": p.tag, "repository": p.repository}
            for p in plans
            if not p.in_ecr
        ]
        skipped = [p.name for p in plans if p.in_ecr]
        record.summary = f"{len(include)} to build" + (
            f"; already in ECR: {', '.join(skipped)}" if skipped else ""
        )
    document = {"include": include}
    github.set_output("matrix", json.dumps(document, separators=(",", ":")))
    reporter.document(document)
    return ExitCode.OK
