"""The kubelet of the Kubernetes double: pods as containers on the local Docker engine.

A pod runs one container per entry of its template's `containers`, through
deploytools.sandbox.containers (from the loopback registry by the image reference, with
`--network none`): `env` with `value`, `valueFrom.secretKeyRef` and `valueFrom.configMapKeyRef`
resolved from the cluster's Secrets and ConfigMaps, `command` as the entry point, `args` as
the command, `workingDir`. What each container does decides its status, in kubelet's words:

- an image that cannot be pulled: waiting `ErrImagePull`, then `ImagePullBackOff` (`Back-off
  pulling image "<image>"`) while the pull is retried with back-off;
- a Secret, ConfigMap or key the env names that does not exist: `CreateContainerConfigError`;
- a process that cannot start: terminated `StartError` (exit code 128), then back-off;
- a process that exits: `lastState.terminated` with its exit code, waiting `CrashLoopBackOff`
  (back-off 10 s doubling to 5 min), `restartCount`, and a new container after the back-off;
- `readinessProbe` and `livenessProbe` (exec, httpGet, tcpSocket through `nc -z`) run inside
  the container (`docker exec`) every `periodSeconds` after `initialDelaySeconds`, with
  `timeoutSeconds`, `successThreshold` and `failureThreshold`; a failing liveness probe
  replaces the container (exit code 137).

A pod is ready when all its containers run and pass readiness; available once it has been
ready for the Deployment's `minReadySeconds`. `scale` multiplies probe periods, delays and
back-offs (never a timeout the template sets), so that tests need not wait for kubelet's.
Not run: init containers, volumes, resources, ports (no network), restart policies other than
Always.
"""

from __future__ import annotations

import base64
import copy
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from deploytools.sandbox.containers import (
    WORKLOAD_LABEL,
    ContainerSpec,
    ContainerState,
    PullFailed,
    StartFailed,
)

BACKOFF_START = 10.0  # kubelet's first restart and pull back-off, seconds
BACKOFF_CAP = 300.0
BACKOFF_RESET = 600.0  # running this long resets the back-off
KILLED = 137  # the exit code of a container killed for a failing liveness probe
START_ERROR = 128

Lookup = Callable[[str, str, str], dict[str, Any] | None]  # plural, namespace, name -> object


class Workloads(Protocol):
    def start(self, spec: ContainerSpec) -> str: ...
    def state(self, container_id: str) -> ContainerState: ...
    def exec(self, container_id: str, command: Sequence[str], timeout: float) -> int | None: ...
    def http_get(self, container_id: str, port: int, path: str, timeout: float) -> bool: ...
    def remove(self, container_id: str) -> None: ...


class ConfigError(Exception):
    """The container's configuration names something that does not exist."""


@dataclass
class Probe:
    successes: int = 0
    failures: int = 0
    next_run: float = 0.0


@dataclass
class Container:
    name: str
    template: dict[str, Any]
    id: str = ""
    started_at: str = ""
    running_since: float | None = None
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    last_terminated: dict[str, Any] | None = None
    restarts: int = 0
    failed_starts: int = 0  # pulls or starts in a row that failed, for the back-off
    next_attempt: float = 0.0
    ready: bool = False
    readiness: Probe = field(default_factory=Probe)
    liveness: Probe = field(default_factory=Probe)


@dataclass
class Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    spec: dict[str, Any]
    owner: dict[str, Any]  # the ReplicaSet's ownerReference
    workload: str  # e.g. "eks:<cluster>/<namespace>/<deployment>"
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: str = field(default_factory=lambda: _now())
    containers: list[Container] = field(default_factory=list)
    ready_since: float | None = None

    @property
    def ready(self) -> bool:
        return bool(self.containers) and all(c.ready for c in self.containers)

    def available(self, now: float, min_ready_seconds: float) -> bool:
        return self.ready_since is not None and now - self.ready_since >= min_ready_seconds


