"""The target's Kubernetes manifests (k8s/*.yaml): every document loaded and checked, the
namespace filled in, and our Deployment's container set to the image and environment."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploytools.errors import BadInput
from deploytools.steps.targets.eks.k8s_client import CLUSTER_SCOPED


@dataclass(frozen=True)
class TargetDeployment:
    """The Deployment an EKS target deploys, as deploytools.yml names it."""

    target: str  # the target's name under targets:
    deployment: str
    namespace: str
    container: str | None
    where: str  # how messages name it: eks <cluster>/<namespace>/<deployment>


def load_manifests(
    source: Path, ours: TargetDeployment, image: str, environment: dict[str, str]
) -> list[dict[str, Any]]:
    """Every YAML document under `source`, our Deployment's container set to `image`."""
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
                documents.append(_prepare(file, item, ours))
    mine = [
        d
        for d in documents
        if d["kind"] == "Deployment" and d["metadata"]["name"] == ours.deployment
    ]
    if not mine:
        raise BadInput(
            f"{source}: no Deployment named {ours.deployment} "
            f"(targets.{ours.target}.deployment); found: "
            + (", ".join(f"{d['kind']}/{d['metadata']['name']}" for d in documents) or "nothing")
        )
    for document in mine:
        container = pick_container(document, ours)
        container.update(
            container_patch(container["name"], image, environment, container.get("env"))
        )
    # Namespaces first, so the rest has somewhere to go; otherwise the files' order.
    return sorted(documents, key=lambda d: d["kind"] != "Namespace")


def pick_container(deployment: dict[str, Any], ours: TargetDeployment) -> dict[str, Any]:
    """The container that runs the image: the configured one, else the only one."""
    containers: list[dict[str, Any]] = (
        deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    )
    names = [c.get("name") for c in containers]
    wanted = ours.container
    if wanted:
        for container in containers:
            if container.get("name") == wanted:
                return container
        raise BadInput(
            f"{ours.where}: no container {wanted} (targets.{ours.target}.container); "
            f"containers: {', '.join(map(str, names)) or 'none'}"
        )
    if len(containers) != 1:
        raise BadInput(
            f"{ours.where}: {len(containers)} containers ({', '.join(map(str, names))}): "
            f"set targets.{ours.target}.container to the one that runs the image"
        )
    return containers[0]


def container_patch(
    name: str, image: str, environment: dict[str, str], existing: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A container's image and env, the target's environment replacing same-named entries."""
    patch: dict[str, Any] = {"name": name, "image": image}
    if environment:
        env = [dict(e) for e in existing or [] if e.get("name") not in environment]
        env.extend({"name": k, "value": v} for k, v in sorted(environment.items()))
        patch["env"] = env
    return patch


def _prepare(file: Path, document: Any, ours: TargetDeployment) -> dict[str, Any]:
    if not isinstance(document, dict) or not all(
        k in document for k in ("apiVersion", "kind", "metadata")
    ):
        raise BadInput(f"{file}: every document needs apiVersion, kind and metadata.name")
    document = copy.deepcopy(document)
    meta = document["metadata"]
    if not meta.get("name"):
        raise BadInput(f"{file}: a {document['kind']} without metadata.name")
    if document["kind"] not in CLUSTER_SCOPED:
        meta.setdefault("namespace", ours.namespace)
        if (
            document["kind"] == "Deployment"
            and meta["name"] == ours.deployment
            and meta["namespace"] != ours.namespace
        ):
            raise BadInput(
                f"{file}: Deployment {meta['name']} is in namespace {meta['namespace']}, "
                f"but targets.{ours.target}.namespace is {ours.namespace}"
            )
    return dict(document)
