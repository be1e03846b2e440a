"""Environment and secrets of a container definition (ECS and Batch share the shapes).

Secrets only ever travel as `{"name", "valueFrom": <SSM parameter ARN>}`: the value is read
by the ECS agent at task start, so it never appears in a task or job definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from deploytools.errors import BadInput

# arn:aws:ssm:us-east-1:123456789012:parameter/app/dev/API_KEY (any partition).
SSM_PARAMETER_ARN = re.compile(r"^arn:[a-z0-9-]+:ssm:[a-z0-9-]*:\d{12}:parameter/.+$")


class SecretNotArn(BadInput):
    """A secret was handed over as something other than an SSM parameter ARN."""


def pick_secrets(
    secret_arns: Mapping[str, str] | None, allowed: Iterable[str] | None
) -> dict[str, str]:
    """The secrets this target receives: `allowed` (its `secrets:` list), or all if None."""
    arns = dict(secret_arns or {})
    if allowed is not None:
        wanted = set(allowed)
        arns = {name: arn for name, arn in arns.items() if name in wanted}
    for name, arn in arns.items():
        if not SSM_PARAMETER_ARN.match(arn):
            # Never echo the value: a caller that passed a plain value passed a secret.
            raise SecretNotArn(
                f"secret {name}: expected an SSM parameter ARN (arn:aws:ssm:…:parameter/…); "
                "secrets reach containers only as valueFrom references"
            )
    return dict(sorted(arns.items()))


def merge_environment(
    current: Iterable[Mapping[str, str]] | None,
    updates: Mapping[str, str],
    *,
    secret_names: Iterable[str] = (),
) -> list[dict[str, str]]:
    """Live variables, overridden by `updates`; a name that is now a secret is dropped, so an
    old plain value cannot shadow (or leak next to) the valueFrom reference."""
    merged = {item["name"]: item.get("value", "") for item in current or ()}
    merged.update(updates)
    for name in secret_names:
        merged.pop(name, None)
    return [{"name": name, "value": value} for name, value in sorted(merged.items())]


def merge_secrets(
    current: Iterable[Mapping[str, str]] | None, arns: Mapping[str, str]
) -> list[dict[str, str]]:
    """Live secrets, with ours added or re-pointed by name."""
    merged = {item["name"]: item["valueFrom"] for item in current or ()}
    merged.update(arns)
    return [{"name": name, "valueFrom": ref} for name, ref in sorted(merged.items())]


def apply_to_container(
    container: Mapping[str, Any],
    *,
    image: str | None,
    environment: Mapping[str, str],
    secret_arns: Mapping[str, str],
) -> dict[str, Any]:
    """A copy of `container` with the new image, environment and secrets."""
    updated = dict(container)
    if image is not None:
        updated["image"] = image
    env = merge_environment(
        container.get("environment"), environment, secret_names=secret_arns.keys()
    )
    if env or "environment" in container:
        updated["environment"] = env
    secrets = merge_secrets(container.get("secrets"), secret_arns)
    if secrets or "secrets" in container:
        updated["secrets"] = secrets
    return updated


def input_members(client: Any, operation: str) -> frozenset[str]:
    """The request keys an API operation accepts, from botocore's model of the service.

    Copying a described resource into a register call keeps only these: the read-only fields
    (ARN, revision, status, registeredAt, …) fall away, and new writable fields carry over.
    """
    shape = client.meta.service_model.operation_model(operation).input_shape
    return frozenset(shape.members)
