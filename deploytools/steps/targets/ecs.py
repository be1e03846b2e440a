"""ECS services: a new task definition revision with the new image, then a watched deployment.

What `refresh` does, in order:

1. DescribeServices, then DescribeTaskDefinition (with tags) of the revision that runs now.
2. RegisterTaskDefinition: the live revision with only the target container changed (image,
   `environment` merged, secrets as `valueFrom` SSM ARNs, never values). If that would only
   repeat a live, completed revision, nothing is registered and nothing is deployed.
3. UpdateService to the new revision; the answer names the new PRIMARY deployment's id.
4. Watch that deployment (ecs_watch): COMPLETED is success; FAILED, gone (the circuit
   breaker rolled it back), no longer PRIMARY, too many failed tasks, or the timeout is a
   failure, with the rollout reason, stopped tasks' reasons and recent service events.
5. On failure: put the previous revision back (unless the circuit breaker already did),
   wait for that deployment too, and raise RolledBack with the reasons.

Nothing is ever deregistered. A revision that runs, that a release record names, or that
`rollback --to` may need must stay ACTIVE, and ECS cannot start tasks from an INACTIVE one;
revisions cost nothing. (fabfuel/ecs-deploy deregisters "the previous" revision after a
deploy it judged successful, which after a circuit-breaker rollback is the live one.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.config.model import EcsTarget
from deploytools.errors import BadInput, DeployError
from deploytools.lib.aws_errors import describe, error_code
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.targets._container import input_members, pick_secrets
from deploytools.steps.targets._wait import DEFAULT_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed, TargetState
from deploytools.steps.targets.ecs_taskdef import (
    ContainerChange,
    container_image,
    container_name,
    next_revision,
    same_definition,
    short_name,
)
from deploytools.steps.targets.ecs_watch import DeploymentFailed, Watcher, primary

__all__ = ["Refresher", "ServiceNotFound", "UnsupportedService"]


class ServiceNotFound(DeployError):
    """The ECS service does not exist (Terraform creates it; deploytools only refreshes it)."""


class UnsupportedService(BadInput):
    """The service is deployed by CodeDeploy or an external controller, not by ECS itself."""


class Refresher:
    """One ECS service (the `Refresher` protocol in steps.targets.base)."""

    def __init__(
        self,
        name: str,
        target: EcsTarget,
        *,
        aws: AwsContext,
        reporter: Reporter,
        polling: Backoff = DEFAULT_POLLING,
        **_context: Any,  # the pipeline hands every target type the same context
    ) -> None:
        if not target.service:
            raise BadInput(f"targets.{name}.service: no service name (load the config for an env)")
        self.name = name
        self.target = target
        self.cluster = target.cluster
        self.service = target.service
        self.client = aws.client("ecs")
        self.reporter = reporter
        self.polling = polling

    # --- read-only -----------------------------------------------------------------------

    def current(self) -> TargetState | None:
        service = self._find_service()
        if service is None:
            return None
        arn = self._stable_task_definition(service)
        definition, _ = self._task_definition(arn)
        container = container_name(definition, self.target.container)
        return self._state(arn, container_image(definition, container), container)

    def describe_change(self, image: str | None) -> str:
        where = f"ecs {self.cluster}/{self.service}"
        service = self._find_service()
        if service is None:
            return f"{where}: service not found (Terraform creates it); nothing to refresh yet"
        arn = self._stable_task_definition(service)
        definition, _ = self._task_definition(arn)
        container = container_name(definition, self.target.container)
        old = container_image(definition, container)
        if image is None or old == image:
            return (
                f"{where}: {container} stays on {old} ({short_name(arn)}); a new revision "
                "only if environment or secrets changed"
            )
        return f"{where}: {container} {old} → {image} (new revision after {short_name(arn)})"

    # --- changes ---------------------------------------------------------------------------

    def refresh(self, inputs: RefreshInputs, record: StepRecord) -> TargetState:
        image = inputs.image
        service = self._require_service()
        previous = self._stable_task_definition(service)
        live, tags = self._task_definition(previous)
        container = container_name(live, self.target.container)
        secrets = pick_secrets(inputs.secret_arns, self.target.secrets)
        environment = {**self.target.environment, **inputs.environment}
        request = next_revision(
            live,
            ContainerChange(container, image, environment, secrets),
            tags=tags,
            accepted=input_members(self.client, "RegisterTaskDefinition"),
        )
        now = primary(service) or {}
        if same_definition(live, request) and now.get("rolloutState") == "COMPLETED":
            record.status = Status.UNCHANGED
            record.summary = f"{self.service} already runs {short_name(previous)}"
            return self._state(previous, container_image(live, container), container)

        registered = self._call("register_task_definition", **request)["taskDefinition"]
        new_arn = str(registered["taskDefinitionArn"])
        record.change(f"registered {short_name(new_arn)}")
        record.detail.update(task_definition=new_arn, previous_task_definition=previous)
        try:
            self._deploy(new_arn, record)
        except DeploymentFailed as failure:
            restored = self._roll_back(previous, failure, record)
            raise RolledBack(
                f"ecs {self.cluster}/{self.service}: {failure.why}; "
                f"the service is back on {short_name(previous)}\n"
                + "\n".join(f"  {r}" for r in failure.reasons),
                restored,
            ) from failure
        record.summary = f"{self.service} → {short_name(new_arn)}"
        return self._state(new_arn, container_image(registered, container), container)

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        service = self._require_service()
        wanted = state.revision
        definition, tags = self._task_definition(wanted)
        now = primary(service) or {}
        if now.get("taskDefinition") == wanted and now.get("rolloutState") == "COMPLETED":
            record.status = Status.UNCHANGED
            record.summary = f"{self.service} already runs {short_name(wanted)}"
            return self._state_from(wanted, definition)
        if definition.get("status") == "INACTIVE":
            # ECS starts no tasks from a deregistered revision: register an identical one.
            request = next_revision(
                definition,
                ContainerChange(container_name(definition, self.target.container)),
                tags=tags,
                accepted=input_members(self.client, "RegisterTaskDefinition"),
            )
            registered = self._call("register_task_definition", **request)["taskDefinition"]
            record.change(f"re-registered {short_name(wanted)} (it was INACTIVE)")
            wanted, definition = str(registered["taskDefinitionArn"]), registered
        try:
            self._deploy(wanted, record)
        except DeploymentFailed as failure:
            raise TargetFailed(
                f"ecs {self.cluster}/{self.service}: restoring {short_name(wanted)} failed: "
                f"{failure.why}\n" + "\n".join(f"  {r}" for r in failure.reasons)
            ) from failure
        record.summary = f"{self.service} → {short_name(wanted)}"
        return self._state_from(wanted, definition)

    # --- internals -----------------------------------------------------------------------

    def _deploy(
        self, task_definition: str, record: StepRecord, *, key: str = "deployment_id"
    ) -> None:
        """UpdateService to `task_definition` and watch the deployment it starts."""
        answer = self._call(
            "update_service",
            cluster=self.cluster,
            service=self.service,
            taskDefinition=task_definition,
        )["service"]
        record.change(f"service {self.service} → {short_name(task_definition)}")
        ours = primary(answer) or {}
        deployment_id = ours.get("id") if ours.get("taskDefinition") == task_definition else None
        since = ours.get("createdAt") if deployment_id else None
        record.detail[key] = deployment_id
        self._watch(deployment_id, task_definition, since)

    def _watch(self, deployment_id: str | None, task_definition: str, since: Any) -> None:
        self._watcher().wait(
            deployment_id=deployment_id,
            task_definition=task_definition,
            since=since if isinstance(since, datetime) else None,
            timeout=self.target.timeout,
        )

    def _roll_back(
        self, previous: str, failure: DeploymentFailed, record: StepRecord
    ) -> TargetState:
        """Back to `previous`: wait for the circuit breaker's rollback, or make our own."""
        self.reporter.progress(
            f"{self.service}: {failure.why}; rolling back to {short_name(previous)}"
        )
        service = self._require_service()
        now = primary(service) or {}
        try:
            if now.get("taskDefinition") == previous:
                # ECS rolls back by itself; its rollback may already have finished.
                if now.get("rolloutState") != "COMPLETED":
                    self._watch(now.get("id"), previous, None)
            else:
                self._deploy(previous, record, key="rollback_deployment_id")
        except DeploymentFailed as second:
            raise TargetFailed(
                f"ecs {self.cluster}/{self.service}: {failure.why}\n"
                + "".join(f"  {r}\n" for r in failure.reasons)
                + f"and the rollback to {short_name(previous)} failed too: {second.why}\n"
                + "\n".join(f"  {r}" for r in second.reasons)
            ) from second
        record.change(f"rolled back to {short_name(previous)}")
        definition, _ = self._task_definition(previous)
        return self._state_from(previous, definition)

    def _watcher(self) -> Watcher:
        return Watcher(self.client, self.cluster, self.service, self.reporter, self.polling)

    def _find_service(self) -> Mapping[str, Any] | None:
        try:
            answer = self.client.describe_services(cluster=self.cluster, services=[self.service])
        except ClientError as exc:
            # Before the first terraform apply the cluster itself may not exist yet.
            if error_code(exc) == "ClusterNotFoundException":
                return None
            raise self._failure("describe_services", exc) from exc
        except BotoCoreError as exc:
            raise self._failure("describe_services", exc) from exc
        for service in answer.get("services", []):
            if service.get("status") != "INACTIVE":
                return service  # type: ignore[no-any-return]
        return None

    def _require_service(self) -> Mapping[str, Any]:
        service = self._find_service()
        if service is None:
            raise ServiceNotFound(
                f"ECS service {self.service} not found in cluster {self.cluster} "
                "(Terraform creates it; run the terraform step first)"
            )
        controller = service.get("deploymentController", {}).get("type", "ECS")
        if controller != "ECS":
            raise UnsupportedService(
                f"ECS service {self.service} is deployed by {controller}; deploytools drives "
                "services with the ECS (rolling update) deployment controller"
            )
        return service

    @staticmethod
    def _stable_task_definition(service: Mapping[str, Any]) -> str:
        """What runs for sure: the PRIMARY deployment's revision once completed, else the
        newest completed one still listed (a deploy in flight is not what we restore to)."""
        deployments = service.get("deployments", [])
        now = primary(service)
        if now is not None and now.get("rolloutState") in ("COMPLETED", None):
            return str(now["taskDefinition"])
        for deployment in deployments:
            if deployment.get("rolloutState") == "COMPLETED":
                return str(deployment["taskDefinition"])
        return str(now["taskDefinition"] if now else service["taskDefinition"])

    def _task_definition(self, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        answer = self._call("describe_task_definition", taskDefinition=arn, include=["TAGS"])
        return answer["taskDefinition"], list(answer.get("tags") or [])

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(operation, exc) from exc
        return answer

    def _failure(self, operation: str, exc: ClientError | BotoCoreError) -> TargetFailed:
        return TargetFailed(describe(f"ecs:{operation} for {self.cluster}/{self.service}", exc))

    def _state_from(self, arn: str, definition: Mapping[str, Any]) -> TargetState:
        container = container_name(definition, self.target.container)
        return self._state(arn, container_image(definition, container), container)

    def _state(self, arn: str, image: str | None, container: str) -> TargetState:
        return TargetState(
            target=self.name,
            type="ecs",
            resource=self.service,
            image=image,
            revision=arn,
            detail={"cluster": self.cluster, "container": container},
        )
