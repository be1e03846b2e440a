"""The environment Terraform runs with: region, endpoints, credentials and TF_VAR_* inputs."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping

from deploytools.aws import SERVICE_IDS, AwsContext

IMAGES_VAR = "TF_VAR_deploytools_images"
ENV_VAR = "TF_VAR_deploytools_env"


def _tf_var_value(value: object) -> str:
    # Terraform takes a string variable's TF_VAR_* as it is and parses any other type as an
    # HCL expression; JSON is valid HCL for numbers, bools, lists/tuples and maps/objects.
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def endpoint_env(aws: AwsContext) -> dict[str, str]:
    """AWS_ENDPOINT_URL[_<SERVICE>] for the AWS provider (5.x reads the SDK's variables)."""
    generic = os.environ.get("AWS_ENDPOINT_URL")
    if not generic and aws.endpoints:
        # The sandbox names the services it serves; Terraform also calls others (STS, IAM,
        # CloudWatch Logs...). Send those to the endpoint most services share rather than
        # to real AWS with the sandbox's fake keys.
        generic = Counter(aws.endpoints.values()).most_common(1)[0][0]
    env = {"AWS_ENDPOINT_URL": generic} if generic else {}
    for service in sorted(set(SERVICE_IDS) | set(aws.endpoints)):
        url = aws.endpoint_for(service)
        if url and url != generic:
            service_id = SERVICE_IDS.get(service, service.upper().replace("-", "_"))
            env[f"AWS_ENDPOINT_URL_{service_id}"] = url
    return env


def terraform_env(
    aws: AwsContext,
    *,
    env: str,
    images: Mapping[str, str],
    variables: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """Everything Terraform needs to see: AWS_*, TF_VAR_deploytools_*, config `terraform.vars`.

    `images` maps image name -> `repository@sha256:...`; `variables` are the config's
    `terraform.vars`, any JSON value (never secrets: they reach Terraform as plain TF_VAR_*).
    """
    result = {
        "AWS_REGION": aws.region,
        "AWS_DEFAULT_REGION": aws.region,
        **endpoint_env(aws),
    }
    if aws.profile:
        result["AWS_PROFILE"] = aws.profile
    if aws.credentials:
        result["AWS_ACCESS_KEY_ID"], result["AWS_SECRET_ACCESS_KEY"] = aws.credentials
    for name, value in (variables or {}).items():
        result[f"TF_VAR_{name}"] = _tf_var_value(value)
    result[ENV_VAR] = env
    result[IMAGES_VAR] = json.dumps(dict(sorted(images.items())), separators=(",", ":"))
    return result
