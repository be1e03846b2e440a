"""EKS deployments: apply the manifests (or patch the image) with the new digest, wait for the
rollout as `kubectl rollout status` does, and undo to the previous ReplicaSet's template when
it fails, as `kubectl rollout undo` does.

The target's plain `environment` is set on the container; secrets are not injected into
Kubernetes (give the pods an IAM role for SSM, or use a secrets operator).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from deploytools.aws import AwsContext
from deploytools.config.model import EksTarget
from deploytools.errors import BadInput
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, StepRecord
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed, TargetState
from deploytools.steps.targets.eks.connection import Cluster, connect
from deploytools.steps.targets.eks.k8s_client import (
    APPLY,
    FIELD_MANAGER,
    JSON_PATCH,
    STRATEGIC,
    KubeClient,
    KubeNotFound,
    resource_path,
)
from deploytools.steps.targets.eks.manifests import (
    TargetDeployment,
    container_patch,
    load_manifests,
    pick_container,
)
from deploytools.steps.targets.eks.rollout import (
    HASH_LABEL,
    REVISION,
    Rollout,
    clean_template,
    rollout_status,
)


class Refresher:
    """One EKS target; constructed by `refresher_for`."""

    def __init__(
        self,
        name: str,
        target: EksTarget,
        *,
        aws: AwsContext,
        reporter: Reporter,
        root: Path | None = None,  # the folder of deploytools.yml: manifests are relative to it
        polling: Backoff = STATUS_POLLING,
        **_context: Any,  # the pipeline may pass more context than EKS needs
    ) -> None:
        if not target.deployment:
            raise BadInput(
                f"targets.{name}.deployment is unresolved: load the environment's config"
            )
        self.name = name
        self.target = target
        self.deployment = target.deployment
        self.namespace = target.namespace
        self.aws = aws
        self.reporter = reporter
        self.root = root or Path.cwd()
        self.polling = polling

    @property
    def path(self) -> str:
        return f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{self.deployment}"

    @property
    def where(self) -> str:
        return f"eks {self.target.cluster}/{self.namespace}/{self.deployment}"

    # --- read-only --------------------------------------------------------------------------

    def current(self) -> TargetState | None:
        try:
            with self._connect() as kube:
                return self._state(kube.get(self.path))
        except KubeNotFound:
            return None

    def describe_change(self, image: str | None) -> str:
        now = self.current()
        if now is None:
            how = f"applied from {self.target.manifests}" if self.target.manifests else "missing"
            return f"{self.where}: does not exist ({how}) → {image}"
        if now.image == image:
            return f"{self.where}: unchanged ({image}, revision {now.revision})"
        return f"{self.where}: {now.image} (revision {now.revision}) → {image}"

    # --- changes ----------------------------------------------------------------------------

    def refresh(self, inputs: RefreshInputs, record: StepRecord) -> TargetState:
        image = inputs.image
        if not image:
            raise BadInput(f"targets.{self.name}: an EKS target needs an image")
        environment = {**self.target.environment, **inputs.environment}
        documents = self._manifests(image, environment) if self.target.manifests else None
        with self._connect() as kube:
            before = self._find(kube)
            if documents is not None:
                for document in documents:
                    if self._apply(kube, document, deployment=before):
                        record.change(
                            f"{self.where}: applied {document['kind']} "
                            f"{document['metadata']['name']}"
                        )
            else:
                if before is None:
                    raise TargetFailed(
                        f"{self.where}: the deployment does not exist; set targets.{self.name}."
                        "manifests to a folder of Deployment/Service YAML, or create it first"
                    )
                container = self._container(before)["name"]
                patch = {
                    "spec": {
                        "template": {
                            "spec": {"containers": [container_patch(container, image, environment)]}
                        }
                    }
                }
                after = kube.patch(self.path, patch, STRATEGIC, fieldManager=FIELD_MANAGER)
                if _version(after) != _version(before):  # a patch that changes nothing
                    record.change(f"{self.where}: container {container} → {image}")
            outcome = self._wait(kube, "rollout")
            if outcome.failed:
                why = f"{self.where}: {outcome.message}{self._pod_reasons(kube)}"
                if before is None:
                    raise TargetFailed(
                        f"{why}; the deployment is new, so there is nothing to roll back to"
                    )
                self._undo(kube, before, why)
            state = self._state(kube.get(self.path))
        record.detail.update({"deployment": self.deployment, "revision": state.revision})
        return state

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        with self._connect() as kube:
            deployment = kube.get(self.path)
            replica_set = self._replica_set(kube, deployment, state.revision)
            if replica_set is not None:
                template = clean_template(replica_set["spec"]["template"])
                kube.patch(
                    self.path,
                    [{"op": "replace", "path": "/spec/template", "value": template}],
                    JSON_PATCH,
                    fieldManager=FIELD_MANAGER,
                )
                record.change(f"{self.where}: template of revision {state.revision}")
            elif state.image:
                container = self._container(deployment)["name"]
                patch = {
                    "spec": {
                        "template": {
                            "spec": {"containers": [{"name": container, "image": state.image}]}
                        }
                    }
                }
                kube.patch(self.path, patch, STRATEGIC, fieldManager=FIELD_MANAGER)
                record.change(f"{self.where}: container {container} → {state.image}")
            else:
                raise TargetFailed(
                    f"{self.where}: revision {state.revision} is gone and no image was recorded"
                )
            outcome = self._wait(kube, "rollback")
            if outcome.failed:
                raise TargetFailed(
                    f"{self.where}: restoring failed: {outcome.message}{self._pod_reasons(kube)}"
                )
            return self._state(kube.get(self.path))

    # --- steps ------------------------------------------------------------------------------

    def _apply(
        self, kube: KubeClient, document: dict[str, Any], *, deployment: dict[str, Any] | None
    ) -> bool:
        """Server-side apply `document`; True when the object changed. An apply that
        changes nothing leaves the object's resourceVersion as it was. `deployment` is the
        target's Deployment as read before the apply: its document needs no second read."""
        path = resource_path(document)
        if path == self.path:
            before = None if deployment is None else _version(deployment)
        else:
            try:
                before = _version(kube.get(path))
            except KubeNotFound:
                before = None
        after = kube.patch(path, document, APPLY, fieldManager=FIELD_MANAGER, force="true")
        return before is None or _version(after) != before

    def _wait(self, kube: KubeClient, what: str) -> Rollout:
        """Poll until the rollout finishes, fails, or the target's timeout passes."""
        start = self.polling.clock()
        said = ""
        attempt = 0
        while True:
            attempt += 1
            outcome = rollout_status(kube.get(self.path))
            if outcome.done or outcome.failed:
                return outcome
            if outcome.message != said:
                self.reporter.progress(f"{self.name}: {what}: {outcome.message}")
                said = outcome.message
            if self.polling.clock() - start > self.target.timeout:
                return Rollout(
                    False,
                    True,
                    f"the {what} did not finish in {self.target.timeout} s "
                    f"(targets.{self.name}.timeout): {outcome.message}",
                )
            self.polling.sleep(self.polling.delay(attempt))

    def _undo(self, kube: KubeClient, before: dict[str, Any], why: str) -> None:
        """Put the previous revision's template back (kubectl rollout undo) and raise."""
        revision = before["metadata"].get("annotations", {}).get(REVISION, "")
        replica_set = self._replica_set(kube, kube.get(self.path), revision)
        source = replica_set["spec"]["template"] if replica_set else before["spec"]["template"]
        kube.patch(
            self.path,
            [{"op": "replace", "path": "/spec/template", "value": clean_template(source)}],
            JSON_PATCH,
            fieldManager=FIELD_MANAGER,
        )
        self.reporter.info(f"  ↺ {self.name}: rolling back to revision {revision}")
        outcome = self._wait(kube, "rollback")
        if not outcome.done:
            raise TargetFailed(
                f"{why}; rolling back to revision {revision} failed too: {outcome.message}"
            )
        restored = self._state(kube.get(self.path))
        raise RolledBack(
            f"{why}; rolled back to the template of revision {revision} ({restored.image}), "
            f"now revision {restored.revision}",
            restored,
        )

    def _replica_set(
        self, kube: KubeClient, deployment: dict[str, Any], revision: str
    ) -> dict[str, Any] | None:
        """The Deployment's ReplicaSet with this revision annotation, if it still exists."""
        labels = deployment["spec"].get("selector", {}).get("matchLabels", {})
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        found = kube.get(
            f"/apis/apps/v1/namespaces/{self.namespace}/replicasets", labelSelector=selector
        )
        uid = deployment["metadata"].get("uid")
        for replica_set in found.get("items", []):
            meta = replica_set["metadata"]
            owned = any(ref.get("uid") == uid for ref in meta.get("ownerReferences", []))
            if owned and meta.get("annotations", {}).get(REVISION) == revision:
                return dict(replica_set)
        return None

    def _pod_reasons(self, kube: KubeClient) -> str:
        """Why the new pods are not ready (ImagePullBackOff, CrashLoopBackOff, …), best effort."""
        try:
            deployment = kube.get(self.path)
            revision = deployment["metadata"].get("annotations", {}).get(REVISION, "")
            replica_set = self._replica_set(kube, deployment, revision)
            if replica_set is None:
                return ""
            digest = replica_set["metadata"].get("labels", {}).get(HASH_LABEL, "")
            pods = kube.get(
                f"/api/v1/namespaces/{self.namespace}/pods", labelSelector=f"{HASH_LABEL}={digest}"
            )
        except TargetFailed:
            return ""
        reasons: list[str] = []
        for pod in pods.get("items", []):
            for status in pod.get("status", {}).get("containerStatuses") or []:
                state = status.get("state", {})
                detail = state.get("waiting") or state.get("terminated")
                if detail and detail.get("reason"):
                    text = f"container {status.get('name')}: {detail['reason']}"
                    if detail.get("message"):
                        text += f": {detail['message']}"
                    if text not in reasons:
                        reasons.append(text)
        return f"; pods: {'; '.join(reasons)}" if reasons else ""

    def _manifests(self, image: str, environment: dict[str, str]) -> list[dict[str, Any]]:
        """Every YAML document under `manifests`, our Deployment's container set to `image`."""
        assert self.target.manifests
        return load_manifests(self.root / self.target.manifests, self.ours, image, environment)

    def _container(self, deployment: dict[str, Any]) -> dict[str, Any]:
        return pick_container(deployment, self.ours)

    def _state(self, deployment: dict[str, Any]) -> TargetState:
        container = self._container(deployment)
        return TargetState(
            target=self.name,
            type="eks",
            resource=self.deployment,
            image=container.get("image"),
            revision=deployment["metadata"].get("annotations", {}).get(REVISION, ""),
            detail={
                "cluster": self.target.cluster,
                "namespace": self.namespace,
                "container": container.get("name"),
            },
        )

    def _find(self, kube: KubeClient) -> dict[str, Any] | None:
        try:
            return kube.get(self.path)
        except KubeNotFound:
            return None

    # --- connection -------------------------------------------------------------------------

    @property
    def ours(self) -> TargetDeployment:
        return TargetDeployment(
            self.name, self.deployment, self.namespace, self.target.container, self.where
        )

    def _connect(self) -> AbstractContextManager[KubeClient]:
        cluster = Cluster(self.aws, self.target.cluster, self.namespace, self.polling.clock)
        return connect(cluster)


def _version(obj: dict[str, Any]) -> str | None:
    """The object's resourceVersion: the API server moves it on every write that changes it."""
    version = obj.get("metadata", {}).get("resourceVersion")
    return None if version is None else str(version)
