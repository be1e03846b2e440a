"""Watch one ECS deployment until it completes, fails, is rolled back, or runs out of time.

We track the deployment by its id (from the UpdateService answer), not the service's
stability: botocore's `services_stable` waiter and `aws ecs wait services-stable` ask only
"one deployment, runningCount == desiredCount", which is also true after the circuit
breaker has rolled the deployment back, so they report a failed deploy as a success.
Here a deployment that disappears, or stops being PRIMARY, is a failure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.errors import DeployError
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter
from deploytools.steps.targets.ecs_taskdef import short_name

MAX_EVENTS = 5
MAX_STOPPED = 100  # DescribeTasks takes at most 100 tasks


class DeploymentFailed(DeployError):
    """The watched deployment failed; `reasons` says why, line by line."""

    def __init__(self, why: str, reasons: list[str], *, rolled_back_by_ecs: bool) -> None:
        self.why = why
        self.reasons = reasons
        self.rolled_back_by_ecs = rolled_back_by_ecs
        super().__init__("\n".join([why, *(f"  {r}" for r in reasons)]))


class Phase(StrEnum):
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    phase: Phase
    why: str = ""
    deployment: Mapping[str, Any] = field(default_factory=dict)  # ours, when still listed
    rolled_back_by_ecs: bool = False


def failure_threshold(desired: int) -> int:
    """The failed-task count at which ECS's circuit breaker trips: half the desired count,
    at least 3, at most 200. Used for services without a circuit breaker, which ECS would
    otherwise retry for hours."""
    return min(200, max(3, math.ceil(desired * 0.5)))


def circuit_breaker(service: Mapping[str, Any]) -> tuple[bool, bool]:
    """(enabled, rollback) of the service's deployment circuit breaker."""
    breaker = service.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    return bool(breaker.get("enable")), bool(breaker.get("rollback"))


