"""The EKS control plane in front of moto: every EKS call goes to moto, and in DescribeCluster
and CreateCluster answers `cluster.endpoint` becomes the Kubernetes double's URL for that
cluster and `cluster.certificateAuthority.data` the double's CA, so a client that follows
the endpoint (as deploytools and `aws eks update-kubeconfig` do) lands on the double."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

import requests

from deploytools.sandbox import loopback_http
from deploytools.sandbox.loopback_http import Answer, Request

EKS_CLUSTER_PATH = re.compile(r"^/clusters(/[^/]+)?/?$")


def forward(
    session: requests.Session,
    moto_url: str,
    request: Request,
    endpoint: Callable[[str], str],
    ca_pem: bytes | None,
) -> Answer:
    answer = loopback_http.forward(session, moto_url, request)
    path = request.path.split("?", 1)[0]
    if EKS_CLUSTER_PATH.match(path) and 200 <= answer.status < 300:
        body = _rewrite_cluster(answer.body, endpoint, ca_pem)
        return Answer(answer.status, answer.headers, body)
    return answer


def _rewrite_cluster(content: bytes, endpoint: Callable[[str], str], ca_pem: bytes | None) -> bytes:
    try:
        document = json.loads(content or b"{}")
    except ValueError:
        return content
    cluster = document.get("cluster") if isinstance(document, dict) else None
    if not isinstance(cluster, dict) or "name" not in cluster:
        return content
    cluster["endpoint"] = endpoint(str(cluster["name"]))
    if ca_pem:
        cluster["certificateAuthority"] = {"data": base64.b64encode(ca_pem).decode("ascii")}
    return json.dumps(document).encode()
