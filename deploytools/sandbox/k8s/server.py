"""The HTTP face of the Kubernetes API double; EKS control-plane calls go to `eks_proxy`.

One loopback server answers two kinds of request:

- `/k8s/<cluster>/api/...` and `/k8s/<cluster>/apis/...`: the Kubernetes API of that cluster
  (see `deploytools.sandbox.k8s` for exactly what is covered). A bearer token shaped like
  `aws eks get-token`'s is required (401 otherwise).
- anything else: the EKS control-plane API, forwarded to moto; in DescribeCluster and
  CreateCluster answers, `cluster.endpoint` becomes this double's URL for that cluster and
  `cluster.certificateAuthority.data` the double's CA, so a client that follows the endpoint
  from `describe_cluster` (as deploytools and `aws eks update-kubeconfig` do) lands here.

With TLS on, the Kubernetes API is also served over HTTPS with a certificate for 127.0.0.1
signed by a CA made at start-up; the endpoint handed out is then the HTTPS one.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from requests import Session as HttpSession

from deploytools.sandbox import containers, loopback_http
from deploytools.sandbox.k8s import eks_proxy, patch
from deploytools.sandbox.k8s.cluster import ApiError, Cluster, Resource
from deploytools.sandbox.k8s.kubelet import Workloads
from deploytools.sandbox.k8s.pki import Pki
from deploytools.sandbox.loopback_http import Answer, Request

TICK = 0.2  # seconds between two passes of the controller
TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (a format marker, not a secret)
CLUSTER_PATH = re.compile(r"^/k8s/(?P<cluster>[^/]+)(?P<rest>/.*)?$")
KINDS = {
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "services": "Service",
    "pods": "Pod",
    "configmaps": "ConfigMap",
    "namespaces": "Namespace",
}


class Access(StrEnum):
    ALLOW = "allow"
    UNAUTHORIZED = "unauthorized"  # the caller has no EKS access entry: 401
    FORBIDDEN = "forbidden"  # an access entry without the needed policy: 403


@dataclass
class KubeApi:
    """A running double: its URLs, its clusters' state, and how to stop it."""

    url: str  # http: Kubernetes API under /k8s/<cluster>, EKS proxy elsewhere
    tls_url: str | None
    ca_pem: bytes | None
    rollout_seconds: float
    workloads: Workloads | str = "no container engine was given to the Kubernetes double"
    probe_scale: float = 1.0
    moto_url: str | None = None
    access: Access = Access.ALLOW
    clusters: dict[str, Cluster] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, type
    errors: list[str] = field(default_factory=list)  # the controller's, newest last
    session: HttpSession = field(default_factory=HttpSession)
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def endpoint(self, cluster: str) -> str:
        return f"{self.tls_url or self.url}/k8s/{cluster}"

    @property
    def ca_data(self) -> str:
        """certificateAuthority.data as EKS gives it: the PEM, base64-encoded."""
        return base64.b64encode(self.ca_pem or b"").decode("ascii")

    def cluster(self, name: str) -> Cluster:
        with self._lock:
            if name not in self.clusters:
                self.clusters[name] = Cluster(
                    name,
                    rollout_seconds=self.rollout_seconds,
                    workloads=self.workloads,
                    probe_scale=self.probe_scale,
                )
            return self.clusters[name]

    def reconcile(self) -> None:
        """One pass of every cluster's controller and kubelet."""
        with self._lock:
            clusters = list(self.clusters.values())
        for cluster in clusters:
            cluster.reconcile()

    def stop(self) -> None:
        for stop in reversed(self._stops):
            stop()
        self._stops.clear()
        with self._lock:
            clusters = list(self.clusters.values())
        for cluster in clusters:
            cluster.shutdown()


