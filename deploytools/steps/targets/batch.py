"""Batch job definitions: a new revision with the new image, and an optional smoke job.

`refresh` registers a new revision from the latest ACTIVE one, with only the container's
image, `environment` (merged) and secrets (`valueFrom` SSM ARNs, never values) changed.
Jobs submitted by name run the latest ACTIVE revision, so registering it is the deploy.
When the target has a `job_queue`, a smoke job runs the new revision and must SUCCEED;
otherwise the previous properties are put back and RolledBack is raised with the reasons.

Batch cannot point back at an older revision: jobs submitted by name take the newest. So
`restore` (and the rollback) registers a new revision equal to the recorded one. The
state it returns names that new revision (what runs now), with `detail.restored_from`
naming the recorded one. Nothing is deregistered: queued jobs may name any revision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.config.model import BatchTarget
from deploytools.errors import BadInput, DeployError
from deploytools.lib.aws_errors import describe
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.targets._container import apply_to_container, input_members, pick_secrets
from deploytools.steps.targets._wait import DEFAULT_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed, TargetState

__all__ = ["JobDefinitionNotFound", "Refresher", "SmokeJobFailed", "UnsupportedJobDefinition"]

# DescribeJobDefinitions fields RegisterJobDefinition refuses; `input_members` drops them
# anyway, the list says why a copy is not a plain echo.
READ_ONLY = frozenset({"jobDefinitionArn", "revision", "status", "containerOrchestrationType"})
FINAL = ("SUCCEEDED", "FAILED")


class JobDefinitionNotFound(DeployError):
    """No ACTIVE revision of the job definition (Terraform creates the first one)."""


class UnsupportedJobDefinition(BadInput):
    """A multi-node or EKS job definition: deploytools refreshes container job definitions."""


class SmokeJobFailed(DeployError):
    """The smoke job on the new revision did not succeed."""


def revisionless(arn: str) -> str:
    """The job definition ARN without `:N`: Batch runs the newest ACTIVE revision for it."""
    head, _, revision = arn.rpartition(":")
    return head if revision.isdigit() and "job-definition/" in head else arn


def short_name(arn: str) -> str:
    """name:revision, for messages."""
    return arn.rsplit("/", 1)[-1]


class Refresher:
    """One Batch job definition (the `Refresher` protocol in steps.targets.base)."""

    def __init__(
        self,
        name: str,
        target: BatchTarget,
        *,
        aws: AwsContext,
        reporter: Reporter,
        polling: Backoff = DEFAULT_POLLING,
        **_context: Any,  # the pipeline hands every target type the same context
    ) -> None:
        if not target.job_definition:
            raise BadInput(
                f"targets.{name}.job_definition: no name (load the config for an environment)"
            )
        self.name = name
        self.target = target
        self.job_definition = target.job_definition
        self.client = aws.client("batch")
        self.reporter = reporter
        self.polling = polling

    # --- read-only -------------------------------------------------------------------------

    def current(self) -> TargetState | None:
        latest = self._latest()
        return None if latest is None else self._state(latest)

    def describe_change(self, image: str | None) -> str:
        where = f"batch {self.job_definition}"
        latest = self._latest()
        if latest is None:
            return f"{where}: no ACTIVE revision (Terraform creates it); nothing to refresh yet"
        old = latest.get("containerProperties", {}).get("image")
        arn = str(latest["jobDefinitionArn"])
        smoke = f"; smoke job on {self.target.job_queue}" if self.target.job_queue else ""
        if image is None or old == image:
            return (
                f"{where}: stays on {old} ({short_name(arn)}); a new revision only if "
                f"environment or secrets changed{smoke}"
            )
        return f"{where}: {old} → {image} (new revision after {short_name(arn)}){smoke}"

    # --- changes ---------------------------------------------------------------------------

    def refresh(self, inputs: RefreshInputs, record: StepRecord) -> TargetState:
        image = inputs.image
        previous = self._require_latest()
        secrets = pick_secrets(inputs.secret_arns, self.target.secrets)
        environment = {**self.target.environment, **inputs.environment}
        request = self._request(previous, image=image, environment=environment, secrets=secrets)
        if self._same(previous, request):
            record.status = Status.UNCHANGED
            record.summary = (
                f"{self.job_definition} already at {short_name(previous['jobDefinitionArn'])}"
            )
            return self._state(previous)
        registered = self._register(request)
        record.change(f"registered {short_name(registered['jobDefinitionArn'])}")
        record.detail.update(
            job_definition=registered["jobDefinitionArn"],
            previous_job_definition=previous["jobDefinitionArn"],
        )
        if self.target.job_queue:
            try:
                self._smoke(str(registered["jobDefinitionArn"]), record)
            except SmokeJobFailed as failure:
                restored = self._put_back(previous, record)
                raise RolledBack(
                    f"batch {self.job_definition}: {failure}; registered "
                    f"{short_name(restored.revision)} equal to "
                    f"{short_name(previous['jobDefinitionArn'])} again",
                    restored,
                ) from failure
        record.summary = (
            f"{self.job_definition} → {short_name(registered['jobDefinitionArn'])}; callers "
            f"submit with {self.job_definition} or {revisionless(registered['jobDefinitionArn'])}"
        )
        return self._state(registered)

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        wanted = self._describe(state.revision)
        if wanted is None:
            raise JobDefinitionNotFound(f"batch job definition {state.revision} not found")
        latest = self._latest()
        if latest is not None and self._same(latest, self._request(wanted)):
            record.status = Status.UNCHANGED
            record.summary = f"{self.job_definition} already equals {short_name(state.revision)}"
            return self._state(latest, restored_from=state.revision)
        restored = self._put_back(wanted, record)
        record.summary = f"{self.job_definition} → {short_name(restored.revision)}"
        return restored

    # --- internals -------------------------------------------------------------------------

    def _request(
        self,
        definition: Mapping[str, Any],
        *,
        image: str | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """RegisterJobDefinition arguments: `definition` with its container updated."""
        if "containerProperties" not in definition:
            kind = "multi-node" if "nodeProperties" in definition else "non-container"
            raise UnsupportedJobDefinition(
                f"batch job definition {self.job_definition} is a {kind} job definition; "
                "deploytools refreshes container job definitions (containerProperties)"
            )
        accepted = input_members(self.client, "RegisterJobDefinition")
        request = {k: v for k, v in definition.items() if k in accepted and k not in READ_ONLY}
        request["containerProperties"] = apply_to_container(
            definition["containerProperties"],
            image=image,
            environment=environment or {},
            secret_arns=secrets or {},
        )
        if not request.get("tags"):
            request.pop("tags", None)
        return request

    @staticmethod
    def _same(definition: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
        return all(definition.get(k) == v for k, v in request.items() if k != "tags")

    def _put_back(self, definition: Mapping[str, Any], record: StepRecord) -> TargetState:
        registered = self._register(self._request(definition))
        arn = str(definition["jobDefinitionArn"])
        record.change(
            f"registered {short_name(registered['jobDefinitionArn'])} equal to {short_name(arn)}"
        )
        return self._state(registered, restored_from=arn)

    def _smoke(self, arn: str, record: StepRecord) -> None:
        """Submit one job on the new revision; return when it SUCCEEDED."""
        revision = arn.rsplit(":", 1)[-1]
        job_name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.job_definition}-smoke-{revision}")[:128]
        submitted = self._call(
            "submit_job", jobName=job_name, jobQueue=self.target.job_queue, jobDefinition=arn
        )
        job_id = str(submitted["jobId"])
        record.change(f"smoke job {job_id} on {self.target.job_queue}")
        record.detail["smoke_job"] = job_id
        status = "SUBMITTED"
        job: Mapping[str, Any] = {}
        for elapsed in self.polling.ticks(self.target.timeout):
            jobs = self._call("describe_jobs", jobs=[job_id]).get("jobs", [])
            job = jobs[0] if jobs else {}
            if job.get("status") != status:
                status = str(job.get("status", "UNKNOWN"))
                self.reporter.progress(
                    f"{self.job_definition}: smoke job {status} ({elapsed:.0f}s)"
                )
            if status == "SUCCEEDED":
                return
            if status == "FAILED":
                raise SmokeJobFailed(f"smoke job {job_id} FAILED: {job_reason(job)}")
        try:
            self.client.terminate_job(jobId=job_id, reason="deploytools: smoke job timed out")
        except (ClientError, BotoCoreError) as exc:
            self.reporter.warn(f"could not terminate smoke job {job_id}: {exc}")
        raise SmokeJobFailed(
            f"smoke job {job_id} did not finish within {self.target.timeout}s (last: {status})"
        )

    def _register(self, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._call("register_job_definition", **request)
        found = self._describe(str(answer["jobDefinitionArn"]))
        return dict(found) if found is not None else {**request, **answer}

    def _latest(self) -> Mapping[str, Any] | None:
        revisions: list[Mapping[str, Any]] = []
        paginator = self.client.get_paginator("describe_job_definitions")
        try:
            pages = paginator.paginate(jobDefinitionName=self.job_definition, status="ACTIVE")
            for page in pages:
                revisions += page.get("jobDefinitions", [])
        except (ClientError, BotoCoreError) as exc:
            raise TargetFailed(
                f"batch:DescribeJobDefinitions {self.job_definition}: {exc}"
            ) from exc
        return max(revisions, key=lambda d: int(d.get("revision", 0)), default=None)

    def _require_latest(self) -> Mapping[str, Any]:
        latest = self._latest()
        if latest is None:
            raise JobDefinitionNotFound(
                f"batch job definition {self.job_definition} has no ACTIVE revision "
                "(Terraform creates the first one; run the terraform step first)"
            )
        return latest

    def _describe(self, arn: str) -> Mapping[str, Any] | None:
        found = self._call("describe_job_definitions", jobDefinitions=[arn]).get(
            "jobDefinitions", []
        )
        return found[0] if found else None

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            raise TargetFailed(
                describe(f"batch:{operation} for {self.job_definition}", exc)
            ) from exc
        except BotoCoreError as exc:
            raise TargetFailed(
                describe(f"batch:{operation} for {self.job_definition}", exc)
            ) from exc
        return answer

    def _state(
        self, definition: Mapping[str, Any], *, restored_from: str | None = None
    ) -> TargetState:
        # What callers hold: jobs submitted with it run the newest ACTIVE revision.
        detail: dict[str, Any] = {
            "revision": definition.get("revision"),
            "caller_arn": revisionless(str(definition["jobDefinitionArn"])),
        }
        if self.target.job_queue:
            detail["job_queue"] = self.target.job_queue
        if restored_from:
            detail["restored_from"] = restored_from
        return TargetState(
            target=self.name,
            type="batch",
            resource=self.job_definition,
            image=definition.get("containerProperties", {}).get("image"),
            revision=str(definition["jobDefinitionArn"]),
            detail=detail,
        )


def job_reason(job: Mapping[str, Any]) -> str:
    """statusReason plus the container's reason and exit code, from the job or its attempts."""
    parts = [str(job["statusReason"])] if job.get("statusReason") else []
    containers = [job.get("container") or {}]
    containers += [a.get("container") or {} for a in job.get("attempts", [])]
    for container in containers:
        if container.get("reason"):
            parts.append(f"container: {container['reason']}")
        if container.get("exitCode") not in (None, 0):
            parts.append(f"exit code {container['exitCode']}")
    unique = list(dict.fromkeys(parts))
    return "; ".join(unique) or "no reason given"
