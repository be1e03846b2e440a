"""The state of one emulated cluster: stored objects and a simulated Deployment controller.

A Deployment's template change bumps `metadata.generation` and the revision annotation
(`deployment.kubernetes.io/revision`), makes (or reuses) the ReplicaSet for that template and
starts a rollout. The controller "observes" the change after a fifth of `rollout_seconds` and
finishes it after `rollout_seconds`: all replicas updated and available, or, when the template
is marked to fail, a Progressing condition with reason ProgressDeadlineExceeded and the old
ReplicaSet still serving. A template fails when a container image contains `sandbox-fail` or a
container sets the env var DEPLOYTOOLS_SANDBOX_FAIL=1.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
FAIL_IMAGE_MARK = "sandbox-fail"
FAIL_ENV = "DEPLOYTOOLS_SANDBOX_FAIL"
DEPLOYMENTS = ("apps", "deployments")
REPLICASETS = ("apps", "replicasets")
PODS = ("", "pods")
SERVICES = ("", "services")

Resource = tuple[str, str]  # (API group, plural); "" is the core group
Key = tuple[Resource, str, str]  # resource, namespace ("" when cluster-scoped), name


class ApiError(Exception):
    """Answered as a Kubernetes Status object."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(message)

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": str(self),
            "reason": self.reason,
            "code": self.code,
        }


@dataclass
class Rollout:
    replica_set: str
    started: float
    failing: bool
    image: str
    crash: bool  # fails by crashing (env mark) rather than by a bad image