def start(
    *,
    host: str = "127.0.0.1",
    moto_url: str | None = None,
    tls: bool = False,
    rollout_seconds: float = 0.5,
    workloads: Workloads | str | None = None,
    registry: str | None = None,
    probe_scale: float = 1.0,
) -> KubeApi:
    """Start the double on free loopback ports; `api.stop()` ends it and removes its pods.

    `workloads` runs the pods (default: the local Docker engine, pulling from `registry`); a
    string there is why nothing can run, and the rollouts are simulated.
    """
    if workloads is None:
        workloads = containers.connect(registry)
    pki = Pki.make() if tls or tls_available() else None
    if tls and pki is None:
        raise RuntimeError("TLS needs the cryptography package")
    api = KubeApi(
        url="",
        tls_url=None,
        ca_pem=pki.ca_pem if pki else None,
        rollout_seconds=rollout_seconds,
        workloads=workloads,
        probe_scale=probe_scale,
        moto_url=moto_url.rstrip("/") if moto_url else None,
    )
    api._stops.append(_controller(api))
    served = loopback_http.serve(
        lambda request: _route(api, request), _internal_error, name="k8s-double", host=host
    )
    api.url = served.url
    api._stops.append(served.stop)
    if tls and pki is not None:
        secure = loopback_http.serve(
            lambda request: _route(api, request),
            _internal_error,
            name="k8s-double-tls",
            host=host,
            tls=pki.context(),
        )
        api.tls_url = secure.url
        api._stops.append(secure.stop)
    return api


def _controller(api: KubeApi) -> Callable[[], None]:
    """The controller loop in a thread; the function that stops it."""
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            try:
                api.reconcile()
            except Exception as exc:  # a controller that dies would leave every rollout hanging
                api.errors.append(f"k8s controller: {exc!r}")
                del api.errors[:-20]
            stopping.wait(TICK)

    thread = threading.Thread(target=loop, name="k8s-controller", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=30)

    return stop


def tls_available() -> bool:
    """TLS (and a real CA for describe_cluster) needs the cryptography package."""
    return Pki.available()


def _route(api: KubeApi, request: Request) -> Answer:
    split = urlsplit(request.path)
    match = CLUSTER_PATH.match(split.path)
    try:
        if match:
            return _kubernetes(
                api, request, match["cluster"], match["rest"] or "/", parse_qs(split.query)
            )
        if not api.moto_url:
            raise ApiError(
                404, "NotFound", f"no route for {split.path} (no EKS backend configured)"
            )
        return eks_proxy.forward(api.session, api.moto_url, request, api.endpoint, api.ca_pem)
    except ApiError as exc:
        return _json(exc.code, exc.status())


def _internal_error(exc: Exception) -> Answer:
    """The double must answer, whatever went wrong inside it."""
    return _json(500, ApiError(500, "InternalError", f"k8s double: {exc!r}").status())


