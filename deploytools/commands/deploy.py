"""deploytools deploy: images, Terraform, targets, Amplify, smoke checks, release record."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from deploytools.commands import App, add_env, add_only
from deploytools.errors import ExitCode
from deploytools.output import github

if TYPE_CHECKING:  # the pipeline loads the AWS SDK: only the commands that run it import it
    from deploytools.pipeline import Ports, Run, RunPolicy
    from deploytools.steps.release import Release

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
    parser.add_argument(
        "--allow-empty", action="store_true",
        help="succeed even when every target is skipped (nothing deployed)",
    )  # fmt: skip
    add_force_unlock(parser)


def add_force_unlock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force-unlock", metavar="ID",
        help="remove the environment's lock with this id (a run that died holding it) first",
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
        force_unlock=getattr(app.args, "force_unlock", None),
        allow_empty=bool(getattr(app.args, "allow_empty", False)),
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
    if result.url:  # the GitHub environment's link (deploytools-deploy.yml `environment.url`)
        github.set_output("url", result.url)
    return finish(app, result, lambda release: _deployed_line(result.env, release, result.changed))


def _deployed_line(env: str, release: str | None, changed: bool) -> str:
    if not changed:
        live = f"release {release} is live" if release else "no release recorded"
        return f"deployed {env}: nothing changed ({live})"
    return f"deployed {env}" + (f": release {release}" if release else "")


class Released(Protocol):
    """What a deploy or a rollback hands back: the release it recorded, and its document."""

    @property
    def release(self) -> Release | None: ...
    def as_dict(self) -> dict[str, Any]: ...


def finish(app: App, result: Released, line: Callable[[str | None], str]) -> int:
    """The release id as a step output, then the JSON document or the line for it."""
    release = result.release.id if result.release else None
    if release:
        github.set_output("release", release)
    reporter = app.reporter
    if app.args.json:
        reporter.document(reporter.steps_document(ok=True, exit_code=0, **result.as_dict()))
    else:
        reporter.line(line(release))
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
