"""Amplify jobs: wait out one already running on the branch, start a RELEASE job of the commit
being deployed, and follow it to SUCCEED, or to a failure that names the step that failed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from deploytools.errors import DeployError
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter
from deploytools.steps.amplify.api import call

RUNNING = frozenset({"CREATED", "PENDING", "PROVISIONING", "RUNNING", "CANCELLING"})


class AmplifyJobFailed(DeployError):
    """The Amplify build/deploy job ended FAILED or CANCELLED."""

    def __init__(
        self, message: str, *, job_id: str, step: str | None, reason: str, log_url: str
    ) -> None:
        self.job_id, self.step, self.reason, self.log_url = job_id, step, reason, log_url
        super().__init__(message)


class AmplifyTimeout(DeployError):
    """The job did not finish in time (it keeps running in Amplify)."""


JOB_BACKOFF = Backoff(first=2.0, factor=1.5, cap=15.0, attempts=None)


@dataclass(frozen=True)
class Polling:
    """How the job is waited for: backoff between polls, a progress line now and then."""

    backoff: Backoff = JOB_BACKOFF
    timeout: float = 1800.0
    progress_every: float = 30.0


POLLING = Polling()


@dataclass(frozen=True)
class JobWatch:
    """Where a job runs and how it is followed: the client, app, branch, output and polling."""

    client: Any
    app_id: str
    branch: str
    reporter: Reporter
    polling: Polling = POLLING


def commit_id(repository: str) -> str | None:
    """Build the exact commit being deployed when this workflow runs in the app's repository."""
    sha, repo = os.environ.get("GITHUB_SHA"), os.environ.get("GITHUB_REPOSITORY")
    if sha and repo and repository.rstrip("/").removesuffix(".git").endswith(f"/{repo}"):
        return sha
    return None


def wait_for_running(watch: JobWatch) -> None:
    """A job already running on the branch (e.g. a console build) must end first."""
    latest = call(
        watch.client, "list_jobs", appId=watch.app_id, branchName=watch.branch, maxResults=1
    )
    summaries = latest.get("jobSummaries", [])
    if summaries and summaries[0].get("status") in RUNNING:
        job_id = str(summaries[0]["jobId"])
        watch.reporter.progress(
            f"amplify: job {job_id} is already running on {watch.branch}; waiting for it"
        )
        wait(watch, job_id, raise_on_failure=False)


def start_release(watch: JobWatch, *, reason: str, repository: str) -> str:
    """Start a RELEASE job (of the commit being deployed, when known); its id."""
    start: dict[str, Any] = {
        "appId": watch.app_id,
        "branchName": watch.branch,
        "jobType": "RELEASE",
        "jobReason": reason,
    }
    if commit := commit_id(repository):
        start["commitId"] = commit
    return str(call(watch.client, "start_job", **start)["jobSummary"]["jobId"])


def wait(watch: JobWatch, job_id: str, *, raise_on_failure: bool) -> str:
    """Poll the job to its end; its final status, or AmplifyJobFailed / AmplifyTimeout."""
    polling, backoff = watch.polling, watch.polling.backoff
    started = backoff.clock()
    last_status, last_progress = "", started
    attempt = 0
    while True:
        attempt += 1
        job = call(
            watch.client, "get_job", appId=watch.app_id, branchName=watch.branch, jobId=job_id
        )["job"]
        status = str(job["summary"]["status"])
        now = backoff.clock()
        if status == "SUCCEED":
            return status
        if status in ("FAILED", "CANCELLED"):
            if raise_on_failure:
                raise _failure(watch, job_id, status, job.get("steps", []))
            return status
        if status != last_status or now - last_progress >= polling.progress_every:
            running = [s["stepName"] for s in job.get("steps", []) if s.get("status") == "RUNNING"]
            step = f", step {running[0]}" if running else ""
            watch.reporter.progress(f"amplify job {job_id}: {status}{step} ({now - started:.0f}s)")
            last_status, last_progress = status, now
        if now - started >= polling.timeout:
            raise AmplifyTimeout(
                f"Amplify job {job_id} on {watch.app_id}/{watch.branch} is still {status} after "
                f"{polling.timeout:.0f}s; it keeps running in Amplify (see the console)"
            )
        backoff.sleep(min(backoff.delay(attempt), max(0.0, polling.timeout - (now - started))))


def console_url(region: str, app_id: str, branch: str, job_id: str) -> str:
    return (
        f"https://console.aws.amazon.com/amplify/home?region={region}#/{app_id}/{branch}/{job_id}"
    )


def _failure(
    watch: JobWatch, job_id: str, status: str, steps: list[dict[str, Any]]
) -> AmplifyJobFailed:
    app_id, branch = watch.app_id, watch.branch
    failed = next((s for s in steps if s.get("status") == "FAILED"), None)
    if failed is None:
        return AmplifyJobFailed(
            f"Amplify job {job_id} on {app_id}/{branch} ended {status} (no step failed: "
            "it was stopped)",
            job_id=job_id,
            step=None,
            reason=status,
            log_url="",
        )
    name = str(failed.get("stepName", "?"))
    reason = str(failed.get("statusReason") or "no reason given")
    log_url = str(failed.get("logUrl") or "")
    message = f"Amplify job {job_id} on {app_id}/{branch} failed at step {name}: {reason}"
    if "X-Amz-Signature" in log_url or "Signature=" in log_url:
        # A presigned URL is a bearer credential for the log: keep it out of CI output.
        region = str(watch.client.meta.region_name)
        message += f"; log: {console_url(region, app_id, branch, job_id)}"
    elif log_url:
        message += f"; log: {log_url}"
    return AmplifyJobFailed(message, job_id=job_id, step=name, reason=reason, log_url=log_url)
