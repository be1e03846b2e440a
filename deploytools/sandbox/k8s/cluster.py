"""The state of one emulated cluster: stored objects, a Deployment controller and its pods.

A Deployment's template change bumps `metadata.generation` and the revision annotation
(`deployment.kubernetes.io/revision`), makes (or reuses) the ReplicaSet for that template and
starts a rollout. `reconcile()` (called on a timer by the server) is the controller: it scales
the ReplicaSets as the strategy says (RollingUpdate within maxSurge and maxUnavailable, the
old ReplicaSets' unavailable pods removed first; or Recreate), and the kubelet
(deploytools.sandbox.k8s.kubelet) runs each ReplicaSet's pods as containers. The Deployment's
status (observedGeneration, replicas, updatedReplicas, readyReplicas, availableReplicas) counts
the pods whose containers are actually ready; the rollout is complete when every replica of
the new ReplicaSet is available and no old pod is left, and it fails (Progressing=False,
reason ProgressDeadlineExceeded) when it makes no progress for `progressDeadlineSeconds`
(default 600), the old ReplicaSet still serving.

Without a container engine (`workloads` is then why there is none) no pod runs: after
`rollout_seconds` every replica counts as available and the Progressing condition's message
says `simulated: …`; the pod list is empty. Deleting a Deployment removes its ReplicaSets and
their pods' containers. The progress deadline counts from the last change of the new
ReplicaSet's updated or available pods.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deploytools.sandbox.k8s.kubelet import Kubelet, Pod, Workloads

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
DEFAULT_PROGRESS_DEADLINE = 600.0
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
    last_progress: float
    counts: tuple[int, int] = (0, 0)  # the new ReplicaSet's (updated, available) pods
    done: bool = False
    failed: bool = False


@dataclass
class Cluster:
    name: str
    rollout_seconds: float = 1.0
    workloads: Workloads | str = "no container engine was given to the Kubernetes double"
    probe_scale: float = 1.0  # scales probe periods, delays and back-offs (kubelet.Kubelet)
    clock: Callable[[], float] = time.monotonic
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    rollouts: dict[tuple[str, str], Rollout] = field(default_factory=dict)
    pods: dict[tuple[str, str], list[Pod]] = field(default_factory=dict)  # (ns, ReplicaSet)
    lock: threading.RLock = field(default_factory=threading.RLock)
    kubelet: Kubelet | None = field(init=False, default=None)
    _version: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.workloads, str):
            self.kubelet = Kubelet(
                self.workloads, self._lookup, scale=self.probe_scale, clock=self.clock
            )

    @property
    def simulated(self) -> str | None:
        """Why no pod runs, or None when they do."""
        return self.workloads if isinstance(self.workloads, str) else None

    # --- generic objects ------------------------------------------------------------------

    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            found = self.objects.get((resource, namespace, name))
            if found is None:
                raise not_found(resource, name)
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
            if resource == SERVICES:
                spec = obj.setdefault("spec", {})
                old_ip = (old or {}).get("spec", {}).get("clusterIP")
                spec["clusterIP"] = (
                    old_ip or f"10.100.{len(self.objects) % 250}.{len(self.objects) % 200 + 10}"
                )
            if old is not None:
                meta["resourceVersion"] = old["metadata"]["resourceVersion"]
                if obj == old:  # as the API server does: a no-op write writes nothing
                    return copy.deepcopy(old)
            meta["resourceVersion"] = self._next_version()
            self.objects[key] = obj
            if resource == DEPLOYMENTS:
                obj.setdefault("status", {})  # until the controller first looks at it
                self._sync(obj, namespace)
            return copy.deepcopy(obj)

    # --- the Deployment controller --------------------------------------------------------

    def reconcile(self) -> None:
        """One pass of the Deployment controller and the kubelet over every Deployment."""
        with self.lock:
            deployments = [
                (ns, obj)
                for (res, ns, _), obj in sorted(self.objects.items())
                if res == DEPLOYMENTS
            ]
            for namespace, deployment in deployments:
                self._roll(namespace, deployment)
            self._collect_orphans()

    def shutdown(self) -> None:
        """Remove every pod's containers."""
        with self.lock:
            for pods in self.pods.values():
                for pod in pods:
                    self._kubelet_delete(pod)
            self.pods.clear()

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
        now = self.clock()
        self.rollouts[(namespace, name)] = Rollout(current["metadata"]["name"], now, now)

    def _roll(self, namespace: str, deployment: dict[str, Any]) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        replicas = int(spec.get("replicas", 1))
        owned = self._replica_sets(namespace, meta["uid"])
        revision = meta.get("annotations", {}).get(REVISION)
        new = next(
            (rs for rs in owned if rs["metadata"]["annotations"].get(REVISION) == revision), None
        )
        if new is None:
            return
        old = [rs for rs in owned if rs is not new]
        rollout = self.rollouts.get((namespace, meta["name"]))
        now = self.clock()
        if self.kubelet is None:
            if rollout is None or now - rollout.started >= self.rollout_seconds:
                new["spec"]["replicas"] = replicas
                for rs in old:
                    rs["spec"]["replicas"] = 0
        else:
            surge, unavailable = _rolling_limits(spec, replicas)
            if (spec.get("strategy") or {}).get("type") == "Recreate":
                for rs in old:
                    rs["spec"]["replicas"] = 0
                if not any(self.pods.get((namespace, rs["metadata"]["name"])) for rs in old):
                    new["spec"]["replicas"] = replicas
            else:
                self._scale_rolling(namespace, spec, new, old, replicas, surge, unavailable)
            workload = f"eks:{self.name}/{namespace}/{meta['name']}"
            for rs in owned:
                self._run_pods(namespace, rs, workload)
        self._status(namespace, deployment, new, old, rollout, now)

    def _scale_rolling(
        self,
        namespace: str,
        spec: dict[str, Any],
        new: dict[str, Any],
        old: list[dict[str, Any]],
        replicas: int,
        surge: int,
        unavailable: int,
    ) -> None:
        """The RollingUpdate strategy: grow the new ReplicaSet within maxSurge, shrink the old
        ones (their unavailable pods first) within maxUnavailable."""
        min_ready = float(spec.get("minReadySeconds", 0))
        old_total = sum(int(rs["spec"]["replicas"]) for rs in old)
        wanted = int(new["spec"]["replicas"])
        if wanted > replicas:
            wanted = replicas
        else:
            wanted = max(wanted, min(replicas, replicas + surge - old_total))
        new["spec"]["replicas"] = wanted
        new_available = self._available(namespace, new, min_ready)
        all_pods = old_total + wanted
        budget = all_pods - (replicas - unavailable) - (wanted - new_available)
        if budget <= 0:
            return
        for rs in old:  # unavailable old pods go first: removing them costs nothing
            count = int(rs["spec"]["replicas"])
            cut = min(budget, count - self._available(namespace, rs, min_ready))
            rs["spec"]["replicas"] = count - cut
            budget -= cut
        available = sum(self._available(namespace, rs, min_ready) for rs in [new, *old])
        budget = available - (replicas - unavailable)
        for rs in old:
            cut = max(0, min(budget, int(rs["spec"]["replicas"])))
            rs["spec"]["replicas"] = int(rs["spec"]["replicas"]) - cut
            budget -= cut

    def _run_pods(self, namespace: str, replica_set: dict[str, Any], workload: str) -> None:
        assert self.kubelet is not None
        name = replica_set["metadata"]["name"]
        pods = self.pods.setdefault((namespace, name), [])
        wanted = int(replica_set["spec"]["replicas"])
        if len(pods) > wanted:
            pods.sort(key=lambda pod: pod.ready)  # the unready go first
            for pod in pods[: len(pods) - wanted]:
                self._kubelet_delete(pod)
            del pods[: len(pods) - wanted]
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": name,
            "uid": replica_set["metadata"]["uid"],
            "controller": True,
        }
        template = replica_set["spec"]["template"]
        while len(pods) < wanted:
            pod_name = f"{name}-{uuid.uuid4().hex[:5]}"
            pods.append(self.kubelet.pod(pod_name, template, owner, workload, namespace))
        for pod in pods:
            self.kubelet.sync(pod)
        min_ready = 0.0
        replica_set["status"] = {
            "replicas": len(pods),
            "readyReplicas": sum(pod.ready for pod in pods),
            "availableReplicas": sum(pod.available(self.clock(), min_ready) for pod in pods),
            "observedGeneration": 1,
        }

    def _available(self, namespace: str, replica_set: dict[str, Any], min_ready: float) -> int:
        if self.kubelet is None:
            return int(replica_set["spec"]["replicas"])
        pods = self.pods.get((namespace, replica_set["metadata"]["name"]), [])
        return sum(pod.available(self.clock(), min_ready) for pod in pods)

    def _status(
        self,
        namespace: str,
        deployment: dict[str, Any],
        new: dict[str, Any],
        old: list[dict[str, Any]],
        rollout: Rollout | None,
        now: float,
    ) -> None:
        """The Deployment's status from its ReplicaSets' pods, as the controller writes it."""
        spec = deployment["spec"]
        replicas = int(spec.get("replicas", 1))
        min_ready = float(spec.get("minReadySeconds", 0))
        _, unavailable = _rolling_limits(spec, replicas)

        def count(rs: dict[str, Any]) -> tuple[int, int, int]:
            if self.kubelet is None:
                size = int(rs["spec"]["replicas"])
                return size, size, size
            pods = self.pods.get((namespace, rs["metadata"]["name"]), [])
            ready = sum(pod.ready for pod in pods)
            return len(pods), ready, sum(pod.available(now, min_ready) for pod in pods)

        new_counts = count(new)
        totals = [sum(values) for values in zip(new_counts, *map(count, old), strict=False)]
        total, ready, available = totals
        status: dict[str, Any] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": total,
            "updatedReplicas": new_counts[0],
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, total - available),
        }
        rs_name = f'ReplicaSet "{new["metadata"]["name"]}"'
        complete = new_counts[0] == new_counts[2] == replicas == total
        if rollout is None or rollout.done or complete:
            if rollout is not None:
                rollout.done = True
            message = f"{rs_name} has successfully progressed."
            if self.simulated:
                message += f" simulated: its pods were not run ({self.simulated})"
            progressing = _progressing("NewReplicaSetAvailable", message)
        else:
            if (new_counts[0], new_counts[2]) != rollout.counts:
                rollout.counts, rollout.last_progress = (new_counts[0], new_counts[2]), now
            deadline = float(spec.get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE))
            if rollout.failed or now - rollout.last_progress > deadline:
                rollout.failed = True
                progressing = _progressing(
                    "ProgressDeadlineExceeded", f"{rs_name} has timed out progressing.", ok=False
                )
            else:
                progressing = _progressing("ReplicaSetUpdated", f"{rs_name} is progressing.")
        status["conditions"] = [_available(available >= replicas - unavailable), progressing]
        deployment["status"] = status

    def _collect_orphans(self) -> None:
        """ReplicaSets (and their pods) whose Deployment was deleted, as the garbage collector."""
        owners = {
            obj["metadata"]["uid"]
            for (res, _, _), obj in self.objects.items()
            if res == DEPLOYMENTS
        }
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences", [])
            if key[0] == REPLICASETS and refs and not any(r.get("uid") in owners for r in refs):
                for pod in self.pods.pop((key[1], key[2]), []):
                    self._kubelet_delete(pod)
                del self.objects[key]

    def _kubelet_delete(self, pod: Pod) -> None:
        if self.kubelet is not None:
            self.kubelet.delete(pod)

    def _lookup(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = self.objects.get((("", plural), namespace, name))
        return copy.deepcopy(found) if found is not None else None

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
        if self.kubelet is None:
            return []
        return [
            self.kubelet.as_json(pod)
            for (ns, _), pods in sorted(self.pods.items())
            if ns == namespace
            for pod in pods
        ]

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


def _rolling_limits(spec: dict[str, Any], replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as pods; percentages round up and down respectively."""
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}

    def resolve(value: Any, round_up: bool) -> int:
        if isinstance(value, str) and value.endswith("%"):
            share = replicas * float(value[:-1]) / 100
            return math.ceil(share) if round_up else math.floor(share)
        return int(value)

    surge = resolve(rolling.get("maxSurge", "25%"), True)
    unavailable = resolve(rolling.get("maxUnavailable", "25%"), False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # what the API server's validation forces
    return surge, unavailable
