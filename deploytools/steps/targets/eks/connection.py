"""The connection to an EKS cluster's Kubernetes API: its endpoint and CA from
describe_cluster, and a bearer token built as `aws eks get-token` builds it.

The token is a presigned STS GetCallerIdentity URL whose signature covers the header
`x-k8s-aws-id: <cluster name>` (so it is only good for that cluster), valid 60 seconds,
base64url-encoded without padding and prefixed `k8s-aws-v1.`. The cluster's authenticator
calls that URL to learn who the caller is; no secret leaves this process but the signature.
The role deploytools runs as needs an EKS access entry on the cluster; a refusal names the
commands that add one.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.errors import DeployError
from deploytools.steps.targets.base import TargetFailed
from deploytools.steps.targets.eks.k8s_client import KubeClient, KubeNotFound

PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
EXPIRES = 60  # seconds; what the CLI uses (the token itself is accepted for 15 minutes)


def get_token(aws: AwsContext, cluster: str) -> str:
    url = presigned_url(aws, cluster)
    encoded = base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")
    return PREFIX + encoded


def presigned_url(aws: AwsContext, cluster: str) -> str:
    sts = _sts_client(aws)
    return str(
        sts.generate_presigned_url(
            "get_caller_identity",
            Params={CLUSTER_HEADER: cluster},
            ExpiresIn=EXPIRES,
            HttpMethod="GET",
        )
    )


def decode(token: str) -> str:
    """The presigned URL inside a token (for tests and the sandbox's double)."""
    if not token.startswith(PREFIX):
        raise ValueError(f"not an EKS token: it does not start with {PREFIX}")
    body = token[len(PREFIX) :]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")


def _sts_client(aws: AwsContext) -> Any:
    # A client of its own: the handlers below must not ride along on the shared STS client.
    sts = aws.session().client("sts", endpoint_url=aws.endpoint_for("sts"), config=aws.boto_config)
    events = sts.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _take_cluster_param)
    events.register("before-sign.sts.GetCallerIdentity", _add_cluster_header)
    return sts


def _take_cluster_param(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # GetCallerIdentity takes no parameters: move ours into the request context before
    # validation, then into a header just before signing, so the signature covers it.
    if CLUSTER_HEADER in params:
        context[CLUSTER_HEADER] = params.pop(CLUSTER_HEADER)


def _add_cluster_header(request: Any, **_: Any) -> None:
    if CLUSTER_HEADER in request.context:
        request.headers[CLUSTER_HEADER] = request.context[CLUSTER_HEADER]


class EksAccessDenied(DeployError):
    """The cluster's Kubernetes API refused deploytools' IAM principal (401/403)."""


@dataclass(frozen=True)
class Cluster:
    """Which cluster to reach, and for which namespace access is needed."""

    aws: AwsContext
    name: str
    namespace: str
    clock: Callable[[], float]


@contextmanager
def connect(cluster: Cluster) -> Iterator[KubeClient]:
    """A client for the cluster's Kubernetes API, trusting its CA (a temporary file)."""
    described = describe_cluster(cluster.aws, cluster.name)
    endpoint = str(described.get("endpoint") or "")
    if not endpoint:
        raise TargetFailed(f"EKS cluster {cluster.name} reports no endpoint yet")
    ca_file: str | None = None
    verify: str | bool = True
    if endpoint.startswith("https://"):
        ca_data = (described.get("certificateAuthority") or {}).get("data")
        if ca_data:
            with tempfile.NamedTemporaryFile(
                "wb", prefix="deploytools-eks-", suffix=".pem", delete=False
            ) as handle:
                handle.write(base64.b64decode(ca_data))
                ca_file = handle.name
            verify = ca_file
    kube = KubeClient(
        cluster=cluster.name,
        endpoint=endpoint,
        verify=verify,
        token=lambda: get_token(cluster.aws, cluster.name),
        denied=lambda status, message: access_denied(cluster, status, message),
        clock=cluster.clock,
    )
    try:
        yield kube
    finally:
        kube.close()
        if ca_file:
            os.unlink(ca_file)


def describe_cluster(aws: AwsContext, name: str) -> dict[str, Any]:
    try:
        cluster: dict[str, Any] = aws.client("eks").describe_cluster(name=name)["cluster"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise KubeNotFound(f"EKS cluster {name} does not exist (Terraform creates it)") from exc
        raise TargetFailed(f"eks describe_cluster {name}: {exc}") from exc
    status = cluster.get("status", "ACTIVE")
    if status not in ("ACTIVE", "UPDATING"):
        raise TargetFailed(f"EKS cluster {name} is {status}, not ACTIVE")
    return cluster


def access_denied(cluster: Cluster, status: int, message: str) -> EksAccessDenied:
    """A 401/403 explained: which principal lacks which access entry, and how to add it."""
    principal = principal_arn(cluster.aws)
    name, namespace = cluster.name, cluster.namespace
    create = f"aws eks create-access-entry --cluster-name {name} --principal-arn {principal}"
    associate = (
        f"aws eks associate-access-policy --cluster-name {name} --principal-arn {principal} "
        "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy "
        f"--access-scope type=namespace,namespaces={namespace}"
    )
    if status == 401:
        return EksAccessDenied(
            f"the Kubernetes API of EKS cluster {name} answered 401 Unauthorized: the IAM "
            f"principal {principal} has no EKS access entry on it. Add one for the deploy role "
            f"(the eks_cluster Terraform module's access entry for it, or: {create} && "
            f"{associate})"
        )
    return EksAccessDenied(
        f"the Kubernetes API of EKS cluster {name} answered 403 Forbidden ({message}): the "
        f"access entry of {principal} lacks a policy for namespace {namespace}. "
        f"Associate one (the eks_cluster Terraform module's access entry, or: {associate})"
    )


def principal_arn(aws: AwsContext) -> str:
    """The caller as an access entry names it: an assumed role becomes its role's ARN."""
    try:
        arn = str(aws.client("sts").get_caller_identity()["Arn"])
    except (ClientError, BotoCoreError):
        return "<the deploy role's ARN>"
    if ":assumed-role/" in arn:
        prefix, _, rest = arn.partition(":assumed-role/")
        role = rest.split("/")[0]
        return prefix.replace(":sts:", ":iam:") + f":role/{role}"
    return arn
