"""EKS deployments: apply the manifests (or patch the image) with the new digest, wait for the
rollout as `kubectl rollout status` does, and undo to the previous ReplicaSet's template when
it fails, as `kubectl rollout undo` does.

No kubectl and no Kubernetes client library: the cluster's endpoint and CA come from
`describe_cluster`, the bearer token from STS (`eks_token`), and the few API calls are plain
HTTPS. The role deploytools runs as needs an EKS access entry on the cluster.

The target's plain `environment` is set on the container; secrets are not injected into
Kubernetes (give the pods an IAM role for SSM, or use a secrets operator).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.config.model import EksTarget
from deploytools.errors import BadInput, DeployError
from deploytools.output import Reporter, StepRecord
from deploytools.steps.targets import eks_token, warmup
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed, TargetState

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
FIELD_MANAGER = "deploytools"
APPLY = "application/apply-patch+yaml"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
TOKEN_MAX_AGE = 600.0  # seconds; EKS accepts a token for 15 minutes
REQUEST_TIMEOUT = 30
# Kinds whose plural is not simply kind + "s", and kinds that live outside namespaces.
PLURALS = {
    "Ingress": "ingresses",
    "NetworkPolicy": "networkpolicies",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "StorageClass": "storageclasses",
    "IngressClass": "ingressclasses",
    "PriorityClass": "priorityclasses",
    "Endpoints": "endpoints",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
    "CustomResourceDefinition",
    "PersistentVolume",
}


class EksAccessDenied(DeployError):
    """The cluster's Kubernetes API refused deploytools' IAM principal (401/403)."""


class KubeNotFound(TargetFailed):
    """The Kubernetes API answered 404."""


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


class KubeClient:
    """The handful of Kubernetes API calls deploytools makes, over plain HTTPS."""

    def __init__(
        self,
        *,
        cluster: str,
        endpoint: str,
        verify: str | bool,
        token: Callable[[], str],
        denied: Callable[[int, str], EksAccessDenied],
        clock: Callable[[], float],
    ) -> None:
        self.cluster = cluster
        self.endpoint = endpoint.rstrip("/")
        self.http = requests.Session()
        self.verify = verify  # per request: a session's verify loses to REQUESTS_CA_BUNDLE
        self._token = token
        self._denied = denied
        self._clock = clock
        self._issued: tuple[str, float] | None = None

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: str) -> dict[str, Any]:
        return self.request("GET", path, params=params)

    def patch(self, path: str, body: Any, content_type: str, **params: str) -> dict[str, Any]:
        data = yaml.safe_dump(body, sort_keys=False) if content_type == APPLY else None
        return self.request(
            "PATCH",
            path,
            params=params,
            data=data,
            json_body=None if data else body,
            content_type=content_type,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: str | None = None,
        json_body: Any = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        body = data.encode("utf-8") if data is not None else None
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
        try:
            response = self.http.request(
                method,
                self.endpoint + path,
                params=params,
                data=body,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
                verify=self.verify,
            )
        except requests.RequestException as exc:
            raise TargetFailed(
                f"cannot reach the Kubernetes API of EKS cluster {self.cluster} at "
                f"{self.endpoint}: {exc} (is the endpoint public, or does this runner reach "
                "the cluster's VPC?)"
            ) from exc
        if response.status_code in (401, 403):
            raise self._denied(response.status_code, _status_message(response))
        if response.status_code == 404:
            raise KubeNotFound(f"{method} {path}: not found: {_status_message(response)}")
        if response.status_code >= 400:
            raise TargetFailed(
                f"Kubernetes API of {self.cluster}: {method} {path}: {response.status_code} "
                f"{_status_message(response)}"
            )
        result: dict[str, Any] = response.json() if response.content else {}
        return result

    def token(self) -> str:
        now = self._clock()
        if self._issued is None or now - self._issued[1] > TOKEN_MAX_AGE:
            self._issued = (self._token(), now)
        return self._issued[0]


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
        timing: warmup.Timing | None = None,
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
        self.timing = timing or warmup.Timing()

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
                    self._apply(kube, document)
                    record.change(
                        f"{self.where}: applied {document['kind']} {document['metadata']['name']}"
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
                            "spec": {
                                "containers": [_container_patch(container, image, environment)]
                            }
                        }
                    }
                }
                kube.patch(self.path, patch, STRATEGIC, fieldManager=FIELD_MANAGER)
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
                template = _clean_template(replica_set["spec"]["template"])
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

    def _apply(self, kube: KubeClient, document: dict[str, Any]) -> None:
        kube.patch(
            _resource_path(document), document, APPLY, fieldManager=FIELD_MANAGER, force="true"
        )

    def _wait(self, kube: KubeClient, what: str) -> Rollout:
        """Poll until the rollout finishes, fails, or the target's timeout passes."""
        start = self.timing.monotonic()
        said = ""
        while True:
            outcome = rollout_status(kube.get(self.path))
            if outcome.done or outcome.failed:
                return outcome
            if outcome.message != said:
                self.reporter.progress(f"{self.name}: {what}: {outcome.message}")
                said = outcome.message
            if self.timing.monotonic() - start > self.target.timeout:
                return Rollout(
                    False,
                    True,
                    f"the {what} did not finish in {self.target.timeout} s "
                    f"(targets.{self.name}.timeout): {outcome.message}",
                )
            self.timing.sleep(self.timing.poll)

    def _undo(self, kube: KubeClient, before: dict[str, Any], why: str) -> None:
        """Put the previous revision's template back (kubectl rollout undo) and raise."""
        revision = before["metadata"].get("annotations", {}).get(REVISION, "")
        replica_set = self._replica_set(kube, kube.get(self.path), revision)
        source = replica_set["spec"]["template"] if replica_set else before["spec"]["template"]
        kube.patch(
            self.path,
            [{"op": "replace", "path": "/spec/template", "value": _clean_template(source)}],
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
        source = self.root / self.target.manifests
        files = (
            [source]
            if source.is_file()
            else sorted(p for p in source.rglob("*") if p.suffix in (".yaml", ".yml"))
        )
        documents: list[dict[str, Any]] = []
        for file in files:
            try:
                loaded = [d for d in yaml.safe_load_all(file.read_text(encoding="utf-8")) if d]
            except (OSError, yaml.YAMLError) as exc:
                raise BadInput(f"{file}: cannot read the manifest: {exc}") from exc
            for document in loaded:
                items = document.get("items", []) if document.get("kind") == "List" else [document]
                for item in items:
                    documents.append(self._prepare(file, item))
        ours = [
            d
            for d in documents
            if d["kind"] == "Deployment" and d["metadata"]["name"] == self.deployment
        ]
        if not ours:
            raise BadInput(
                f"{source}: no Deployment named {self.deployment} "
                f"(targets.{self.name}.deployment); found: "
                + (
                    ", ".join(f"{d['kind']}/{d['metadata']['name']}" for d in documents)
                    or "nothing"
                )
            )
        for document in ours:
            container = self._container(document)
            container.update(
                _container_patch(container["name"], image, environment, container.get("env"))
            )
        # Namespaces first, so the rest has somewhere to go; otherwise the files' order.
        return sorted(documents, key=lambda d: d["kind"] != "Namespace")

    def _prepare(self, file: Path, document: Any) -> dict[str, Any]:
        if not isinstance(document, dict) or not all(
            k in document for k in ("apiVersion", "kind", "metadata")
        ):
            raise BadInput(f"{file}: every document needs apiVersion, kind and metadata.name")
        document = copy.deepcopy(document)
        meta = document["metadata"]
        if not meta.get("name"):
            raise BadInput(f"{file}: a {document['kind']} without metadata.name")
        if document["kind"] not in CLUSTER_SCOPED:
            meta.setdefault("namespace", self.namespace)
            if (
                document["kind"] == "Deployment"
                and meta["name"] == self.deployment
                and meta["namespace"] != self.namespace
            ):
                raise BadInput(
                    f"{file}: Deployment {meta['name']} is in namespace {meta['namespace']}, "
                    f"but targets.{self.name}.namespace is {self.namespace}"
                )
        return dict(document)

    def _container(self, deployment: dict[str, Any]) -> dict[str, Any]:
        containers: list[dict[str, Any]] = (
            deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
        )
        names = [c.get("name") for c in containers]
        wanted = self.target.container
        if wanted:
            for container in containers:
                if container.get("name") == wanted:
                    return container
            raise BadInput(
                f"{self.where}: no container {wanted} (targets.{self.name}.container); "
                f"containers: {', '.join(map(str, names)) or 'none'}"
            )
        if len(containers) != 1:
            raise BadInput(
                f"{self.where}: {len(containers)} containers ({', '.join(map(str, names))}): "
                f"set targets.{self.name}.container to the one that runs the image"
            )
        return containers[0]

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

    @contextmanager
    def _connect(self) -> Iterator[KubeClient]:
        cluster = self._describe_cluster()
        endpoint = str(cluster.get("endpoint") or "")
        if not endpoint:
            raise TargetFailed(f"EKS cluster {self.target.cluster} reports no endpoint yet")
        ca_file: str | None = None
        verify: str | bool = True
        if endpoint.startswith("https://"):
            ca_data = (cluster.get("certificateAuthority") or {}).get("data")
            if ca_data:
                with tempfile.NamedTemporaryFile(
                    "wb", prefix="deploytools-eks-", suffix=".pem", delete=False
                ) as handle:
                    handle.write(base64.b64decode(ca_data))
                    ca_file = handle.name
                verify = ca_file
        kube = KubeClient(
            cluster=self.target.cluster,
            endpoint=endpoint,
            verify=verify,
            token=lambda: eks_token.get_token(self.aws, self.target.cluster),
            denied=self._denied,
            clock=self.timing.monotonic,
        )
        try:
            yield kube
        finally:
            kube.close()
            if ca_file:
                os.unlink(ca_file)

    def _describe_cluster(self) -> dict[str, Any]:
        try:
            cluster: dict[str, Any] = self.aws.client("eks").describe_cluster(
                name=self.target.cluster
            )["cluster"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise KubeNotFound(
                    f"EKS cluster {self.target.cluster} does not exist (Terraform creates it)"
                ) from exc
            raise TargetFailed(f"eks describe_cluster {self.target.cluster}: {exc}") from exc
        status = cluster.get("status", "ACTIVE")
        if status not in ("ACTIVE", "UPDATING"):
            raise TargetFailed(f"EKS cluster {self.target.cluster} is {status}, not ACTIVE")
        return cluster

    def _denied(self, status: int, message: str) -> EksAccessDenied:
        principal = self._principal()
        cluster = self.target.cluster
        create = f"aws eks create-access-entry --cluster-name {cluster} --principal-arn {principal}"
        associate = (
            f"aws eks associate-access-policy --cluster-name {cluster} --principal-arn {principal} "
            "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy "
            f"--access-scope type=namespace,namespaces={self.namespace}"
        )
        if status == 401:
            return EksAccessDenied(
                f"the Kubernetes API of EKS cluster {cluster} answered 401 Unauthorized: the IAM "
                f"principal {principal} has no EKS access entry on it. Add one for the deploy role "
                f"(the eks_cluster Terraform module's access entry for it, or: {create} && "
                f"{associate})"
            )
        return EksAccessDenied(
            f"the Kubernetes API of EKS cluster {cluster} answered 403 Forbidden ({message}): the "
            f"access entry of {principal} lacks a policy for namespace {self.namespace}. "
            f"Associate one (the eks_cluster Terraform module's access entry, or: {associate})"
        )

    def _principal(self) -> str:
        """The caller as an access entry names it: an assumed role becomes its role's ARN."""
        try:
            arn = str(self.aws.client("sts").get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError):
            return "<the deploy role's ARN>"
        if ":assumed-role/" in arn:
            prefix, _, rest = arn.partition(":assumed-role/")
            role = rest.split("/")[0]
            return prefix.replace(":sts:", ":iam:") + f":role/{role}"
        return arn


def _container_patch(
    name: str, image: str, environment: dict[str, str], existing: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    patch: dict[str, Any] = {"name": name, "image": image}
    if environment:
        env = [dict(e) for e in existing or [] if e.get("name") not in environment]
        env.extend({"name": k, "value": v} for k, v in sorted(environment.items()))
        patch["env"] = env
    return patch


def _clean_template(template: dict[str, Any]) -> dict[str, Any]:
    """A ReplicaSet's pod template as the Deployment holds it: without pod-template-hash."""
    cleaned = copy.deepcopy(template)
    labels = cleaned.get("metadata", {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return cleaned


def _resource_path(document: dict[str, Any]) -> str:
    api_version, kind = document["apiVersion"], document["kind"]
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    plural = PLURALS.get(kind) or (kind.lower() + ("es" if kind.endswith("s") else "s"))
    if kind.endswith("y") and kind not in PLURALS:
        plural = kind.lower()[:-1] + "ies"
    name = document["metadata"]["name"]
    if kind in CLUSTER_SCOPED:
        return f"{base}/{plural}/{name}"
    return f"{base}/namespaces/{document['metadata']['namespace']}/{plural}/{name}"


def _status_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return warmup.snip(response.text) or response.reason
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return warmup.snip(response.text)
