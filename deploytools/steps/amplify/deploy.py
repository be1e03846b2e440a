"""One Amplify deploy: the app and branch reconciled, a RELEASE job started and followed, and
the result recorded. The repository access token comes from the caller's reader (the secrets
step's), so this step reads no parameter itself.

A job builds the commit with the app's build spec and environment. When the caller names the
job its last deploy ran (`DeployOptions.last_job`) and nothing of these changed since (the same
commit; reconciling the app and branch changed nothing; that job is the branch's latest and
succeeded), no job is started: a no-op deploy costs no build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.config.model import Amplify
from deploytools.errors import BadInput, DeployError
from deploytools.output import Reporter, Status, StepRecord, register_secret
from deploytools.steps.amplify.api import call
from deploytools.steps.amplify.desired import DesiredApp, amplify_config, desired_app
from deploytools.steps.amplify.job import (
    POLLING,
    JobWatch,
    Polling,
    start_release,
    wait,
    wait_for_running,
)
from deploytools.steps.amplify.reconcile import PLATFORM, ensure_app, ensure_branch

AccessTokenReader = Callable[[str], str]
"""An SSM parameter's decrypted value by name, or BadInput saying how to add the parameter."""


class AccessTokenMissing(BadInput):
    """The SSM parameter named by access_token_parameter does not exist."""


class AccessTokenUnreadable(DeployError):
    """The config names an access token parameter, but the step was given no reader for it."""


@dataclass(frozen=True)
class LastJob:
    """The job the app's last deploy started (and saw succeed), and that deploy's commit."""

    app_id: str
    job_id: str
    commit: str


@dataclass(frozen=True)
class JobBasis:
    """What decides whether a job must run: the commit being deployed (None: unknown, a job
    always runs) and the job the last deploy started."""

    commit: str | None = None
    last_job: LastJob | None = None


@dataclass(frozen=True)
class DeployOptions:
    """How the job is waited for, how the repository access token is read, and what the last
    deploy built (no job is started when nothing changed since)."""

    polling: Polling = POLLING
    access_token: AccessTokenReader | None = None
    commit: str | None = None  # the commit being deployed; None: unknown, a job always runs
    last_job: LastJob | None = None


@dataclass(frozen=True)
class AmplifyResult:
    app_id: str
    app_name: str
    branch: str
    job_id: str
    status: str
    default_domain: str
    url: str
    platform_fixed: bool
    created: bool
    changes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "app": self.app_name,
            "branch": self.branch,
            "job_id": self.job_id,
            "status": self.status,
            "default_domain": self.default_domain,
            "url": self.url,
            "platform_fixed": self.platform_fixed,
            "created": self.created,
            "changes": list(self.changes),
        }


def _access_token(amplify: Amplify, reader: AccessTokenReader | None) -> str | None:
    name = amplify.access_token_parameter
    if not name:
        return None
    if reader is None:
        raise AccessTokenUnreadable(
            f"frontend.amplify.access_token_parameter {name}: this Amplify deploy was given "
            "no reader for it (DeployOptions.access_token)"
        )
    try:
        value = reader(name)
    except BadInput as exc:
        raise AccessTokenMissing(f"frontend.amplify.access_token_parameter {exc}") from exc
    register_secret(value)  # whichever reader was given: the value never reaches output
    return value


def deploy_amplify(
    aws: AwsContext,
    env: EnvConfig,
    *,
    root: Path,
    reporter: Reporter,
    record: StepRecord,
    options: DeployOptions = DeployOptions(),
) -> AmplifyResult:
    """Create or update the app and branch, start a RELEASE job, and wait for it."""
    desired = desired_app(env, root=root)
    token = _access_token(amplify_config(env), options.access_token)
    client = aws.client("amplify")
    outcome = ensure_app(
        client,
        desired,
        description=f"managed by deploytools ({env.model.project}, {env.env})",
        token=token,
        reporter=reporter,
        record=record,
    )
    app_id = outcome.app["appId"]
    branch = ensure_branch(client, app_id, desired, record)
    watch = JobWatch(client, app_id, desired.branch, reporter, options.polling)
    built = _already_built(watch, options, record)
    if built is not None:
        job_id, status = built, "SUCCEED"
    else:
        wait_for_running(watch)
        job_id = start_release(
            watch, reason=f"deploytools deploy --env {env.env}", repository=desired.repository
        )
        record.change(f"started RELEASE job {job_id}")
        status = wait(watch, job_id, raise_on_failure=True)
    domain = str(outcome.app.get("defaultDomain", ""))
    url = f"https://{branch.get('displayName') or desired.branch}.{domain}" if domain else ""
    platform_fixed = outcome.diff.platform_fix
    result = AmplifyResult(
        app_id=app_id,
        app_name=desired.name,
        branch=desired.branch,
        job_id=job_id,
        status=status,
        default_domain=domain,
        url=url,
        platform_fixed=platform_fixed,
        created=outcome.created,
        changes=tuple(record.changed),
    )
    record.detail["amplify"] = result.as_dict()
    if built is not None:
        record.status = Status.UNCHANGED
        record.summary = _unchanged_summary(desired, job_id)
        return result
    record.summary = f"{desired.name} job {job_id} {status}" + (
        f" (platform fixed to {PLATFORM})" if platform_fixed else ""
    )
    return result


def _already_built(watch: JobWatch, options: DeployOptions, record: StepRecord) -> str | None:
    """The last deploy's job, when it built what this deploy would build; else None."""
    last = options.last_job
    if record.changed or last is None or options.commit is None:
        return None
    if (last.app_id, last.commit) != (watch.app_id, options.commit):
        return None
    latest = call(
        watch.client, "list_jobs", appId=watch.app_id, branchName=watch.branch, maxResults=1
    ).get("jobSummaries", [])
    if not latest or str(latest[0].get("jobId")) != last.job_id:
        return None  # a job ran since (a console build, a failed deploy): build again
    return last.job_id if latest[0].get("status") == "SUCCEED" else None


def _unchanged_summary(desired: DesiredApp, job_id: str) -> str:
    return (
        f"{desired.name}: no job started; job {job_id} built this commit with this build spec "
        "and environment"
    )
