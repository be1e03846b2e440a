"""ECS deployments that finish: a loopback proxy in front of moto's ECS.

moto stores services and task definitions well, but its deployments never move: a service
keeps the one deployment it was created with, IN_PROGRESS (runningCount 0) unless
MOTO_ECS_SERVICE_RUNNING is set, UpdateService to a new task definition starts no new
deployment, and there is no circuit breaker and no service task. This proxy forwards every
request to moto unchanged and then rewrites the answers of these ECS operations
(JSON 1.1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`):

- CreateService / UpdateService: a new deployment (PRIMARY, IN_PROGRESS) whenever the task
  definition changes or forceNewDeployment is set; the one before becomes ACTIVE. The
  requested `deploymentConfiguration` is kept (moto drops it on CreateService).
- DescribeServices / CreateService / UpdateService answers: `deployments`, `taskDefinition`,
  `runningCount`, `pendingCount`, `events` and `deploymentConfiguration` come from the
  proxy's state (keyed by service ARN). A deployment settles once `settle_seconds` have
  passed since it started or the service was described `settle_polls` times, whichever
  comes first:
    * success: rolloutState COMPLETED, runningCount = desiredCount, older deployments gone,
      events "(deployment …) deployment completed" and "has reached a steady state";
    * failure, when a container of its task definition has the environment variable
      DEPLOYTOOLS_SANDBOX_FAIL=1 (tasks exit 1) or an image reference containing
      `sandbox-fail` (tasks cannot pull it): tasks stop with a stoppedReason, and then
        - circuit breaker with rollback: the failed deployment disappears, the previous one
          is PRIMARY again (moto's service is pointed back at its task definition), with
          the event "(service …) rolling back to deployment …" (real ECS lists the failed
          deployment as ACTIVE/FAILED for a while and may start a fresh deployment of the
          previous revision; tools must treat both shapes as a failure);
        - circuit breaker without rollback: rolloutState FAILED, failedTasks at the
          breaker's threshold; the previous deployment keeps running;
        - no circuit breaker: IN_PROGRESS for ever, failedTasks growing on every describe.
- ListTasks with a `serviceName` (moto ignores that filter) and DescribeTasks: the
  service's tasks (RUNNING for running deployments, STOPPED for failed ones, the newest
  20 kept) are emulated, with `taskDefinitionArn`, `lastStatus`, `stoppedReason`, `stopCode`
  and the failing container's exit code or reason; moto answers for every other task.
- DeleteService: the proxy forgets the service.
- A service the proxy never saw created (made before it started) is taken as settled on
  the task definition it runs.

Everything else (RegisterTaskDefinition, tags, clusters, other AWS services) is moto's.
The sandbox sets `settle_seconds` from DEPLOYTOOLS_SANDBOX_ECS_SETTLE_SECONDS (default 3)
and `settle_polls` from DEPLOYTOOLS_SANDBOX_ECS_SETTLE_POLLS (default: none).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from deploytools.sandbox.emulators import Emulator, EmulatorContext

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
FAIL_ENV = "DEPLOYTOOLS_SANDBOX_FAIL"
FAIL_IMAGE = "sandbox-fail"
MAX_EVENTS = 100
MAX_STOPPED = 20
# Headers that describe one hop, not the message.
HOP_HEADERS = {"connection", "content-length", "content-encoding", "transfer-encoding", "host"}

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Failure:
    """How a deployment's tasks stop: the task's stoppedReason, and its failing container."""

    stopped_reason: str
    container: str
    exit_code: int | None = None
    container_reason: str | None = None


@dataclass
class Task:
    arn: str
    task_definition: str
    cluster_arn: str
    group: str
    started_at: float
    failure: Failure | None = None
    containers: list[str] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return self.failure is not None

    def _container(self, name: str, status: str) -> dict[str, Any]:
        container: dict[str, Any] = {
            "containerArn": f"{self.arn}/{name}",
            "taskArn": self.arn,
            "name": name,
            "lastStatus": status,
        }
        if self.failure is not None and self.failure.container == name:
            if self.failure.exit_code is not None:
                container["exitCode"] = self.failure.exit_code
            if self.failure.container_reason:
                container["reason"] = self.failure.container_reason
        return container

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
            "launchType": "FARGATE",
            "createdAt": self.started_at,
            "startedAt": self.started_at,
            "containers": [self._container(name, status) for name in self.containers],
        }
        if self.failure is not None:
            exited = self.failure.exit_code is not None
            task.update(
                stoppedReason=self.failure.stopped_reason,
                stopCode="EssentialContainerExited" if exited else "TaskFailedToStart",
                stoppedAt=self.started_at + 1,
            )
        return task


@dataclass
class Deployment:
    id: str
    task_definition: str
    desired: int
    failure: Failure | None
    containers: list[str]
    started: float  # time.monotonic()
    created_at: float  # epoch seconds
    status: str = "PRIMARY"
    rollout: str = "IN_PROGRESS"
    reason: str = ""
    running: int = 0
    failed_tasks: int = 0
    polls: int = 0
    launch_type: str | None = None

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
    deployments: list[Deployment] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

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


def task_arn(service_arn: str, cluster_arn: str) -> str:
    prefix = service_arn.split(":service/")[0]
    return f"{prefix}:task/{cluster_arn.rsplit('/', 1)[-1]}/{uuid.uuid4().hex}"


def failure_of(definition: dict[str, Any]) -> Failure | None:
    """The sandbox's failure triggers; see the module docstring."""
    for container in definition.get("containerDefinitions", []):
        image = str(container.get("image", ""))
        if FAIL_IMAGE in image:
            return Failure(
                "CannotPullContainerError: pull image manifest has been retried 1 time(s): "
                f"failed to resolve ref {image}: not found",
                container=container["name"],
                container_reason="CannotPullContainerError",
            )
        env = {e.get("name"): e.get("value") for e in container.get("environment", [])}
        if env.get(FAIL_ENV) == "1":
            return Failure(
                f"Essential container in task exited ({FAIL_ENV}=1)",
                container=container["name"],
                exit_code=1,
            )
    return None


