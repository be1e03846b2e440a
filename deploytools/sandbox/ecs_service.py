"""The ECS service scheduler of the sandbox: deployments whose tasks are real containers.

For every service it sees, a scheduler thread keeps each deployment's `desiredCount` tasks
running as containers (deploytools.sandbox.containers), one container per container
definition, with the definition's environment, its `secrets` resolved from the sandbox's SSM
by `valueFrom` (the value reaches the container only), command, entry point and working
directory. What the containers do decides everything:

- a task whose image cannot be pulled stops with `CannotPullContainerError: …`, one whose
  process cannot start with `CannotStartContainerError: …`, one whose secrets cannot be read
  with `ResourceInitializationError: …`;
- an essential container that exits stops its task: `Essential container in task exited`,
  with the container's exit code;
- a container `healthCheck` runs inside the container (`docker exec`) every `interval`
  seconds after `startPeriod`; `retries` failures in a row stop the task (`Task failed
  container health checks`); one pass makes it HEALTHY. Without a health check, a task that
  keeps running for the stability window counts as healthy;
- a deployment is COMPLETED once `desiredCount` of its tasks are healthy (older deployments'
  tasks are then stopped); with the circuit breaker, `failedTasks` reaching half the desired count
  (clamped 3..200) makes it FAILED and, with rollback, the last COMPLETED deployment is
  PRIMARY again, its tasks kept (or brought back) to its desired count; without a breaker
  the scheduler replaces failed tasks for ever.

Without a Docker engine no task runs: a deployment is COMPLETED at once and its events say
`simulated: …` with the reason.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from deploytools.sandbox.containers import ContainerSpec, ContainerState, PullFailed, StartFailed

MAX_EVENTS = 100
MAX_STOPPED = 20
TICK = 0.25  # seconds between two looks at a service's containers
RETRY_PAUSE = 1.0  # between two launches of a deployment that is failing

Call = Callable[[str, dict[str, Any]], dict[str, Any]]
Secrets = Callable[[Sequence[str]], dict[str, str]]  # valueFrom references -> values


class SecretsUnavailable(Exception):
    """Some valueFrom references name no parameter; the message lists them."""


class Workloads(Protocol):
    def start(self, spec: ContainerSpec) -> str: ...
    def state(self, container_id: str) -> ContainerState: ...
    def exec(self, container_id: str, command: Sequence[str], timeout: float) -> int | None: ...
    def remove(self, container_id: str) -> None: ...


@dataclass(frozen=True)
class Failure:
    """Why a task stopped: its stoppedReason and stopCode, and the container that caused it."""

    stopped_reason: str
    container: str
    stop_code: str = "TaskFailedToStart"
    exit_code: int | None = None
    container_reason: str | None = None


@dataclass
class Task:
    arn: str
    deployment: str
    task_definition: str
    cluster_arn: str
    group: str
    started_at: float  # epoch seconds
    started: float = field(default_factory=time.monotonic)
    containers: dict[str, str] = field(default_factory=dict)  # name -> container id ("" if none)
    images: dict[str, str] = field(default_factory=dict)
    failure: Failure | None = None
    stopped: bool = False
    stopped_reason: str = ""
    removed: bool = False  # its containers are gone
    health: str = "UNKNOWN"
    failed_checks: dict[str, int] = field(default_factory=dict)
    next_check: float = 0.0

    def as_json(self) -> dict[str, Any]:
        status = "STOPPED" if self.stopped else "RUNNING"
        task: dict[str, Any] = {
            "taskArn": self.arn,
            "clusterArn": self.cluster_arn,
            "taskDefinitionArn": self.task_definition,
            "group": self.group,
            "startedBy": "ecs-svc",
            "lastStatus": status,
            "desiredStatus": status,
            "healthStatus": self.health,
            "launchType": "FARGATE",
            "createdAt": self.started_at,
            "startedAt": self.started_at,
            "containers": [self._container(name, status) for name in self.containers],
        }
        if self.stopped:
            reason = self.failure.stopped_reason if self.failure else self.stopped_reason
            code = self.failure.stop_code if self.failure else "ServiceSchedulerInitiated"
            task.update(stoppedReason=reason, stopCode=code, stoppedAt=time.time())
        return task

    def _container(self, name: str, status: str) -> dict[str, Any]:
        container: dict[str, Any] = {
            "containerArn": f"{self.arn}/{name}",
            "taskArn": self.arn,
            "name": name,
            "image": self.images.get(name, ""),
            "lastStatus": status,
        }
        if self.containers.get(name):
            container["runtimeId"] = self.containers[name]
        if self.failure is not None and self.failure.container == name:
            if self.failure.exit_code is not None:
                container["exitCode"] = self.failure.exit_code
            if self.failure.container_reason:
                container["reason"] = self.failure.container_reason
        return container


@dataclass
class Deployment:
    id: str
    task_definition: str
    desired: int
    definition: dict[str, Any]
    created_at: float  # epoch seconds
    status: str = "PRIMARY"
    rollout: str = "IN_PROGRESS"
    reason: str = ""
    running: int = 0
    failed_tasks: int = 0
    launch_type: str | None = None
    last_failure: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.task_definition,
            "desiredCount": self.desired,
            "pendingCount": max(0, self.desired - self.running) if self.rollout != "FAILED" else 0,
            "runningCount": self.running,
            "failedTasks": self.failed_tasks,
            "createdAt": self.created_at,
            "updatedAt": time.time(),
            "launchType": self.launch_type or "FARGATE",
            "rolloutState": self.rollout,
            "rolloutStateReason": self.reason or f"ECS deployment {self.id} in progress.",
        }


@dataclass
class ServiceState:
    arn: str
    name: str
    cluster_arn: str
    configuration: dict[str, Any]
    secrets: Secrets
    call: Call
    deployments: list[Deployment] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    deleted: bool = False

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    def event(self, message: str) -> None:
        self.events.insert(
            0, {"id": str(uuid.uuid4()), "createdAt": time.time(), "message": message}
        )
        del self.events[MAX_EVENTS:]

    def breaker(self) -> tuple[bool, bool]:
        config = self.configuration.get("deploymentCircuitBreaker") or {}
        return bool(config.get("enable")), bool(config.get("rollback"))


def failure_threshold(desired: int) -> int:
    return min(200, max(3, math.ceil(desired * 0.5)))


def new_deployment_id() -> str:
    return f"ecs-svc/{uuid.uuid4().int % 10**19}"


class Scheduler:
    """Runs the tasks of every service; all state is guarded by `lock`."""

    def __init__(
        self,
        workloads: Workloads | str,
        *,
        stability_seconds: float = 3.0,
        health_scale: float = 1.0,
    ) -> None:
        self.workloads = workloads  # or why there are none
        self.stability_seconds = stability_seconds
        self.health_scale = health_scale
        self.lock = threading.RLock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def simulated(self) -> str | None:
        return self.workloads if isinstance(self.workloads, str) else None

    def watch(self, service: ServiceState) -> None:
        thread = threading.Thread(
            target=self._loop, args=(service,), name=f"ecs-{service.name}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)

    # --- the loop -----------------------------------------------------------------------------

    def _loop(self, service: ServiceState) -> None:
        while not self._stopping.is_set():
            try:
                self._tick(service)
            except Exception as exc:  # a scheduler that dies would leave a deployment hanging
                with self.lock:
                    service.event(f"(service {service.name}) sandbox scheduler error: {exc}")
            if service.deleted:
                break
            self._stopping.wait(TICK)
        with self.lock:
            tasks = [t for t in service.tasks if not t.removed]
        self._retire(service, tasks, "Service deleted")

    def _tick(self, service: ServiceState) -> None:
        with self.lock:
            self._retire_orphans(service)
            leftovers = [t for t in service.tasks if t.stopped and not t.removed]
            deployments = list(service.deployments)
        for task in leftovers:
            self._remove(task)
        for deployment in deployments:
            self._reconcile(service, deployment)

    def _reconcile(self, service: ServiceState, deployment: Deployment) -> None:
        if self.simulated is not None:
            self._simulate(service, deployment)
            return
        with self.lock:
            mine = [t for t in service.tasks if t.deployment == deployment.id and not t.stopped]
        for task in mine:
            self._check(service, deployment, task)
        with self.lock:
            alive = [t for t in mine if not t.stopped]
            extra = alive[deployment.desired :]
            enabled, _ = service.breaker()
            gave_up = enabled and deployment.failed_tasks >= failure_threshold(deployment.desired)
            paused = time.monotonic() - deployment.last_failure < RETRY_PAUSE
            missing = 0
            current = deployment in service.deployments  # not replaced since the tick began
            if current and deployment.rollout != "FAILED" and not gave_up and not paused:
                missing = deployment.desired - len(alive)
                if enabled:  # no more launches than the breaker lets fail
                    threshold = failure_threshold(deployment.desired)
                    missing = min(missing, threshold - deployment.failed_tasks)
        self._retire(service, extra, "Scaling activity initiated by deployment")
        for _ in range(max(0, missing)):
            self._launch(service, deployment)
        with self.lock:
            alive = [t for t in service.tasks if t.deployment == deployment.id and not t.stopped]
            deployment.running = len(alive)
            if deployment.rollout != "IN_PROGRESS" or deployment not in service.deployments:
                return
            healthy = [t for t in alive if t.health == "HEALTHY"]
            if deployment.status == "PRIMARY" and len(healthy) >= deployment.desired:
                self._complete(service, deployment)
            elif enabled and deployment.failed_tasks >= failure_threshold(deployment.desired):
                self._fail(service, deployment)

    def _simulate(self, service: ServiceState, deployment: Deployment) -> None:
        with self.lock:
            deployment.running = deployment.desired
            if deployment.rollout == "IN_PROGRESS" and deployment.status == "PRIMARY":
                service.event(
                    f"(service {service.name}) simulated: the tasks of "
                    f"{_revision(deployment.task_definition)} were not run ({self.simulated})."
                )
                self._complete(service, deployment)

    # --- tasks --------------------------------------------------------------------------------

    def _launch(self, service: ServiceState, deployment: Deployment) -> None:
        assert not isinstance(self.workloads, str)
        task = Task(
            arn=_task_arn(service.arn, service.cluster_arn),
            deployment=deployment.id,
            task_definition=deployment.task_definition,
            cluster_arn=service.cluster_arn,
            group=f"service:{service.name}",
            started_at=time.time(),
        )
        definitions = deployment.definition.get("containerDefinitions", [])
        for container in definitions:
            task.containers[container["name"]] = ""
            task.images[container["name"]] = str(container.get("image", ""))
        with self.lock:
            service.tasks.append(task)
        for container in definitions:
            failure = self._start_container(service, deployment, task, container)
            if failure is not None:
                self._stop(service, deployment, task, failure)
                return
        with self.lock:
            service.event(
                f"(service {service.name}) has started 1 tasks: (task {_short(task.arn)})."
            )

    def _start_container(
        self, service: ServiceState, deployment: Deployment, task: Task, container: dict[str, Any]
    ) -> Failure | None:
        assert not isinstance(self.workloads, str)
        name = str(container["name"])
        env = {str(e["name"]): str(e.get("value", "")) for e in container.get("environment", [])}
        secrets = {str(s["name"]): str(s["valueFrom"]) for s in container.get("secrets", [])}
        try:
            values = service.secrets(list(secrets.values())) if secrets else {}
        except SecretsUnavailable as exc:
            return Failure(
                "ResourceInitializationError: unable to pull secrets or registry auth: "
                "execution resource retrieval failed: unable to retrieve secrets from ssm: "
                f"service call has been retried 1 time(s): invalid ssm parameters: {exc}",
                container=name,
            )
        env.update({key: values[ref] for key, ref in secrets.items()})
        spec = ContainerSpec(
            image=str(container.get("image", "")),
            name=f"{service.name}-{name}",
            env=env,
            command=container.get("command") or None,
            entrypoint=container.get("entryPoint") or None,
            workdir=container.get("workingDirectory") or None,
            labels={"deploytools.workload": f"ecs:{service.name}", "deploytools.task": task.arn},
        )
        try:
            task.containers[name] = self.workloads.start(spec)
        except PullFailed as exc:
            return Failure(
                f"CannotPullContainerError: pull image manifest has been retried 1 time(s): {exc}",
                container=name,
                container_reason="CannotPullContainerError",
            )
        except StartFailed as exc:
            return Failure(
                f"CannotStartContainerError: {exc}",
                container=name,
                container_reason="CannotStartContainerError",
            )
        return None

    def _check(self, service: ServiceState, deployment: Deployment, task: Task) -> None:
        """Exit codes first, then health checks."""
        assert not isinstance(self.workloads, str)
        containers = {c["name"]: c for c in deployment.definition.get("containerDefinitions", [])}
        for name, container_id in task.containers.items():
            state = self.workloads.state(container_id)
            if not state.running and containers.get(name, {}).get("essential", True):
                self._stop(
                    service,
                    deployment,
                    task,
                    Failure(
                        "Essential container in task exited",
                        container=name,
                        stop_code="EssentialContainerExited",
                        exit_code=state.exit_code,
                        container_reason=state.error or None,
                    ),
                )
                return
        checks = {name: c["healthCheck"] for name, c in containers.items() if c.get("healthCheck")}
        now = time.monotonic()
        if not checks:
            if now - task.started >= self.stability_seconds:
                task.health = "HEALTHY"
            return
        if now < task.next_check:
            return
        task.next_check = now + self._scaled(checks, "interval", 30)
        passed = True
        for name, check in checks.items():
            if self._healthy(task.containers[name], check):
                task.failed_checks[name] = 0
                continue
            passed = False
            if now - task.started < float(check.get("startPeriod", 0)) * self.health_scale:
                continue  # failures in the start period do not count
            task.failed_checks[name] = task.failed_checks.get(name, 0) + 1
            if task.failed_checks[name] >= int(check.get("retries", 3)):
                task.health = "UNHEALTHY"
                self._stop(
                    service,
                    deployment,
                    task,
                    Failure(
                        "Task failed container health checks",
                        container=name,
                        stop_code="ServiceSchedulerInitiated",
                    ),
                )
                return
        if passed:
            task.health = "HEALTHY"

    def _healthy(self, container_id: str, check: dict[str, Any]) -> bool:
        assert not isinstance(self.workloads, str)
        command = [str(part) for part in check.get("command", [])]
        if command[:1] == ["CMD-SHELL"]:
            command = ["/bin/sh", "-c", " ".join(command[1:])]
        elif command[:1] == ["CMD"]:
            command = command[1:]
        if not command:
            return False
        timeout = float(check.get("timeout", 5))
        return self.workloads.exec(container_id, command, timeout) == 0

    def _scaled(self, checks: dict[str, dict[str, Any]], key: str, default: float) -> float:
        return min(float(c.get(key, default)) for c in checks.values()) * self.health_scale

    def _stop(
        self, service: ServiceState, deployment: Deployment, task: Task, failure: Failure
    ) -> None:
        self._remove(task)
        with self.lock:
            task.failure, task.stopped = failure, True
            deployment.failed_tasks += 1
            deployment.last_failure = time.monotonic()
            service.event(
                f"(service {service.name}) (task {_short(task.arn)}) stopped: "
                f"{failure.stopped_reason}"
                + (f" (exit code {failure.exit_code})" if failure.exit_code is not None else "")
                + "."
            )
            stopped = [t for t in service.tasks if t.stopped]
            for old in stopped[:-MAX_STOPPED]:
                service.tasks.remove(old)

    def _retire(self, service: ServiceState, tasks: list[Task], reason: str) -> None:
        for task in tasks:
            self._remove(task)
            with self.lock:
                if not task.stopped:
                    task.stopped, task.stopped_reason = True, reason

    def _retire_orphans(self, service: ServiceState) -> None:
        """Tasks of deployments that are gone count as stopped at once (under the lock);
        their containers go on the scheduler's next look."""
        live = {d.id for d in service.deployments}
        for task in service.tasks:
            if not task.stopped and task.deployment not in live:
                task.stopped = True
                task.stopped_reason = "Scaling activity initiated by deployment"

    def _remove(self, task: Task) -> None:
        if not isinstance(self.workloads, str):
            for container_id in task.containers.values():
                if container_id:
                    self.workloads.remove(container_id)
        task.removed = True

    # --- deployments --------------------------------------------------------------------------

    def _complete(self, service: ServiceState, deployment: Deployment) -> None:
        deployment.rollout = "COMPLETED"
        deployment.reason = f"ECS deployment {deployment.id} completed."
        for old in [d for d in service.deployments if d is not deployment]:
            service.deployments.remove(old)
        self._retire_orphans(service)
        service.event(
            f"(service {service.name}) (deployment {deployment.id}) deployment completed."
        )
        service.event(f"(service {service.name}) has reached a steady state.")

    def _fail(self, service: ServiceState, deployment: Deployment) -> None:
        _, rollback = service.breaker()
        deployment.rollout = "FAILED"
        deployment.reason = "ECS deployment circuit breaker: tasks failed to start."
        service.event(
            f"(service {service.name}) (deployment {deployment.id}) deployment failed: "
            "tasks failed to start."
        )
        previous = next(
            (d for d in service.deployments if d is not deployment and d.rollout == "COMPLETED"),
            None,
        )
        if not rollback or previous is None:
            return
        service.deployments.remove(deployment)
        self._retire_orphans(service)
        previous.status = "PRIMARY"
        service.event(f"(service {service.name}) rolling back to deployment {previous.id}.")
        # moto's own record must agree, for whoever reads it without the emulator.
        service.call(
            "UpdateService",
            {
                "cluster": service.cluster_arn,
                "service": service.name,
                "taskDefinition": previous.task_definition,
            },
        )


def _task_arn(service_arn: str, cluster_arn: str) -> str:
    prefix = service_arn.split(":service/")[0]
    return f"{prefix}:task/{cluster_arn.rsplit('/', 1)[-1]}/{uuid.uuid4().hex}"


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _revision(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
