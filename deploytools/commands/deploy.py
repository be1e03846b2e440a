"""deploytools deploy: images, Terraform, targets, Amplify, smoke checks, release record."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, add_only
from deploytools.errors import ExitCode
from deploytools.output import github
from deploytools.pipeline import (
    AwsPolicy,
    Options,
    Ports,
    Run,
    RunPolicy,
    SandboxPolicy,
    deploy,
    real_ports,
)

NAME = "deploy"
HELP = "deploy an environment: images, Terraform, targets, Amplify, smoke, release record"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)
    parser.add_argument("--tag", help="extra image tag (default: content tag and git SHA)")
    parser.add_argument(
        "--yes", action="store_true", help="confirm a deploy to a protected environment"
    )


def default_ports(app: App) -> Ports:
    """The step modules; tests replace this to inject their own."""
    return real_ports(app.config.root)


def make_run(app: App, *, start_sandbox: bool = False) -> Run:
    """The pipeline's view of a command: config, AWS (or the sandbox), options, ports."""
    env = app.env_config()
    registry: str | None = None
    policy: RunPolicy = AwsPolicy()
    if app.args.sandbox:
        missing: dict[str, str] = {}
        from deploytools.sandbox import state

        running = state.read()
        if running is None and start_sandbox:
            from deploytools.commands.sandbox import ensure_running

            app.reporter.line("sandbox: not running; starting it in the background")
            running = ensure_running()
        if running is not None:
            registry, missing = running.registry, dict(running.missing)
            app.reporter.line(f"sandbox: AWS at {running.aws_url} (export AWS_ENDPOINT_URL=…)")
        policy = SandboxPolicy(missing=missing)
    options = Options(
        env=env.env,
        only=tuple(getattr(app.args, "only", None) or ()),
        tag=getattr(app.args, "tag", None),
        yes=bool(getattr(app.args, "yes", False)),
        registry=registry,
    )
    return Run(
        config=app.config,
        aws=app.aws(env),
        reporter=app.reporter,
        ports=default_ports(app),
        options=options,
        policy=policy,
    )


def run(app: App) -> int:
    pipeline_run = make_run(app, start_sandbox=True)
    reporter = app.reporter
    try:
        result = deploy(pipeline_run)
    finally:
        reporter.summary(f"deploytools deploy {app.args.env}")
    release = result.release.id if result.release else None
    if release:
        github.set_output("release", release)
    if app.args.json:
        reporter.document(reporter.steps_document(ok=True, exit_code=0, **result.as_dict()))
    else:
        reporter.line(f"deployed {result.env}" + (f": release {release}" if release else ""))
    return ExitCode.OK