class Kubelet:
    """Runs, watches and probes pods; the caller holds the cluster's lock."""

    def __init__(
        self,
        workloads: Workloads,
        lookup: Lookup,
        *,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workloads = workloads
        self.lookup = lookup
        self.scale = scale
        self.clock = clock

    def pod(
        self, name: str, template: dict[str, Any], owner: dict[str, Any], workload: str, ns: str
    ) -> Pod:
        spec = copy.deepcopy(template.get("spec") or {})
        pod = Pod(
            name=name,
            namespace=ns,
            labels=dict(template.get("metadata", {}).get("labels") or {}),
            spec=spec,
            owner=owner,
            workload=workload,
        )
        pod.containers = [Container(str(c.get("name", "")), c) for c in spec.get("containers", [])]
        return pod

    def sync(self, pod: Pod) -> None:
        """One look at the pod: start what is due, notice exits, run the probes that are due."""
        now = self.clock()
        for container in pod.containers:
            if not container.id:
                if now >= container.next_attempt:
                    self._start(pod, container, now)
                elif container.waiting and container.waiting[0] == "ErrImagePull":
                    image = container.template.get("image", "")
                    container.waiting = ("ImagePullBackOff", f'Back-off pulling image "{image}"')
                continue
            state = self.workloads.state(container.id)
            if not state.running:
                reason = "Completed" if state.exit_code == 0 else "Error"
                self._terminated(pod, container, now, state.exit_code, reason, state.error)
                continue
            if container.running_since is not None and now - container.running_since > (
                BACKOFF_RESET * self.scale
            ):
                container.failed_starts = 0  # kubelet forgets the back-off of a steady container
            self._probe(pod, container, now)
        if pod.ready:
            if pod.ready_since is None:
                pod.ready_since = now
        else:
            pod.ready_since = None

    def delete(self, pod: Pod) -> None:
        for container in pod.containers:
            if container.id:
                self.workloads.remove(container.id)
                container.id = ""

    # --- containers -----------------------------------------------------------------------------

    def _start(self, pod: Pod, container: Container, now: float) -> None:
        try:
            env = self._env(pod, container.template)
        except ConfigError as exc:
            container.waiting = ("CreateContainerConfigError", str(exc))
            container.next_attempt = now + self._backoff(container)
            return
        spec = ContainerSpec(
            image=str(container.template.get("image", "")),
            name=f"{pod.name}-{container.name}",
            env=env,
            entrypoint=container.template.get("command") or None,
            command=container.template.get("args") or None,
            workdir=container.template.get("workingDir") or None,
            labels={WORKLOAD_LABEL: pod.workload, "deploytools.pod": f"{pod.namespace}/{pod.name}"},
        )
        try:
            container.id = self.workloads.start(spec)
        except PullFailed as exc:
            image = spec.image
            container.waiting = (
                "ErrImagePull",
                f'failed to pull and unpack image "{image}": {exc}',
            )
            container.next_attempt = now + self._backoff(container)
            return
        except StartFailed as exc:
            self._terminated(pod, container, now, START_ERROR, "StartError", str(exc))
            return
        container.waiting = None
        container.started_at = _now()
        container.running_since = now
        container.ready = False
        delay = float(container.template.get("readinessProbe", {}).get("initialDelaySeconds", 0))
        container.readiness = Probe(next_run=now + delay * self.scale)
        delay = float(container.template.get("livenessProbe", {}).get("initialDelaySeconds", 0))
        container.liveness = Probe(next_run=now + delay * self.scale)

    def _terminated(
        self,
        pod: Pod,
        container: Container,
        now: float,
        exit_code: int | None,
        reason: str,
        message: str,
    ) -> None:
        """The container ended: remember how, and restart it after kubelet's back-off."""
        if container.id:
            self.workloads.remove(container.id)
        container.id, container.ready, container.running_since = "", False, None
        code = START_ERROR if exit_code is None else exit_code
        container.last_terminated = {
            "exitCode": code,
            "reason": reason,
            "startedAt": container.started_at or _now(),
            "finishedAt": _now(),
        }
        if message:
            container.last_terminated["message"] = message
        backoff = self._backoff(container)
        container.restarts += 1
        container.next_attempt = now + backoff
        container.waiting = (
            "CrashLoopBackOff",
            f"back-off {int(backoff / self.scale)}s restarting failed container={container.name} "
            f"pod={pod.name}_{pod.namespace}({pod.uid}) (last exit code {code})",
        )

    def _backoff(self, container: Container) -> float:
        seconds = min(BACKOFF_CAP, BACKOFF_START * 2.0**container.failed_starts)
        container.failed_starts += 1
        return seconds * self.scale

    def _env(self, pod: Pod, template: dict[str, Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in template.get("env") or []:
            name = str(item.get("name", ""))
            source = item.get("valueFrom")
            if source is None:
                env[name] = str(item.get("value", ""))
            elif "secretKeyRef" in source:
                env[name] = self._key(pod, "secrets", "Secret", source["secretKeyRef"])
            elif "configMapKeyRef" in source:
                env[name] = self._key(pod, "configmaps", "ConfigMap", source["configMapKeyRef"])
            else:
                raise ConfigError(f"env {name}: only secretKeyRef and configMapKeyRef are run here")
        return env

    def _key(self, pod: Pod, plural: str, kind: str, ref: dict[str, Any]) -> str:
        name, key = str(ref.get("name", "")), str(ref.get("key", ""))
        found = self.lookup(plural, pod.namespace, name)
        if found is None:
            raise ConfigError(f'{kind.lower()} "{name}" not found')
        if kind == "Secret":
            if key in (found.get("stringData") or {}):
                return str(found["stringData"][key])
            if key in (found.get("data") or {}):
                return base64.b64decode(found["data"][key]).decode("utf-8", "replace")
        elif key in (found.get("data") or {}):
            return str(found["data"][key])
        raise ConfigError(f"couldn't find key {key} in {kind} {pod.namespace}/{name}")

    # --- probes ---------------------------------------------------------------------------------

    def _probe(self, pod: Pod, container: Container, now: float) -> None:
        readiness = container.template.get("readinessProbe")
        if readiness is None:
            container.ready = True
        elif now >= container.readiness.next_run:
            passed = self._run(container, readiness)
            self._count(container.readiness, readiness, passed, now)
            if container.readiness.successes >= int(readiness.get("successThreshold", 1)):
                container.ready = True
            elif container.readiness.failures >= int(readiness.get("failureThreshold", 3)):
                container.ready = False
        liveness = container.template.get("livenessProbe")
        if liveness is not None and now >= container.liveness.next_run:
            passed = self._run(container, liveness)
            self._count(container.liveness, liveness, passed, now)
            if container.liveness.failures >= int(liveness.get("failureThreshold", 3)):
                self._terminated(pod, container, now, KILLED, "Error", "the liveness probe failed")

    def _count(self, probe: Probe, spec: dict[str, Any], passed: bool, now: float) -> None:
        if passed:
            probe.successes, probe.failures = probe.successes + 1, 0
        else:
            probe.successes, probe.failures = 0, probe.failures + 1
        probe.next_run = now + float(spec.get("periodSeconds", 10)) * self.scale

    def _run(self, container: Container, probe: dict[str, Any]) -> bool:
        timeout = float(probe.get("timeoutSeconds", 1))
        if "exec" in probe:
            command = [str(part) for part in probe["exec"].get("command") or []]
            return bool(command) and self.workloads.exec(container.id, command, timeout) == 0
        if "httpGet" in probe:
            port = _port(container.template, probe["httpGet"].get("port"))
            path = str(probe["httpGet"].get("path") or "/")
            return port is not None and self.workloads.http_get(container.id, port, path, timeout)
        if "tcpSocket" in probe:
            port = _port(container.template, probe["tcpSocket"].get("port"))
            command = ["nc", "-z", "-w", str(max(1, int(timeout))), "127.0.0.1", str(port)]
            return port is not None and self.workloads.exec(container.id, command, timeout) == 0
        return False

    # --- the API's view -------------------------------------------------------------------------

    def as_json(self, pod: Pod) -> dict[str, Any]:
        statuses = [self._status(c) for c in pod.containers]
        started = all(c.last_terminated or c.id for c in pod.containers)
        ready = "True" if pod.ready else "False"
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod.name,
                "namespace": pod.namespace,
                "uid": pod.uid,
                "labels": dict(pod.labels),
                "creationTimestamp": pod.created,
                "ownerReferences": [dict(pod.owner)],
            },
            "spec": copy.deepcopy(pod.spec),
            "status": {
                "phase": "Running" if started else "Pending",
                "conditions": [
                    {"type": "Ready", "status": ready},
                    {"type": "ContainersReady", "status": ready},
                ],
                "containerStatuses": statuses,
            },
        }

    def _status(self, container: Container) -> dict[str, Any]:
        state: dict[str, Any]
        if container.id:
            state = {"running": {"startedAt": container.started_at}}
        else:
            reason, message = container.waiting or ("ContainerCreating", "")
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        status: dict[str, Any] = {
            "name": container.name,
            "image": container.template.get("image"),
            "ready": container.ready,
            "started": bool(container.id),
            "restartCount": container.restarts,
            "state": state,
            "lastState": {},
        }
        if container.last_terminated:
            status["lastState"] = {"terminated": dict(container.last_terminated)}
        return status


def _port(template: dict[str, Any], port: Any) -> int | None:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for declared in template.get("ports") or []:
        if declared.get("name") == port and declared.get("containerPort"):
            return int(declared["containerPort"])
    return None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
