"""A test double of the Docker engine for tests of the ECS and EKS emulators' APIs and of their
steps: every container runs and passes its checks, except those whose image the test lists
as never pushed (the pull fails) or as exiting (with the given exit code). Tests of what real
containers do use the engine itself (tests/test_sandbox_ecs_tasks.py,
tests/test_sandbox_eks_pods.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from deploytools.sandbox.containers import ContainerSpec, ContainerState, PullFailed


class FakeEngine:
    def __init__(self, missing: Iterable[str] = (), exits: Mapping[str, int] | None = None) -> None:
        self.missing = set(missing)
        self.exits = dict(exits or {})
        self.containers: dict[str, ContainerSpec] = {}

    def start(self, spec: ContainerSpec) -> str:
        if spec.image in self.missing:
            raise PullFailed(f"failed to resolve ref {spec.image}: not found")
        container_id = uuid.uuid4().hex
        self.containers[container_id] = spec
        return container_id

    def state(self, container_id: str) -> ContainerState:
        spec = self.containers.get(container_id)
        if spec is None:
            return ContainerState(False, None, "the container is gone")
        if spec.image in self.exits:
            return ContainerState(False, self.exits[spec.image])
        return ContainerState(True)

    def exec(self, container_id: str, command: Sequence[str], timeout: float) -> int | None:
        return 0

    def http_get(self, container_id: str, port: int, path: str, timeout: float) -> bool:
        return True

    def remove(self, container_id: str) -> None:
        self.containers.pop(container_id, None)
