"""deploytools build: build (and push) the images whose content changed."""

from __future__ import annotations

import argparse
import json

from deploytools.commands import App, add_env
from deploytools.errors import BadInput, ExitCode
from deploytools.output import github

NAME = "build"
HELP = "build images for linux/amd64 (provenance off); --push pushes them to ECR"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="images to build (default: all)")
    parser.add_argument("--push", action="store_true", help="push to ECR and verify the manifest")
    parser.add_argument("--tag", help="extra tag (default: content tag and git SHA)")


def sandbox_registry() -> str:
    """The running sandbox's registry (host:port), which stands in for ECR's data plane."""
    from deploytools.sandbox import state

    running = state.read()
    if running is None:
        raise BadInput("the sandbox is not running; start it with: deploytools sandbox up")
    if not running.registry:
        why = running.missing.get("registry", "the sandbox has no container registry")
        raise BadInput(f"cannot push in the sandbox: {why}")
    return running.registry


def run(app: App) -> int:
    from deploytools.steps.images import BuildImages, build_images, image_names
    from deploytools.steps.release import deployed_commit

    args, reporter = app.args, app.reporter
    env = app.env_config()
    names = image_names(env, args.images)
    aws = None
    registry = None
    if args.push:
        aws = app.aws(env)
        aws.assert_account(env.environment.account_id, env=env.env)
        registry = sandbox_registry() if args.sandbox else None
    request = BuildImages(
        root=app.config.root,
        names=names,
        push=args.push,
        registry_override=registry,
        commit=deployed_commit(app.config.root),
        extra_tags=(args.tag,) if args.tag else (),
        steps=True,
    )
    results = build_images(aws, env, request, reporter=reporter)
    if args.push:
        # For later jobs: {"name": "repository_uri@sha256:…"}, as Terraform receives it.
        github.set_output("images", json.dumps({r.name: r.uri for r in results}))
    if args.json:
        reporter.document(reporter.steps_document(images=[r.as_dict() for r in results]))
    else:
        for result in results:
            reporter.line(f"{result.name}: {result.uri}")
    reporter.summary(f"deploytools build {env.env}")
    return ExitCode.OK
