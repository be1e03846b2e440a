"""The HTTP face of the Kubernetes API double, plus the EKS proxy that points clusters at it.

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
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import yaml

from deploytools.sandbox.k8s import patch
from deploytools.sandbox.k8s.cluster import ApiError, Cluster, Resource

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (a format marker, not a secret)
CLUSTER_PATH = re.compile(r"^/k8s/(?P<cluster>[^/]+)(?P<rest>/.*)?$")
EKS_CLUSTER_PATH = re.compile(r"^/clusters(/[^/]+)?/?$")
HOP_HEADERS = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "content-encoding",
    "keep-alive",
}
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
    moto_url: str | None = None
    access: Access = Access.ALLOW
    clusters: dict[str, Cluster] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, type
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
                self.clusters[name] = Cluster(name, rollout_seconds=self.rollout_seconds)
            return self.clusters[name]

    def stop(self) -> None:
        for stop in reversed(self._stops):
            stop()
        self._stops.clear()


def start(
    *,
    host: str = "127.0.0.1",
    moto_url: str | None = None,
    tls: bool = False,
    rollout_seconds: float = 0.5,
) -> KubeApi:
    """Start the double on free loopback ports; `api.stop()` ends it."""
    pki = _Pki.make() if tls or tls_available() else None
    http_server = ThreadingHTTPServer((host, 0), _Handler)
    api = KubeApi(
        url=f"http://{host}:{http_server.server_address[1]}",
        tls_url=None,
        ca_pem=pki.ca_pem if pki else None,
        rollout_seconds=rollout_seconds,
        moto_url=moto_url.rstrip("/") if moto_url else None,
    )
    servers = [http_server]
    if tls:
        if pki is None:
            raise RuntimeError("TLS needs the cryptography package")
        tls_server = ThreadingHTTPServer((host, 0), _Handler)
        tls_server.socket = pki.context().wrap_socket(tls_server.socket, server_side=True)
        api.tls_url = f"https://{host}:{tls_server.server_address[1]}"
        servers.append(tls_server)
    for server in servers:
        server.daemon_threads = True
        server.api = api  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="k8s-double", daemon=True
        )
        thread.start()

        def stop(server: ThreadingHTTPServer = server, thread: threading.Thread = thread) -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        api._stops.append(stop)
    return api


def tls_available() -> bool:
    """TLS (and a real CA for describe_cluster) needs the cryptography package."""
    return _Pki.available()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def api(self) -> KubeApi:
        api: KubeApi = self.server.api  # type: ignore[attr-defined]
        return api

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the sandbox log would drown in polling lines

    def do_GET(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        body = self._body()
        match = CLUSTER_PATH.match(split.path)
        try:
            if match:
                self._kubernetes(
                    match["cluster"], match["rest"] or "/", parse_qs(split.query), body
                )
            else:
                self._proxy(split.path, body)
        except ApiError as exc:
            self._json(exc.code, exc.status())
        except Exception as exc:  # the double must answer, whatever went wrong inside it
            self._json(500, ApiError(500, "InternalError", f"k8s double: {exc!r}").status())

    # --- Kubernetes -----------------------------------------------------------------------

    def _kubernetes(self, name: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        self.api.requests.append((self.command, path, content_type))
        self._authenticate()
        cluster = self.api.cluster(name)
        if path in ("/version", "/version/"):
            self._json(
                200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-deploytools-double"}
            )
            return
        resource, namespace, object_name = _parse_path(path)
        if self.api.access == Access.FORBIDDEN:
            group, plural = resource
            where = f' in the namespace "{namespace}"' if namespace else ""
            raise ApiError(
                403,
                "Forbidden",
                f'{plural}{"." + group if group else ""} "{object_name or ""}" is forbidden: User '
                f'"deploytools" cannot {_verb(self.command, object_name)} resource "{plural}" in '
                f'API group "{group}"{where}',
            )
        if self.command == "GET" and object_name:
            self._json(200, cluster.get(resource, namespace, object_name))
        elif self.command == "GET":
            selector = (query.get("labelSelector") or [""])[0]
            items = cluster.select(resource, namespace, selector)
            kind = KINDS.get(resource[1], resource[1].rstrip("s").capitalize())
            self._json(
                200,
                {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {}, "items": items},
            )
        elif self.command == "PATCH" and object_name:
            self._patch(cluster, resource, namespace, object_name, content_type, query, body)
        elif self.command == "POST" and not object_name:
            document = _load_json(body)
            new_name = str(document.get("metadata", {}).get("name", ""))
            if cluster.find(resource, namespace, new_name) is not None:
                raise ApiError(409, "AlreadyExists", f'{resource[1]} "{new_name}" already exists')
            self._json(201, cluster.put(resource, namespace, new_name, document))
        elif self.command == "DELETE" and object_name:
            cluster.get(resource, namespace, object_name)
            with cluster.lock:
                cluster.objects.pop((resource, namespace, object_name), None)
            self._json(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
        else:
            raise ApiError(405, "MethodNotAllowed", f"{self.command} {path} is not supported here")

    def _patch(
        self,
        cluster: Cluster,
        resource: Resource,
        namespace: str,
        name: str,
        content_type: str,
        query: dict[str, list[str]],
        body: bytes,
    ) -> None:
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
                self._json(201, cluster.put(resource, namespace, name, document))
                return
            existing.pop("status", None)
            # One field manager (deploytools) owns everything: apply ≈ a merge patch of it.
            merged = patch.merge_patch(existing, document)
            self._json(200, cluster.put(resource, namespace, name, merged))
            return
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
                    415,
                    "UnsupportedMediaType",
                    f"the body of type {content_type!r} is not supported",
                )
        except patch.PatchError as exc:
            raise ApiError(422, "Invalid", str(exc)) from exc
        self._json(200, cluster.put(resource, namespace, name, patched))

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization") or ""
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not _valid_token(token) or self.api.access == Access.UNAUTHORIZED:
            raise ApiError(401, "Unauthorized", "Unauthorized")

    # --- EKS proxy ------------------------------------------------------------------------

    def _proxy(self, path: str, body: bytes) -> None:
        if not self.api.moto_url:
            raise ApiError(404, "NotFound", f"no route for {path} (no EKS backend configured)")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        answer = requests.request(
            self.command,
            self.api.moto_url + self.path,
            headers=headers,
            data=body or None,
            timeout=60,
            allow_redirects=False,
        )
        content = answer.content
        if EKS_CLUSTER_PATH.match(path) and answer.ok:
            content = self._rewrite_cluster(content)
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def _rewrite_cluster(self, content: bytes) -> bytes:
        try:
            document = json.loads(content or b"{}")
        except ValueError:
            return content
        cluster = document.get("cluster") if isinstance(document, dict) else None
        if not isinstance(cluster, dict) or "name" not in cluster:
            return content
        cluster["endpoint"] = self.api.endpoint(str(cluster["name"]))
        if self.api.ca_pem:
            cluster["certificateAuthority"] = {"data": self.api.ca_data}
        return json.dumps(document).encode()

    # --- plumbing -------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


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


@dataclass(frozen=True)
class _Pki:
    """A CA and a server certificate for 127.0.0.1, made at start-up, never written to the repo."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @staticmethod
    def available() -> bool:
        try:
            import cryptography  # noqa: F401
        except ImportError:
            return False
        return True

    @classmethod
    def make(cls) -> _Pki:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploytools-sandbox-ca")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        return cls(
            ca_pem=ca.public_bytes(serialization.Encoding.PEM),
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def context(self) -> Any:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="deploytools-k8s-") as folder:
            cert, key = Path(folder, "server.pem"), Path(folder, "server.key")
            cert.write_bytes(self.cert_pem + self.ca_pem)
            key.write_bytes(self.key_pem)
            key.chmod(0o600)
            context.load_cert_chain(cert, key)  # read now; the files go with the folder
        return context
