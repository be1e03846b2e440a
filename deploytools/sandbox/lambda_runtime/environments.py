"""Execution environments: a container and its Runtime API, kept warm per function version."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from deploytools.sandbox import containers
from deploytools.sandbox.containers import ROLE_LABEL, WORKLOAD_LABEL, DockerWorkloads
from deploytools.sandbox.lambda_runtime.functions import FunctionSpec
from deploytools.sandbox.lambda_runtime.runtime_api import Outcome, RuntimeApi

ROLE = "lambda"
# An invocation that runs into its timeout also waits this long for the runtime's own answer,
# so that an answer posted right at the deadline is not lost to the race.
GRACE_SECONDS = 0.2
# Lambda freezes idle environments and eventually drops them; the sandbox drops them sooner.
IDLE_SECONDS = 600.0
# How long stopping waits for environments that are starting (an image pull included).
STOP_WAIT_SECONDS = 60.0


class StartFailed(Exception):
    """The environment's container could not start (image missing, engine down)."""


@dataclass
class Environment:
    spec: FunctionSpec
    api: RuntimeApi
    container: str  # its id
    workloads: DockerWorkloads
    last_used: float = field(default_factory=time.monotonic)
    busy: bool = False
    dead: bool = False

    def watch(self) -> None:
        """Fail what is outstanding once the container exits (the runtime crashed or quit)."""

        def wait() -> None:
            status = self.workloads.wait(self.container)
            self.dead = True
            self.api.end(
                Outcome.error(
                    "Runtime.ExitError", f"Error: Runtime exited with error: exit status {status}"
                )
            )

        threading.Thread(target=wait, name="lambda-container-watch", daemon=True).start()

    def invoke(self, payload: bytes) -> Outcome:
        invocation = self.api.submit(payload, timeout_seconds=self.spec.timeout)
        if not invocation.done.wait(self.spec.timeout + GRACE_SECONDS):
            self.dead = True  # Lambda ends an environment whose invocation timed out
            return Outcome.error(
                "Sandbox.Timedout",
                f"RequestId: {invocation.id} Error: Task timed out after "
                f"{self.spec.timeout:.2f} seconds",
            )
        assert invocation.outcome is not None
        if self.api.ended is not None:
            self.dead = True
        return invocation.outcome

    def stop(self) -> None:
        self.dead = True
        self.workloads.remove(self.container)
        self.api.close()


class Environments:
    """Every environment of the sandbox's functions, reused while warm and idle."""

    def __init__(self, workloads: DockerWorkloads | str, *, moto_url: str) -> None:
        self.workloads = workloads  # a string: why no container can run here
        self.moto_url = moto_url
        self._all: list[Environment] = []
        self._lock = threading.Lock()
        self._closed = False
        self._starting = 0
        self._started = threading.Condition(self._lock)

    def invoke(self, spec: FunctionSpec, payload: bytes) -> Outcome:
        environment = self._acquire(spec)
        try:
            return environment.invoke(payload)
        finally:
            self._release(environment)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            # A container being started now would outlive the sweep below.
            self._started.wait_for(lambda: self._starting == 0, timeout=STOP_WAIT_SECONDS)
            environments, self._all = self._all, []
        for environment in environments:
            environment.stop()
        if not isinstance(self.workloads, str):
            self.workloads.remove_all(**{ROLE_LABEL: ROLE})

    def _acquire(self, spec: FunctionSpec) -> Environment:
        with self._lock:
            self._reap()
            for environment in self._all:
                if environment.spec.key == spec.key and not environment.busy:
                    environment.busy = True
                    return environment
            if self._closed:
                raise StartFailed("the sandbox is stopping")
            self._starting += 1
        started: Environment | None = None
        closed = False
        try:
            started = self._start(spec)
        finally:
            with self._lock:
                self._starting -= 1
                closed = self._closed
                if started is not None and closed:
                    started.stop()  # the sandbox stopped while this one started
                elif started is not None:
                    self._all.append(started)
                self._started.notify_all()
        if closed:
            raise StartFailed("the sandbox is stopping")
        return started

    def _release(self, environment: Environment) -> None:
        environment.last_used = time.monotonic()
        environment.busy = False
        if environment.dead:
            with self._lock:
                if environment in self._all:
                    self._all.remove(environment)
            environment.stop()

    def _reap(self) -> None:
        """Drop environments that died or idled out (called with the lock held)."""
        now = time.monotonic()
        for environment in list(self._all):
            idle = not environment.busy and now - environment.last_used > IDLE_SECONDS
            if environment.dead or idle:
                self._all.remove(environment)
                environment.stop()

    def _start(self, spec: FunctionSpec) -> Environment:
        workloads = self.workloads
        if isinstance(workloads, str):
            raise StartFailed(workloads)
        api = RuntimeApi(function_arn=spec.qualified_arn)
        try:
            container = workloads.start(self._container(spec, api.address))
        except containers.PullFailed as exc:
            api.close()
            raise StartFailed(f"cannot pull {spec.image}: {exc}") from exc
        except containers.StartFailed as exc:
            api.close()
            raise StartFailed(f"cannot start {spec.image}: {exc}") from exc
        environment = Environment(spec, api, container, workloads, busy=True)
        environment.watch()
        return environment

    def _container(self, spec: FunctionSpec, runtime_api: str) -> containers.ContainerSpec:
        mounts = {str(spec.code_dir): "/var/task"} if spec.code_dir else {}
        return containers.ContainerSpec(
            image=spec.image,
            name=f"lambda-{spec.name}",
            env={**spec.environment, **self._lambda_environment(spec, runtime_api)},
            labels={ROLE_LABEL: ROLE, WORKLOAD_LABEL: f"lambda:{spec.name}"},
            command=spec.command,
            entrypoint=spec.entrypoint,
            workdir=spec.working_dir,
            network="host",  # the Runtime API listens on the host's loopback
            mounts=mounts,
        )

    def _lambda_environment(self, spec: FunctionSpec, runtime_api: str) -> dict[str, str]:
        """What Lambda sets in every environment (these win over the function's own)."""
        values = {
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"sandbox/[{spec.version}]",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            # The function's own AWS calls stay in the sandbox, with the sandbox's fake keys.
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
        if spec.runtime:
            values["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{spec.runtime}"
        return values