def _kubernetes(
    api: KubeApi, request: Request, name: str, path: str, query: dict[str, list[str]]
) -> Answer:
    method = request.method
    content_type = request.header("Content-Type").split(";")[0].strip()
    api.requests.append((method, path, content_type))
    _authenticate(api, request)
    cluster = api.cluster(name)
    if path in ("/version", "/version/"):
        return _json(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-deploytools-double"})
    resource, namespace, object_name = _parse_path(path)
    if api.access == Access.FORBIDDEN:
        group, plural = resource
        where = f' in the namespace "{namespace}"' if namespace else ""
        raise ApiError(
            403,
            "Forbidden",
            f'{plural}{"." + group if group else ""} "{object_name or ""}" is forbidden: User '
            f'"deploytools" cannot {_verb(method, object_name)} resource "{plural}" in '
            f'API group "{group}"{where}',
        )
    if method == "GET" and object_name:
        return _json(200, cluster.get(resource, namespace, object_name))
    if method == "GET":
        selector = (query.get("labelSelector") or [""])[0]
        items = cluster.select(resource, namespace, selector)
        kind = KINDS.get(resource[1], resource[1].rstrip("s").capitalize())
        return _json(
            200, {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {}, "items": items}
        )
    if method == "PATCH" and object_name:
        return _patch(cluster, resource, namespace, object_name, content_type, query, request.body)
    if method == "POST" and not object_name:
        document = _load_json(request.body)
        new_name = str(document.get("metadata", {}).get("name", ""))
        if cluster.find(resource, namespace, new_name) is not None:
            raise ApiError(409, "AlreadyExists", f'{resource[1]} "{new_name}" already exists')
        return _json(201, cluster.put(resource, namespace, new_name, document))
    if method == "DELETE" and object_name:
        cluster.get(resource, namespace, object_name)
        with cluster.lock:
            cluster.objects.pop((resource, namespace, object_name), None)
        return _json(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
    raise ApiError(405, "MethodNotAllowed", f"{method} {path} is not supported here")


def _patch(
    cluster: Cluster,
    resource: Resource,
    namespace: str,
    name: str,
    content_type: str,
    query: dict[str, list[str]],
    body: bytes,
) -> Answer:
    existing = cluster.find(resource, namespace, name)
    if content_type == "application/apply-patch+yaml":
        if not query.get("fieldManager"):
            raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io: fieldManager: Required")
        try:
            document = yaml.safe_load(body.decode("utf-8") or "{}")
        except yaml.YAMLError as exc:
            raise ApiError(400, "BadRequest", f"error decoding YAML: {exc}") from exc
        if not isinstance(document, dict) or document.get("metadata", {}).get("name") != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the URL")
        if existing is None:
            return _json(201, cluster.put(resource, namespace, name, document))
        existing.pop("status", None)
        # One field manager (deploytools) owns everything: apply ≈ a merge patch of it.
        merged = patch.merge_patch(existing, document)
        return _json(200, cluster.put(resource, namespace, name, merged))
    if existing is None:
        raise ApiError(404, "NotFound", f'{resource[1]} "{name}" not found')
    operations = _load_json(body)
    try:
        if content_type == "application/strategic-merge-patch+json":
            patched = patch.strategic_merge_patch(existing, operations)
        elif content_type == "application/merge-patch+json":
            patched = patch.merge_patch(existing, operations)
        elif content_type == "application/json-patch+json":
            patched = patch.json_patch(existing, operations)
        else:
            raise ApiError(
                415, "UnsupportedMediaType", f"the body of type {content_type!r} is not supported"
            )
    except patch.PatchError as exc:
        raise ApiError(422, "Invalid", str(exc)) from exc
    return _json(200, cluster.put(resource, namespace, name, patched))


def _authenticate(api: KubeApi, request: Request) -> None:
    header = request.header("Authorization")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not _valid_token(token) or api.access == Access.UNAUTHORIZED:
        raise ApiError(401, "Unauthorized", "Unauthorized")


def _json(status: int, document: dict[str, Any]) -> Answer:
    return Answer(status, {"Content-Type": "application/json"}, json.dumps(document).encode())


def _parse_path(path: str) -> tuple[Resource, str, str]:
    """(group, plural), namespace, name from a Kubernetes API path."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = ""
    if not rest or len(rest) > 2:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return (group, rest[0]), namespace, rest[1] if len(rest) == 2 else ""


def _valid_token(token: str) -> bool:
    """Shaped like `aws eks get-token`'s: a presigned GetCallerIdentity URL covering the
    cluster header. The signature itself is not checked: there is no STS to ask."""
    if not token.startswith(TOKEN_PREFIX):
        return False
    body = token[len(TOKEN_PREFIX) :]
    try:
        url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except ValueError:
        return False
    query = parse_qs(urlsplit(url).query)
    signed = (query.get("X-Amz-SignedHeaders") or [""])[0].split(";")
    return query.get("Action") == ["GetCallerIdentity"] and "x-k8s-aws-id" in signed


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"error decoding JSON: {exc}") from exc


def _verb(method: str, name: str) -> str:
    verbs = {
        "GET": "get" if name else "list",
        "PATCH": "patch",
        "POST": "create",
        "DELETE": "delete",
    }
    return verbs.get(method, method.lower())
