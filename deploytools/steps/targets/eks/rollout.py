"""Rollout semantics as `kubectl rollout status` and `kubectl rollout undo` have them: the
observed generation, updated / old / available replicas and the progress deadline, and a
ReplicaSet's pod template as a Deployment holds it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


@dataclass(frozen=True)
class Rollout:
    """Where a Deployment's rollout stands, in `kubectl rollout status` terms."""

    done: bool
    failed: bool
    message: str


def rollout_status(deployment: dict[str, Any]) -> Rollout:
    """kubectl's DeploymentStatusViewer: the same tests, in the same order."""
    meta, spec = deployment.get("metadata", {}), deployment.get("spec", {})
    status = deployment.get("status", {})
    name = meta.get("name", "")
    if meta.get("generation", 0) > status.get("observedGeneration", 0):
        return Rollout(False, False, "waiting for the deployment spec update to be observed")
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "Progressing"
            and condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            detail = condition.get("message") or ""
            return Rollout(
                False, True, f'deployment "{name}" exceeded its progress deadline: {detail}'
            )
    replicas = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    if updated < replicas:
        return Rollout(False, False, f"{updated} of {replicas} new replicas updated")
    if total > updated:
        return Rollout(False, False, f"{total - updated} old replicas pending termination")
    if available < updated:
        return Rollout(False, False, f"{available} of {updated} updated replicas available")
    return Rollout(True, False, f'deployment "{name}" successfully rolled out')


def revision(resource: dict[str, Any]) -> str:
    """The revision annotation of a Deployment or ReplicaSet ('' when it has none)."""
    return str(resource["metadata"].get("annotations", {}).get(REVISION, ""))


def clean_template(template: dict[str, Any]) -> dict[str, Any]:
    """A ReplicaSet's pod template as the Deployment holds it: without pod-template-hash."""
    cleaned = copy.deepcopy(template)
    labels = cleaned.get("metadata", {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return cleaned
