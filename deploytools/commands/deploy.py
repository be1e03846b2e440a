"""deploytools deploy: images, Terraform, targets, Amplify, smoke checks, release record."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from deploytools.commands import App, add_env, add_only
from deploytools.errors import ExitCode
from deploytools.output import github

if TYPE_CHECKING:  # the pipeline loads the AWS SDK: only the commands that run it import it
    from deploytools.pipeline import Ports, Run, RunPolicy

NAME = "deploy"
HELP = "deploy an environment: images, Terraform, targets, Amplify, smoke, release record"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)
    parser.add_argument("--tag", help="extra image tag (default: content tag and git SHA)")
    parser.add_argument(
        "--yes", action="store_true", help="confirm a deploy to a protected environment"
    )
    parser.add_argument(
        "--allow-older", action="store_true",
        help="deploy even when the commit is older than the live release's",
    )  # fmt: skip


def default_ports(app: App) -> Ports:
    """The step modules; tests replace this to inject their own."""
    from deploytools.pipeline import real_ports

    return real_ports(app.config.root)


def make_run(app: App, *, start_sandbox: bool = False) -> Run:
    """The pipeline's view of a command: config, AWS (or the sandbox), options, ports."""
    from deploytools.pipeline import AwsPolicy, Options, Run, SandboxPolicy

    env = app.env_config()
    registry: str | None = None
    policy: RunPolicy = AwsPolicy()
    if app.args.sandbox:
        missing: dict[str, str] = {}
        api_base: str | None = None
        from deploytools.sandbox import state

        running = state.read()
        if running is None and start_sandbox:
            from deploytools.commands.sandbox import ensure_running

            app.reporter.line("sandbox: not running; starting it in the background")
            running = ensure_running()
        if running is not None:
            registry, missing = running.registry, dict(running.missing)
            api_base = running.serving.get("apigateway")
            app.reporter.line(f"sandbox: AWS at {running.aws_url} (export AWS_ENDPOINT_URL=…)")
        policy = SandboxPolicy(missing=missing, api_base=api_base)
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
    from deploytools.pipeline import deploy

    pipeline_run = make_run(app, start_sandbox=True)
    reporter = app.reporter
    if not app.args.allow_older:
        _refuse_older(app, pipeline_run)
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


def _refuse_older(app: App, pipeline_run: Run) -> None:
    """A queued run of an older commit must not replace a newer live release."""
    from deploytools.github.ancestry import check_not_older

    env = pipeline_run.env()
    store = pipeline_run.ports.releases.store(
        pipeline_run.aws, project=env.model.project, env=env.env
    )
    live = store.current()
    if live is None:
        return
    root = app.config.root
    deploying = pipeline_run.ports.clock.commit(root)
    warning = check_not_older(root, deploying=deploying, live=live.git_sha, release=live.id)
    if warning:
        app.reporter.warn(warning)
