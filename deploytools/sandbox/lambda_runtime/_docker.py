"""The few Docker calls an execution environment needs (the docker SDK, one client)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

DEFAULT_DOCKER_HOST = "unix:///run/deploytools/docker.sock"


class ContainerError(Exception):
    """An image that cannot be pulled or a container that cannot start."""


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    environment: Mapping[str, str]
    labels: Mapping[str, str]
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    working_dir: str | None = None
    mounts: Mapping[str, str] = field(default_factory=dict)  # host dir -> container dir (ro)


class Engine:
    """One Docker client, created on first use."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker.DockerClient(base_url=self.base_url, timeout=120)
        return self._client

    def ensure_image(self, reference: str, *, pull: bool) -> None:
        """The image is on the engine (pulled first when `pull` and it is not)."""
        try:
            self.client.images.get(reference)
            return
        except docker.errors.ImageNotFound:
            if not pull:
                raise ContainerError(f"image {reference} is not on the Docker engine") from None
        except docker.errors.DockerException as exc:
            raise ContainerError(f"Docker engine at {self.base_url}: {exc}") from exc
        try:
            self.client.images.pull(reference)
        except docker.errors.DockerException as exc:
            raise ContainerError(f"cannot pull {reference}: {_explain(exc)}") from exc

    def run(self, spec: ContainerSpec) -> Any:
        """Start a detached container on the host's network (the only one this engine has)."""
        volumes = {host: {"bind": inside, "mode": "ro"} for host, inside in spec.mounts.items()}
        try:
            return self.client.containers.run(
                spec.image,
                command=spec.command,
                entrypoint=spec.entrypoint,
                working_dir=spec.working_dir,
                environment=dict(spec.environment),
                labels=dict(spec.labels),
                volumes=volumes,
                network_mode="host",
                detach=True,
            )
        except docker.errors.DockerException as exc:
            raise ContainerError(f"cannot start {spec.image}: {_explain(exc)}") from exc

    def remove(self, container: Any) -> None:
        with contextlib.suppress(docker.errors.DockerException):  # already gone
            container.remove(force=True)

    def remove_labelled(self, label: str, value: str) -> None:
        try:
            found = self.client.containers.list(all=True, filters={"label": f"{label}={value}"})
        except docker.errors.DockerException:
            return
        for container in found:
            self.remove(container)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _explain(exc: docker.errors.DockerException) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc).strip()
