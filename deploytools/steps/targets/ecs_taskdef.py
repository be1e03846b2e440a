"""A new ECS task definition revision from the live one: only the image, env and secrets change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deploytools.errors import BadInput
from deploytools.steps.targets._container import apply_to_container

# What DescribeTaskDefinition returns that RegisterTaskDefinition refuses. `input_members`
# drops them anyway; the list documents why a copy is not a plain echo.
READ_ONLY = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
    }
)


class ContainerNotFound(BadInput):
    """The target names a container the task definition does not have (or names none of many)."""


def container_name(task_definition: Mapping[str, Any], wanted: str | None) -> str:
    """The target's container: the configured one, or the only one."""
    names = [str(c["name"]) for c in task_definition.get("containerDefinitions", [])]
    family = task_definition.get("family", "?")
    if wanted is not None:
        if wanted in names:
            return wanted
        raise ContainerNotFound(
            f"task definition {family} has no container '{wanted}'; its containers: "
            f"{', '.join(names) or '(none)'} (set targets.<name>.container)"
        )
    if len(names) == 1:
        return names[0]
    raise ContainerNotFound(
        f"task definition {family} has {len(names)} containers ({', '.join(names) or 'none'}); "
        "say which one gets the image with targets.<name>.container"
    )


def container_image(task_definition: Mapping[str, Any], name: str) -> str | None:
    for container in task_definition.get("containerDefinitions", []):
        if container["name"] == name:
            image = container.get("image")
            return str(image) if image is not None else None
    return None


def short_name(task_definition_arn: str) -> str:
    """family:revision, for messages."""
    return task_definition_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ContainerChange:
    """What a deploy changes in one container: its image (None: keep it), env and secrets."""

    container: str
    image: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    secret_arns: Mapping[str, str] = field(default_factory=dict)


def next_revision(
    live: Mapping[str, Any],
    change: ContainerChange,
    *,
    tags: list[dict[str, str]] | None,
    accepted: frozenset[str],
) -> dict[str, Any]:
    """RegisterTaskDefinition arguments: the live definition with one container updated."""
    request = {k: v for k, v in live.items() if k in accepted and k not in READ_ONLY}
    request["containerDefinitions"] = [
        apply_to_container(
            c,
            image=change.image,
            environment=change.environment,
            secret_arns=change.secret_arns,
        )
        if c["name"] == change.container
        else dict(c)
        for c in live["containerDefinitions"]
    ]
    if tags:
        request["tags"] = list(tags)
    return request


def same_definition(live: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """Whether registering `request` would only repeat `live` (a re-run of the same deploy)."""
    return all(live.get(key) == value for key, value in request.items() if key != "tags")
