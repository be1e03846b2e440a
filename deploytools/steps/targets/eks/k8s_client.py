"""The minimal Kubernetes REST client: the handful of API calls a deploy makes, over plain
HTTPS with a bearer token renewed before EKS stops accepting it, and the API path of a
manifest document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from deploytools.errors import DeployError
from deploytools.lib.http_probe import snip
from deploytools.steps.targets.base import TargetFailed

if TYPE_CHECKING:  # imported by a client that is made: only deploys with EKS targets pay
    import requests

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


class KubeNotFound(TargetFailed):
    """The Kubernetes API answered 404."""


class KubeClient:
    """The handful of Kubernetes API calls deploytools makes, over plain HTTPS."""

    def __init__(
        self,
        *,
        cluster: str,
        endpoint: str,
        verify: str | bool,
        token: Callable[[], str],
        denied: Callable[[int, str], DeployError],
        clock: Callable[[], float],
    ) -> None:
        import requests

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
        import requests

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


def resource_path(document: dict[str, Any]) -> str:
    """The API path of a manifest document (namespace already set for namespaced kinds)."""
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
        return snip(response.text) or response.reason
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return snip(response.text)