@dataclass
class Cluster:
    name: str
    rollout_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    rollouts: dict[tuple[str, str], Rollout] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _version: int = 0

    # --- generic objects ------------------------------------------------------------------

    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            found = self.objects.get((resource, namespace, name))
            if found is None:
                raise not_found(resource, name)
            if resource == DEPLOYMENTS:
                self._observe(found)
            return copy.deepcopy(found)

    def find(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.get(resource, namespace, name)
        except ApiError:
            return None

    def select(
        self, resource: Resource, namespace: str, selector: str | None
    ) -> list[dict[str, Any]]:
        with self.lock:
            if resource == PODS:
                items = self._pods(namespace)
            else:
                items = [
                    obj
                    for (res, ns, _), obj in sorted(self.objects.items())
                    if res == resource and ns == namespace
                ]
                if resource == DEPLOYMENTS:
                    for item in items:
                        self._observe(item)
            wanted = parse_selector(selector)
            return [
                copy.deepcopy(item)
                for item in items
                if wanted.items() <= item.get("metadata", {}).get("labels", {}).items()
            ]

    def put(
        self, resource: Resource, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Create or replace an object; Deployments go through the controller."""
        with self.lock:
            key = (resource, namespace, name)
            old = self.objects.get(key)
            obj = copy.deepcopy(body)
            if resource == DEPLOYMENTS:
                obj.setdefault("spec", {}).setdefault("replicas", 1)  # the API server's default
            meta = obj.setdefault("metadata", {})
            meta["name"] = name
            if namespace:
                meta["namespace"] = namespace
            if old is None:
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = _now()
                meta["generation"] = 1
            else:
                old_meta = old["metadata"]
                for kept in ("uid", "creationTimestamp", "generation"):
                    meta[kept] = old_meta[kept]
                if old.get("spec") != obj.get("spec"):
                    meta["generation"] = old_meta["generation"] + 1
                if "status" in old:
                    obj["status"] = old["status"]
            meta["resourceVersion"] = self._next_version()
            if resource == SERVICES:
                spec = obj.setdefault("spec", {})
                old_ip = (old or {}).get("spec", {}).get("clusterIP")
                spec["clusterIP"] = (
                    old_ip or f"10.100.{len(self.objects) % 250}.{len(self.objects) % 200 + 10}"
                )
            self.objects[key] = obj
            if resource == DEPLOYMENTS:
                self._sync(obj, namespace)
                self._observe(obj)
            return copy.deepcopy(obj)

    # --- the Deployment controller --------------------------------------------------------

    def _sync(self, deployment: dict[str, Any], namespace: str) -> None:
        name = deployment["metadata"]["name"]
        template = copy.deepcopy(deployment["spec"].get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {}).pop(HASH_LABEL, None)
        digest = template_hash(template)
        owned = self._replica_sets(namespace, deployment["metadata"]["uid"])
        current = next(
            (rs for rs in owned if rs["metadata"]["labels"].get(HASH_LABEL) == digest), None
        )
        annotations = deployment["metadata"].setdefault("annotations", {})
        latest = max((int(rs["metadata"]["annotations"][REVISION]) for rs in owned), default=0)
        if current is not None and int(current["metadata"]["annotations"][REVISION]) == latest:
            annotations[REVISION] = str(latest)  # an apply that leaves the template alone
            return
        revision = str(latest + 1)
        if current is None:
            current = self._new_replica_set(deployment, namespace, template, digest)
        current["metadata"]["annotations"][REVISION] = revision
        annotations[REVISION] = revision
        image, crash = _failure_marks(template)
        self.rollouts[(namespace, name)] = Rollout(
            replica_set=current["metadata"]["name"],
            started=self.clock(),
            failing=bool(image or crash),
            image=image or crash or "",
            crash=bool(crash) and not image,
        )

    def _new_replica_set(
        self, deployment: dict[str, Any], namespace: str, template: dict[str, Any], digest: str
    ) -> dict[str, Any]:
        name = f"{deployment['metadata']['name']}-{digest}"
        labels = {**template["metadata"].get("labels", {}), HASH_LABEL: digest}
        pod_template = copy.deepcopy(template)
        pod_template["metadata"]["labels"] = labels
        selector = copy.deepcopy(deployment["spec"].get("selector") or {"matchLabels": {}})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
        replica_set = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": _now(),
                "resourceVersion": self._next_version(),
                "labels": labels,
                "annotations": {},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": deployment["metadata"]["name"],
                        "uid": deployment["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {"replicas": 0, "selector": selector, "template": pod_template},
            "status": {"replicas": 0},
        }
        self.objects[(REPLICASETS, namespace, name)] = replica_set
        return replica_set

    def _observe(self, deployment: dict[str, Any]) -> None:
        """Fill the Deployment's (and its ReplicaSets') status as the controller would by now."""
        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        replicas = int(spec.get("replicas", 1))
        rollout = self.rollouts.get((namespace, name))
        generation = meta["generation"]
        status: dict[str, Any] = {"observedGeneration": generation}
        owned = self._replica_sets(namespace, meta["uid"])
        if rollout is None:
            status.update(_counts(replicas, replicas, replicas))
            status["conditions"] = [_available(True), _progressing("NewReplicaSetAvailable", "")]
            deployment["status"] = status
            return
        elapsed = self.clock() - rollout.started
        others = [rs for rs in owned if rs["metadata"]["name"] != rollout.replica_set]
        serving = sum(int(rs["spec"]["replicas"]) for rs in others)
        new_rs = f'ReplicaSet "{rollout.replica_set}"'
        if elapsed < self.rollout_seconds / 5:
            status = dict(deployment.get("status") or {})
            status["observedGeneration"] = generation - 1
        elif elapsed < self.rollout_seconds:
            status.update(_counts(serving + 1, 0, serving))
            status["conditions"] = [
                _available(serving > 0),
                _progressing("ReplicaSetUpdated", f"{new_rs} is progressing."),
            ]
        elif rollout.failing:
            status.update(_counts(serving + 1, 1, serving))
            status["unavailableReplicas"] = max(1, replicas - serving)
            status["conditions"] = [
                _available(serving > 0),
                _progressing(
                    "ProgressDeadlineExceeded", f"{new_rs} has timed out progressing.", ok=False
                ),
            ]
        else:
            for rs in owned:
                rs["spec"]["replicas"] = (
                    replicas if rs["metadata"]["name"] == rollout.replica_set else 0
                )
                rs["status"] = {
                    "replicas": rs["spec"]["replicas"],
                    "readyReplicas": rs["spec"]["replicas"],
                    "availableReplicas": rs["spec"]["replicas"],
                    "observedGeneration": 1,
                }
            status.update(_counts(replicas, replicas, replicas))
            status["conditions"] = [
                _available(True),
                _progressing("NewReplicaSetAvailable", f"{new_rs} has successfully progressed."),
            ]
        deployment["status"] = status

    def _replica_sets(self, namespace: str, owner_uid: str) -> list[dict[str, Any]]:
        return [
            obj
            for (res, ns, _), obj in sorted(self.objects.items())
            if res == REPLICASETS
            and ns == namespace
            and any(
                ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences", [])
            )
        ]

    def _pods(self, namespace: str) -> list[dict[str, Any]]:
        """Pods are not stored: they are derived from the rollouts, one per replica."""
        pods: list[dict[str, Any]] = []
        for (res, ns, _), deployment in sorted(self.objects.items()):
            if res != DEPLOYMENTS or ns != namespace:
                continue
            self._observe(deployment)
            rollout = self.rollouts.get((ns, deployment["metadata"]["name"]))
            for rs in self._replica_sets(ns, deployment["metadata"]["uid"]):
                template = rs["spec"]["template"]
                ours = rollout is not None and rs["metadata"]["name"] == rollout.replica_set
                count = int(rs["spec"]["replicas"]) or (
                    1 if ours and rollout and rollout.failing else 0
                )
                for index in range(count):
                    pods.append(_pod(rs, template, index, rollout if ours else None))
        return pods

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)


def template_hash(template: dict[str, Any]) -> str:
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def parse_selector(selector: str | None) -> dict[str, str]:
    """Equality-based label selectors (`a=b,c==d`), which is what deploytools sends."""
    wanted: dict[str, str] = {}
    for term in (selector or "").split(","):
        if not term.strip():
            continue
        key, sep, value = term.replace("==", "=").partition("=")
        if not sep:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {term!r}")
        wanted[key.strip()] = value.strip()
    return wanted


def not_found(resource: Resource, name: str) -> ApiError:
    group, plural = resource
    kind = f"{plural}.{group}" if group else plural
    return ApiError(404, "NotFound", f'{kind} "{name}" not found')


def _failure_marks(template: dict[str, Any]) -> tuple[str | None, str | None]:
    image_mark = crash_mark = None
    for container in template.get("spec", {}).get("containers", []):
        image = str(container.get("image", ""))
        if FAIL_IMAGE_MARK in image:
            image_mark = image
        for env in container.get("env") or []:
            if env.get("name") == FAIL_ENV and str(env.get("value")) == "1":
                crash_mark = str(container.get("name", "container"))
    return image_mark, crash_mark


def _pod(
    replica_set: dict[str, Any], template: dict[str, Any], index: int, rollout: Rollout | None
) -> dict[str, Any]:
    containers = template.get("spec", {}).get("containers", [])
    failing = rollout is not None and rollout.failing and int(replica_set["spec"]["replicas"]) == 0
    statuses = []
    for container in containers:
        state: dict[str, Any] = {"running": {"startedAt": _now()}}
        if failing and rollout is not None:
            if rollout.crash:
                state = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 5m0s restarting failed container={container['name']}",
                    }
                }
            elif FAIL_IMAGE_MARK in str(container.get("image", "")):
                state = {
                    "waiting": {
                        "reason": "ImagePullBackOff",
                        "message": f'Back-off pulling image "{container.get("image")}"',
                    }
                }
        statuses.append(
            {
                "name": container.get("name"),
                "image": container.get("image"),
                "ready": "running" in state,
                "restartCount": 5 if "waiting" in state and rollout and rollout.crash else 0,
                "state": state,
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{replica_set['metadata']['name']}-{index:05d}",
            "namespace": replica_set["metadata"]["namespace"],
            "labels": dict(replica_set["metadata"]["labels"]),
        },
        "spec": copy.deepcopy(template.get("spec", {})),
        "status": {
            "phase": "Running" if all(s["ready"] for s in statuses) else "Pending",
            "containerStatuses": statuses,
        },
    }


def _counts(replicas: int, updated: int, available: int) -> dict[str, int]:
    return {
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": available,
        "availableReplicas": available,
    }


def _available(ok: bool) -> dict[str, str]:
    return {
        "type": "Available",
        "status": "True" if ok else "False",
        "reason": "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
    }


def _progressing(reason: str, message: str, *, ok: bool = True) -> dict[str, str]:
    return {
        "type": "Progressing",
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "lastUpdateTime": _now(),
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