def primary(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for deployment in service.get("deployments", []):
        if deployment.get("status") == "PRIMARY":
            return deployment  # type: ignore[no-any-return]
    return None


def find_deployment(
    service: Mapping[str, Any], deployment_id: str | None, task_definition: str
) -> Mapping[str, Any] | None:
    """Ours: by id when we know it, else the PRIMARY one running our task definition."""
    for deployment in service.get("deployments", []):
        if deployment_id is not None and deployment.get("id") == deployment_id:
            return deployment  # type: ignore[no-any-return]
    if deployment_id is None:
        current = primary(service)
        if current is not None and current.get("taskDefinition") == task_definition:
            return current
    return None


def judge(
    service: Mapping[str, Any], *, deployment_id: str | None, task_definition: str
) -> Verdict:
    """Where our deployment stands in one DescribeServices answer."""
    ours = find_deployment(service, deployment_id, task_definition)
    now_primary = primary(service)
    on_primary = short_name(str((now_primary or {}).get("taskDefinition", "?")))
    label = deployment_id or f"of {short_name(task_definition)}"
    if ours is None:
        back = now_primary is not None and now_primary.get("taskDefinition") != task_definition
        why = f"deployment {label} disappeared from the service"
        if back:
            why += f": rolled back by the circuit breaker to {on_primary}"
        return Verdict(Phase.FAILED, why, rolled_back_by_ecs=back)
    if ours.get("status") != "PRIMARY":
        back = now_primary is not None and now_primary.get("taskDefinition") != task_definition
        why = f"deployment {label} is no longer the primary one: the service moved to {on_primary}"
        if ours.get("rolloutState") == "FAILED":
            why = f"deployment {label} failed and is being rolled back to {on_primary}"
        return Verdict(Phase.FAILED, why, ours, rolled_back_by_ecs=back)
    state = ours.get("rolloutState")
    if state == "COMPLETED":
        return Verdict(Phase.DONE, deployment=ours)
    if state == "FAILED":
        reason = ours.get("rolloutStateReason") or "rollout FAILED"
        return Verdict(Phase.FAILED, f"deployment {label} failed: {reason}", ours)
    enabled, _ = circuit_breaker(service)
    failed = int(ours.get("failedTasks", 0))
    threshold = failure_threshold(int(ours.get("desiredCount", 0)))
    if not enabled and failed >= threshold:
        return Verdict(
            Phase.FAILED,
            f"deployment {label}: {failed} tasks failed to start (the service has no circuit "
            f"breaker; deploytools stops at its threshold of {threshold})",
            ours,
        )
    # Services from before rollout states: the waiter's test, which is safe here because the
    # single deployment is ours.
    single = len(service.get("deployments", [])) == 1
    if state is None and single and ours.get("runningCount") == ours.get("desiredCount"):
        return Verdict(Phase.DONE, deployment=ours)
    return Verdict(Phase.WAITING, deployment=ours)


@dataclass
class Watcher:
    """Polls one service for one deployment; collects the reasons when it fails."""

    client: Any
    cluster: str
    service: str
    reporter: Reporter
    polling: Backoff

    def describe(self) -> Mapping[str, Any]:
        try:
            answer = self.client.describe_services(cluster=self.cluster, services=[self.service])
        except (ClientError, BotoCoreError) as exc:
            raise DeployError(f"ecs:DescribeServices {self.cluster}/{self.service}: {exc}") from exc
        services = answer.get("services", [])
        if not services:
            raise DeployError(f"ECS service {self.service} disappeared from cluster {self.cluster}")
        return services[0]  # type: ignore[no-any-return]

    def wait(
        self,
        *,
        deployment_id: str | None,
        task_definition: str,
        since: datetime | None,
        timeout: float,
    ) -> Mapping[str, Any]:
        """The completed deployment; raises DeploymentFailed with the reasons otherwise."""
        label = deployment_id or short_name(task_definition)
        last_line = ""
        failed_seen = 0
        service: Mapping[str, Any] = {}
        verdict = Verdict(Phase.WAITING)
        for elapsed in self.polling.ticks(timeout):
            service = self.describe()
            verdict = judge(service, deployment_id=deployment_id, task_definition=task_definition)
            if verdict.phase is Phase.DONE:
                return verdict.deployment
            if verdict.phase is Phase.FAILED:
                raise self._failed(verdict.why, service, verdict, task_definition, since)
            ours = verdict.deployment
            deployment_id = deployment_id or ours.get("id")
            failed = int(ours.get("failedTasks", 0))
            line = (
                f"{self.service}: deployment {label} {ours.get('rolloutState', 'IN_PROGRESS')}, "
                f"{ours.get('runningCount', 0)}/{ours.get('desiredCount', 0)} running"
                + (f", {failed} failed" if failed else "")
            )
            if failed > failed_seen:
                failed_seen = failed
                stopped = self.stopped_reasons(task_definition)
                if stopped:
                    line += f"; last stop: {stopped[0]}"
            if line != last_line:
                self.reporter.progress(f"{line} ({elapsed:.0f}s)")
                last_line = line
        why = f"deployment {label} did not complete within {timeout:.0f}s"
        raise self._failed(why, service, verdict, task_definition, since)

    def _failed(
        self,
        why: str,
        service: Mapping[str, Any],
        verdict: Verdict,
        task_definition: str,
        since: datetime | None,
    ) -> DeploymentFailed:
        reasons: list[str] = []
        ours = verdict.deployment
        if ours:
            reason = ours.get("rolloutStateReason")
            if reason and reason not in why and ours.get("rolloutState") == "FAILED":
                reasons.append(f"rollout: {reason}")
            if ours.get("failedTasks"):
                reasons.append(f"failed tasks: {ours['failedTasks']}")
        reasons += [f"stopped task: {r}" for r in self.stopped_reasons(task_definition)]
        reasons += [f"event: {e}" for e in recent_events(service, since)]
        return DeploymentFailed(why, reasons, rolled_back_by_ecs=verdict.rolled_back_by_ecs)

    def stopped_reasons(self, task_definition: str) -> list[str]:
        """Why our task definition's tasks stopped, most frequent first, e.g.
        '3 tasks: CannotPullContainerError: … (container api: exit 1)'."""
        try:
            arns = self.client.list_tasks(
                cluster=self.cluster, serviceName=self.service, desiredStatus="STOPPED"
            ).get("taskArns", [])[:MAX_STOPPED]
            if not arns:
                return []
            tasks = self.client.describe_tasks(cluster=self.cluster, tasks=arns).get("tasks", [])
        except (ClientError, BotoCoreError) as exc:
            # The reasons are a courtesy; failing to read them must not hide the failure.
            return [f"(could not list stopped tasks: {exc})"]
        counts: Counter[str] = Counter()
        for task in tasks:
            if task.get("taskDefinitionArn") != task_definition:
                continue
            counts[describe_stop(task)] += 1
        return [f"{n} tasks: {text}" if n > 1 else text for text, n in counts.most_common()]


def describe_stop(task: Mapping[str, Any]) -> str:
    text = str(task.get("stoppedReason") or task.get("stopCode") or "stopped")
    details = []
    for container in task.get("containers", []):
        parts = []
        if container.get("reason"):
            parts.append(str(container["reason"]))
        if container.get("exitCode") not in (None, 0):
            parts.append(f"exit {container['exitCode']}")
        if parts:
            details.append(f"container {container.get('name', '?')}: {', '.join(parts)}")
    return f"{text} ({'; '.join(details)})" if details else text


def recent_events(service: Mapping[str, Any], since: datetime | None) -> list[str]:
    """The service's newest events (ECS lists newest first), from our deployment on."""
    picked = []
    for event in service.get("events", []):
        created = event.get("createdAt")
        if since is not None and isinstance(created, datetime) and created < since:
            continue
        picked.append(str(event.get("message", "")))
        if len(picked) == MAX_EVENTS:
            break
    return picked
