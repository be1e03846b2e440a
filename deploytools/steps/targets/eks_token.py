"""A bearer token for an EKS cluster's Kubernetes API, built as `aws eks get-token` builds it.

The token is a presigned STS GetCallerIdentity URL whose signature covers the header
`x-k8s-aws-id: <cluster name>` (so it is only good for that cluster), valid 60 seconds,
base64url-encoded without padding and prefixed `k8s-aws-v1.`. The cluster's authenticator
calls that URL to learn who the caller is; no secret leaves this process but the signature.
"""

from __future__ import annotations

import base64
from typing import Any

from deploytools.aws import AwsContext

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