class EcsState:
    """The deployments moto lacks, keyed by service ARN. All methods hold one lock."""

    def __init__(self, *, settle_seconds: float, settle_polls: int | None) -> None:
        self.settle_seconds = settle_seconds
        self.settle_polls = settle_polls
        self.services: dict[str, ServiceState] = {}
        self.lock = threading.RLock()

    # --- mutations seen on the way through -------------------------------------------------

    def created(self, request: dict[str, Any], service: dict[str, Any], call: Call) -> None:
        state = ServiceState(
            arn=service["serviceArn"],
            name=service["serviceName"],
            cluster_arn=service["clusterArn"],
            configuration=dict(request.get("deploymentConfiguration") or {}),
        )
        with self.lock:
            self.services[state.arn] = state
            if (
                service.get("taskDefinition")
                and service.get("deploymentController", {}).get("type", "ECS") == "ECS"
            ):
                self._start(state, service["taskDefinition"], service, call)

    def updated(self, request: dict[str, Any], service: dict[str, Any], call: Call) -> None:
        with self.lock:
            state = self._adopt(service)
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
                    self._start(state, definition, service, call)
            elif current is not None and "desiredCount" in request:
                current.desired = int(request["desiredCount"])
                if current.rollout == "COMPLETED":
                    self._set_running(state, current, current.desired)

    def deleted(self, service: dict[str, Any]) -> None:
        with self.lock:
            self.services.pop(service.get("serviceArn", ""), None)

    # --- what answers look like -------------------------------------------------------------

    def overlay(self, service: dict[str, Any], *, observe: bool, call: Call) -> None:
        """Rewrite one service of an answer from our state (advancing it if `observe`)."""
        with self.lock:
            state = self._adopt(service)
            if observe:
                self._advance(state, call)
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

    def _adopt(self, service: dict[str, Any]) -> ServiceState:
        """Our state of a service; one we never saw created is taken as it is, settled."""
        arn = service["serviceArn"]
        state = self.services.get(arn)
        if state is None:
            state = ServiceState(
                arn=arn,
                name=service["serviceName"],
                cluster_arn=service["clusterArn"],
                configuration=dict(service.get("deploymentConfiguration") or {}),
            )
            self.services[arn] = state
            definition = service.get("taskDefinition")
            if definition:
                deployment = Deployment(
                    id=f"ecs-svc/{uuid.uuid4().int % 10**19}",
                    task_definition=definition,
                    desired=int(service.get("desiredCount", 0)),
                    failure=None,
                    containers=[],
                    started=time.monotonic(),
                    created_at=time.time(),
                    rollout="COMPLETED",
                    reason="ECS deployment completed.",
                )
                state.deployments.append(deployment)
                self._set_running(state, deployment, deployment.desired)
        return state

    def _start(
        self, state: ServiceState, definition_arn: str, service: dict[str, Any], call: Call
    ) -> None:
        definition = call("DescribeTaskDefinition", {"taskDefinition": definition_arn})[
            "taskDefinition"
        ]
        for old in state.deployments:
            if old.status == "PRIMARY":
                old.status = "ACTIVE"
        deployment = Deployment(
            id=f"ecs-svc/{uuid.uuid4().int % 10**19}",
            task_definition=definition["taskDefinitionArn"],
            desired=int(service.get("desiredCount", 0)),
            failure=failure_of(definition),
            containers=[c["name"] for c in definition.get("containerDefinitions", [])],
            started=time.monotonic(),
            created_at=time.time(),
            launch_type=service.get("launchType"),
        )
        state.deployments.insert(0, deployment)
        state.event(
            f"(service {state.name}) has started {deployment.desired} tasks for deployment "
            f"{deployment.id} ({deployment.task_definition.rsplit('/', 1)[-1]})."
        )

    def _advance(self, state: ServiceState, call: Call) -> None:
        deployment = state.primary
        if deployment is None or deployment.rollout != "IN_PROGRESS":
            return
        deployment.polls += 1
        settled = time.monotonic() - deployment.started >= self.settle_seconds or (
            self.settle_polls is not None and deployment.polls >= self.settle_polls
        )
        if not settled:
            return
        if deployment.failure is None:
            self._complete(state, deployment)
        else:
            self._fail(state, deployment, call)

    def _complete(self, state: ServiceState, deployment: Deployment) -> None:
        deployment.rollout = "COMPLETED"
        deployment.reason = f"ECS deployment {deployment.id} completed."
        for old in [d for d in state.deployments if d is not deployment]:
            self._set_running(state, old, 0)
            state.deployments.remove(old)
        self._set_running(state, deployment, deployment.desired)
        state.event(f"(service {state.name}) (deployment {deployment.id}) deployment completed.")
        state.event(f"(service {state.name}) has reached a steady state.")

    def _fail(self, state: ServiceState, deployment: Deployment, call: Call) -> None:
        enabled, rollback = state.breaker()
        threshold = failure_threshold(deployment.desired)
        if not enabled:
            # What ECS does without a breaker: replace the tasks, for ever.
            task = self._stop_tasks(state, deployment, 1)
            state.event(
                f"(service {state.name}) (task {task.arn.rsplit('/', 1)[-1]}) "
                f"failed to start: {task.failure.stopped_reason if task.failure else ''}"
            )
            return
        self._stop_tasks(state, deployment, threshold)
        deployment.rollout = "FAILED"
        deployment.reason = "ECS deployment circuit breaker: tasks failed to start."
        state.event(
            f"(service {state.name}) (deployment {deployment.id}) deployment failed: "
            "tasks failed to start."
        )
        previous = next((d for d in state.deployments if d is not deployment), None)
        if not rollback or previous is None:
            return
        state.deployments.remove(deployment)
        previous.status = "PRIMARY"
        previous.rollout = "COMPLETED"
        previous.reason = f"ECS deployment {previous.id} completed."
        self._set_running(state, previous, previous.desired)
        state.event(f"(service {state.name}) rolling back to deployment {previous.id}.")
        # moto's own record must agree, for whoever reads it without this proxy.
        call(
            "UpdateService",
            {
                "cluster": state.cluster_arn,
                "service": state.name,
                "taskDefinition": previous.task_definition,
            },
        )

    def _stop_tasks(self, state: ServiceState, deployment: Deployment, count: int) -> Task:
        """Add `count` STOPPED tasks of `deployment`; returns the last one."""
        failure = deployment.failure or Failure("stopped", container="app")
        for _ in range(count):
            state.tasks.append(
                Task(
                    arn=task_arn(state.arn, state.cluster_arn),
                    task_definition=deployment.task_definition,
                    cluster_arn=state.cluster_arn,
                    group=f"service:{state.name}",
                    started_at=time.time(),
                    failure=failure,
                    containers=deployment.containers or ["app"],
                )
            )
        deployment.failed_tasks += count
        stopped = [t for t in state.tasks if t.stopped]
        for old in stopped[:-MAX_STOPPED]:
            state.tasks.remove(old)
        return stopped[-1]

    def _set_running(self, state: ServiceState, deployment: Deployment, count: int) -> None:
        """Keep `count` RUNNING tasks for `deployment`."""
        mine = [
            t
            for t in state.tasks
            if not t.stopped and t.task_definition == deployment.task_definition
        ]
        for extra in mine[count:]:
            state.tasks.remove(extra)
        for _ in range(count - len(mine)):
            state.tasks.append(
                Task(
                    arn=task_arn(state.arn, state.cluster_arn),
                    task_definition=deployment.task_definition,
                    cluster_arn=state.cluster_arn,
                    group=f"service:{state.name}",
                    started_at=time.time(),
                    containers=deployment.containers or ["app"],
                )
            )
        deployment.running = count


