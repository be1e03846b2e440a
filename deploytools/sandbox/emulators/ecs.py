"""ECS for the sandbox: moto's ECS behind a loopback proxy whose deployments run containers.

moto stores services and task definitions well, but its deployments never move and run
nothing. This proxy forwards every request to moto unchanged and rewrites the answers of
these operations (JSON 1.1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`):

- CreateService / UpdateService: a new deployment (PRIMARY, IN_PROGRESS) whenever the task
  definition changes or forceNewDeployment is set; the one before becomes ACTIVE. The
  requested `deploymentConfiguration` is kept (moto drops it on CreateService).
- DescribeServices / CreateService / UpdateService answers: `deployments`, `taskDefinition`,
  `runningCount`, `pendingCount`, `events` and `deploymentConfiguration` come from the
  scheduler (deploytools.sandbox.ecs_service).
- ListTasks with a `serviceName` (moto ignores that filter) and DescribeTasks: the service's
  tasks (RUNNING, or STOPPED with `stoppedReason`, `stopCode`, the container's `exitCode`;
  the newest 20 stopped kept; `runtimeId` is the Docker container's id); moto answers for
  every other task.
- DeleteService: the proxy forgets the service and its containers are removed.
- A service the proxy never saw created (made before it started) is taken as COMPLETED on the
  task definition it runs, and its tasks are started.

Executed: every task of every deployment, as containers on the local Docker engine, from the
loopback registry by the task definition's image reference, with its environment, SSM
secrets, command, entry point and working directory; health checks inside the containers.
Success and failure are what those containers do (see ecs_service for the rules).
Simulated: tasks when no Docker engine answers (the deployment completes and its event says
`simulated: …`); networking, load balancers, CPU and memory limits, IAM roles, logs.

Everything else (RegisterTaskDefinition, tags, clusters, other AWS services) is moto's.
DEPLOYTOOLS_SANDBOX_ECS_STABILITY_SECONDS (default 3) is the window a task without a health
check must keep running; DEPLOYTOOLS_SANDBOX_HEALTH_SCALE (default 1) scales health-check
intervals and start periods.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from botocore.config import Config

from deploytools.sandbox import containers, loopback_http
from deploytools.sandbox.ecs_service import (
    Call,
    Deployment,
    Scheduler,
    Secrets,
    SecretsUnavailable,
    ServiceState,
    Workloads,
    failure_threshold,
    new_deployment_id,
)
from deploytools.sandbox.emulators import Emulator, EmulatorContext
from deploytools.sandbox.loopback_http import Answer, Request

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
JSON_TYPE = "application/x-amz-json-1.1"
REWRITTEN = ("CreateService", "UpdateService", "DescribeServices", "DeleteService")

__all__ = ["EcsState", "Proxy", "Running", "failure_threshold", "serve", "start"]


class EcsState:
    """The deployments moto lacks, keyed by service ARN; the scheduler runs their tasks."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.services: dict[str, ServiceState] = {}
        self.lock = scheduler.lock

    # --- mutations seen on the way through -------------------------------------------------

    def created(
        self, request: dict[str, Any], service: dict[str, Any], call: Call, secrets: Secrets
    ) -> None:
        state = self._new(
            service, call, secrets, dict(request.get("deploymentConfiguration") or {})
        )
        with self.lock:
            if (
                service.get("taskDefinition")
                and service.get("deploymentController", {}).get("type", "ECS") == "ECS"
            ):
                self._start(state, service["taskDefinition"], service)

    def updated(
        self, request: dict[str, Any], service: dict[str, Any], call: Call, secrets: Secrets
    ) -> None:
        with self.lock:
            state = self._adopt(service, call, secrets)
            state.secrets, state.call = secrets, call
            if request.get("deploymentConfiguration"):
                state.configuration = dict(request["deploymentConfiguration"])
            current = state.primary
            wanted = request.get("taskDefinition")
            if wanted:
                wanted = call("DescribeTaskDefinition", {"taskDefinition": wanted})[
                    "taskDefinition"
                ]["taskDefinitionArn"]
            changed = wanted and (current is None or current.task_definition != wanted)
            if changed or request.get("forceNewDeployment"):
                definition = wanted or (current.task_definition if current else None)
                if definition:
                    self._start(state, definition, service)
            elif current is not None and "desiredCount" in request:
                current.desired = int(request["desiredCount"])

    def deleted(self, service: dict[str, Any]) -> None:
        with self.lock:
            state = self.services.pop(service.get("serviceArn", ""), None)
            if state is not None:
                state.deployments.clear()
                state.deleted = True

    # --- what answers look like -------------------------------------------------------------

    def overlay(self, service: dict[str, Any], call: Call, secrets: Secrets) -> None:
        """Rewrite one service of an answer from our state."""
        with self.lock:
            state = self._adopt(service, call, secrets)
            now = state.primary
            if now is not None:
                service["taskDefinition"] = now.task_definition
            service["deployments"] = [d.as_json() for d in state.deployments]
            service["runningCount"] = sum(d.running for d in state.deployments)
            service["pendingCount"] = sum(
                max(0, d.desired - d.running) for d in state.deployments if d.rollout != "FAILED"
            )
            service["events"] = [dict(e) for e in state.events]
            if state.configuration:
                service["deploymentConfiguration"] = dict(state.configuration)

    def known(self, cluster: str, name: str) -> bool:
        with self.lock:
            return any(
                s.name == name and s.cluster_arn.endswith(f"/{cluster}")
                for s in self.services.values()
            )

    def list_tasks(self, request: dict[str, Any]) -> list[str] | None:
        """ARNs for a ListTasks that names one of our services; None to let moto answer."""
        name = request.get("serviceName")
        if not name:
            return None
        cluster = str(request.get("cluster") or "default").rsplit("/", 1)[-1]
        stopped = request.get("desiredStatus") == "STOPPED"
        with self.lock:
            for state in self.services.values():
                if state.name == name.rsplit("/", 1)[-1] and state.cluster_arn.endswith(
                    f"/{cluster}"
                ):
                    return [t.arn for t in state.tasks if t.stopped == stopped]
        return None

    def tasks(self, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = set(arns)
        with self.lock:
            return {
                t.arn: t.as_json()
                for s in self.services.values()
                for t in s.tasks
                if t.arn in wanted or t.arn.rsplit("/", 1)[-1] in wanted
            }

    # --- the lifecycle ------------------------------------------------------------------------

    def _new(
        self,
        service: dict[str, Any],
        call: Call,
        secrets: Secrets,
        configuration: dict[str, Any],
    ) -> ServiceState:
        state = ServiceState(
            arn=service["serviceArn"],
            name=service["serviceName"],
            cluster_arn=service["clusterArn"],
            configuration=configuration,
            secrets=secrets,
            call=call,
        )
        with self.lock:
            self.services[state.arn] = state
        self.scheduler.watch(state)
        return state

    def _adopt(self, service: dict[str, Any], call: Call, secrets: Secrets) -> ServiceState:
        """Our state of a service; one we never saw created is taken as COMPLETED on the task
        definition it runs, and its tasks are started."""
        state = self.services.get(service["serviceArn"])
        if state is not None:
            return state
        state = self._new(
            service, call, secrets, dict(service.get("deploymentConfiguration") or {})
        )
        definition = service.get("taskDefinition")
        if definition:
            deployment = self._deployment(state, definition, service)
            deployment.rollout, deployment.reason = "COMPLETED", "ECS deployment completed."
        return state

    def _start(self, state: ServiceState, definition_arn: str, service: dict[str, Any]) -> None:
        for old in state.deployments:
            if old.status == "PRIMARY":
                old.status = "ACTIVE"
        deployment = self._deployment(state, definition_arn, service)
        state.event(
            f"(service {state.name}) has started a deployment of {deployment.desired} tasks: "
            f"{deployment.id} ({deployment.task_definition.rsplit('/', 1)[-1]})."
        )

    def _deployment(
        self, state: ServiceState, definition_arn: str, service: dict[str, Any]
    ) -> Deployment:
        definition = state.call("DescribeTaskDefinition", {"taskDefinition": definition_arn})[
            "taskDefinition"
        ]
        deployment = Deployment(
            id=new_deployment_id(),
            task_definition=definition["taskDefinitionArn"],
            desired=int(service.get("desiredCount", 0)),
            definition=definition,
            created_at=time.time(),
            launch_type=service.get("launchType"),
        )
        state.deployments.insert(0, deployment)
        return deployment


class Proxy:
    """Forwards to moto; rewrites ECS answers through an EcsState."""

    def __init__(self, moto_url: str, state: EcsState) -> None:
        self.moto_url = moto_url.rstrip("/")
        self.state = state
        self.session = requests.Session()

    def caller(self, headers: dict[str, str]) -> Call:
        """Our own ECS calls to moto, signed like the request that caused them (moto reads
        the region and the account from the Authorization header)."""

        def call(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
            own = {**headers, "X-Amz-Target": TARGET_PREFIX + operation}
            request = Request("POST", "/", own, json.dumps(payload).encode())
            answer = loopback_http.forward(self.session, self.moto_url, request)
            if answer.status != 200:
                raise RuntimeError(f"moto answered {operation} with {answer.status}")
            return json.loads(answer.body)  # type: ignore[no-any-return]

        return call

    def secrets(self, headers: dict[str, str]) -> Secrets:
        """What the ECS agent does with `secrets: valueFrom`: read them from (moto's) SSM,
        as the caller's account, decrypted."""
        key = _access_key(headers.get("Authorization", "")) or "testing"

        def resolve(references: Sequence[str]) -> dict[str, str]:
            values: dict[str, str] = {}
            missing: list[str] = []
            for reference in references:
                region, name = _ssm_parameter(reference, _region(headers))
                client = boto3.client(
                    "ssm",
                    region_name=region,
                    endpoint_url=self.moto_url,
                    aws_access_key_id=key,
                    aws_secret_access_key="sandbox",  # noqa: S106 (moto checks no signature)
                    config=Config(retries={"mode": "standard", "max_attempts": 3}),
                )
                try:
                    answer = client.get_parameter(Name=name, WithDecryption=True)
                except client.exceptions.ParameterNotFound:
                    missing.append(name)
                    continue
                values[reference] = str(answer["Parameter"]["Value"])
            if missing:
                raise SecretsUnavailable(", ".join(missing))
            return values

        return resolve

    def handle(self, request: Request) -> Answer:
        target = request.header("X-Amz-Target")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
        body = json.loads(request.body or b"{}") if operation else {}
        if operation == "ListTasks":
            arns = self.state.list_tasks(body)
            if arns is not None:
                return _json({"taskArns": arns})
        if operation == "DescribeTasks":
            return self._describe_tasks(request, body)
        if operation == "UpdateService":
            self._adopt_before_update(body, request.headers)
        answer = loopback_http.forward(self.session, self.moto_url, request)
        if answer.status != 200 or operation not in REWRITTEN:
            return answer
        data = json.loads(answer.body)
        call, secrets = self.caller(request.headers), self.secrets(request.headers)
        if operation == "CreateService":
            self.state.created(body, data["service"], call, secrets)
            self.state.overlay(data["service"], call, secrets)
        elif operation == "UpdateService":
            self.state.updated(body, data["service"], call, secrets)
            self.state.overlay(data["service"], call, secrets)
        elif operation == "DescribeServices":
            for service in data.get("services", []):
                if service.get("status") == "ACTIVE":
                    self.state.overlay(service, call, secrets)
        else:
            self.state.deleted(data.get("service", {}))
        return Answer(200, answer.headers, json.dumps(data).encode())

    def _adopt_before_update(self, request: dict[str, Any], headers: dict[str, str]) -> None:
        """A service created before the proxy started: record what it runs before moto
        forgets it (moto's UpdateService answer already names the new task definition)."""
        name = str(request.get("service", "")).rsplit("/", 1)[-1]
        cluster = str(request.get("cluster") or "default").rsplit("/", 1)[-1]
        if self.state.known(cluster, name):
            return
        call, secrets = self.caller(headers), self.secrets(headers)
        answer = call("DescribeServices", {"cluster": cluster, "services": [name]})
        for service in answer.get("services", []):
            self.state.overlay(service, call, secrets)

    def _describe_tasks(self, request: Request, body: dict[str, Any]) -> Answer:
        asked = [str(t) for t in body.get("tasks", [])]
        ours = self.state.tasks(asked)
        rest = [t for t in asked if t not in ours and t.rsplit("/", 1)[-1] not in ours]
        rest = [t for t in rest if not any(a.endswith("/" + t) for a in ours)]
        found: list[dict[str, Any]] = list(ours.values())
        failures: list[dict[str, Any]] = []
        if rest or not asked:
            payload = json.dumps({**body, "tasks": rest}).encode()
            answer = loopback_http.forward(
                self.session,
                self.moto_url,
                Request(request.method, request.path, request.headers, payload),
            )
            if answer.status != 200:
                return answer
            data = json.loads(answer.body)
            found += data.get("tasks", [])
            failures = data.get("failures", [])
        return _json({"tasks": found, "failures": failures})


def _json(data: dict[str, Any], status: int = 200) -> Answer:
    headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": str(uuid.uuid4())}
    return Answer(status, headers, json.dumps(data).encode())


def _server_error(exc: Exception) -> Answer:
    return _json({"__type": "ServerException", "message": f"sandbox ECS emulator: {exc}"}, 500)


def _access_key(authorization: str) -> str:
    """The access key id of a SigV4 Authorization header (`Credential=AKID/date/...`)."""
    _, _, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0] if rest else ""


def _region(headers: dict[str, str]) -> str:
    _, _, rest = headers.get("Authorization", "").partition("Credential=")
    parts = rest.split("/")
    return parts[2] if len(parts) > 2 else "us-east-1"


def _ssm_parameter(reference: str, default_region: str) -> tuple[str, str]:
    """(region, name) of a valueFrom: an SSM parameter ARN or a parameter name."""
    if reference.startswith("arn:"):
        parts = reference.split(":", 5)
        name = parts[5].removeprefix("parameter")
        return parts[3] or default_region, name if name.startswith("/") else "/" + name
    return default_region, reference


@dataclass
class Running:
    url: str
    state: EcsState
    stop: Callable[[], None]


def serve(
    moto_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    workloads: Workloads | str | None = None,
    registry: str | None = None,
    stability_seconds: float = 3.0,
    health_scale: float = 1.0,
) -> Running:
    """Start the proxy in a thread; for tests and the benchmark as well as the sandbox.

    `workloads` runs the tasks (default: the local Docker engine, pulling from `registry`);
    a string there is why nothing can run, and the tasks are simulated.
    """
    if workloads is None:
        workloads = containers.connect(registry)
    scheduler = Scheduler(workloads, stability_seconds=stability_seconds, health_scale=health_scale)
    state = EcsState(scheduler)
    served = loopback_http.serve(
        Proxy(moto_url, state).handle, _server_error, name="ecs-emulator", host=host, port=port
    )

    def stop() -> None:
        served.stop()
        with state.lock:
            for service in state.services.values():
                service.deployments.clear()
                service.deleted = True
        scheduler.stop()

    return Running(served.url, state, stop)


def start(ctx: EmulatorContext) -> Emulator:
    """The sandbox's hook; see the module docstring for the environment it reads."""
    running = serve(
        ctx.moto_url,
        host=ctx.host,
        registry=ctx.registry,
        stability_seconds=float(os.environ.get("DEPLOYTOOLS_SANDBOX_ECS_STABILITY_SECONDS", "3")),
        health_scale=float(os.environ.get("DEPLOYTOOLS_SANDBOX_HEALTH_SCALE", "1")),
    )
    return Emulator(name="ecs", services={"ecs": running.url}, stop=running.stop)