class Proxy:
    """Forwards to moto; rewrites ECS answers through an EcsState."""

    def __init__(self, moto_url: str, state: EcsState) -> None:
        self.moto_url = moto_url.rstrip("/")
        self.state = state
        self.session = requests.Session()

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> requests.Response:
        return self.session.request(
            method, self.moto_url + path, headers=headers, data=body, timeout=120
        )

    def caller(self, headers: dict[str, str]) -> Call:
        """Our own ECS calls to moto, signed like the request that caused them (moto reads
        the region and the account from the Authorization header)."""

        def call(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
            own = {**headers, "X-Amz-Target": TARGET_PREFIX + operation}
            answer = self.forward("POST", "/", own, json.dumps(payload).encode())
            answer.raise_for_status()
            return answer.json()  # type: ignore[no-any-return]

        return call

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
        request = json.loads(body or b"{}") if operation else {}
        if operation == "ListTasks":
            arns = self.state.list_tasks(request)
            if arns is not None:
                return self._json({"taskArns": arns})
        if operation == "DescribeTasks":
            return self._describe_tasks(method, path, headers, body, request)
        if operation == "UpdateService":
            self._adopt_before_update(request, headers)
        answer = self.forward(method, path, headers, body)
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
        if answer.status_code != 200 or operation not in (
            "CreateService",
            "UpdateService",
            "DescribeServices",
            "DeleteService",
        ):
            return answer.status_code, out_headers, answer.content
        data = answer.json()
        call = self.caller(headers)
        if operation == "CreateService":
            self.state.created(request, data["service"], call)
            self.state.overlay(data["service"], observe=False, call=call)
        elif operation == "UpdateService":
            self.state.updated(request, data["service"], call)
            self.state.overlay(data["service"], observe=False, call=call)
        elif operation == "DescribeServices":
            for service in data.get("services", []):
                if service.get("status") == "ACTIVE":
                    self.state.overlay(service, observe=True, call=call)
        else:
            self.state.deleted(data.get("service", {}))
        return 200, out_headers, json.dumps(data).encode()

    def _adopt_before_update(self, request: dict[str, Any], headers: dict[str, str]) -> None:
        """A service created before the proxy started: record what it runs before moto
        forgets it (moto's UpdateService answer already names the new task definition)."""
        name = str(request.get("service", "")).rsplit("/", 1)[-1]
        cluster = str(request.get("cluster") or "default").rsplit("/", 1)[-1]
        if self.state.known(cluster, name):
            return
        call = self.caller(headers)
        answer = call("DescribeServices", {"cluster": cluster, "services": [name]})
        for service in answer.get("services", []):
            self.state.overlay(service, observe=False, call=call)

    def _describe_tasks(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        request: dict[str, Any],
    ) -> tuple[int, dict[str, str], bytes]:
        asked = [str(t) for t in request.get("tasks", [])]
        ours = self.state.tasks(asked)
        rest = [t for t in asked if t not in ours and t.rsplit("/", 1)[-1] not in ours]
        rest = [t for t in rest if not any(a.endswith("/" + t) for a in ours)]
        found: list[dict[str, Any]] = list(ours.values())
        failures: list[dict[str, Any]] = []
        if rest or not asked:
            payload = json.dumps({**request, "tasks": rest}).encode()
            answer = self.forward(method, path, headers, payload)
            if answer.status_code != 200:
                out = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
                return answer.status_code, out, answer.content
            data = answer.json()
            found += data.get("tasks", [])
            failures = data.get("failures", [])
        return self._json({"tasks": found, "failures": failures})

    @staticmethod
    def _json(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        return 200, headers, json.dumps(data).encode()


def _handler(proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, each answer waits for the
        # client's delayed ACK (~40 ms).
        disable_nagle_algorithm = True

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            try:
                status, out_headers, payload = proxy.handle(self.command, self.path, headers, body)
            except Exception as exc:  # the client must get an answer, not a hung socket
                status, out_headers = 500, {"Content-Type": "application/x-amz-json-1.1"}
                payload = json.dumps(
                    {"__type": "ServerException", "message": f"sandbox ECS emulator: {exc}"}
                ).encode()
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the sandbox log is moto's."""

    return Handler


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
    settle_seconds: float = 3.0,
    settle_polls: int | None = None,
) -> Running:
    """Start the proxy in a thread; for tests and the benchmark as well as the sandbox."""
    state = EcsState(settle_seconds=settle_seconds, settle_polls=settle_polls)
    server = ThreadingHTTPServer((host, port), _handler(Proxy(moto_url, state)))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="ecs-emulator",
        daemon=True,
    )
    thread.start()
    url = f"http://{host}:{server.server_address[1]}"

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return Running(url, state, stop)


def start(ctx: EmulatorContext) -> Emulator:
    """The sandbox's hook. DEPLOYTOOLS_SANDBOX_ECS_SETTLE_SECONDS / _SETTLE_POLLS tune it."""
    polls = os.environ.get("DEPLOYTOOLS_SANDBOX_ECS_SETTLE_POLLS")
    running = serve(
        ctx.moto_url,
        host=ctx.host,
        settle_seconds=float(os.environ.get("DEPLOYTOOLS_SANDBOX_ECS_SETTLE_SECONDS", "3")),
        settle_polls=int(polls) if polls else None,
    )
    return Emulator(name="ecs", services={"ecs": running.url}, stop=running.stop)
