"""A Zip function's package, taken as Lambda takes it: from the request, or read from S3.

CreateFunction and UpdateFunctionCode carry the package inline (`ZipFile`) or name an S3
object (`S3Bucket`, `S3Key`, `S3ObjectVersion`); Lambda copies the object when the call is
made, as the caller, and refuses the call when it cannot. The sandbox reads it from moto's S3
with the caller's access key (moto picks the account from it; it checks no signature).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class PackageUnavailable(Exception):
    """The package cannot be read; the message is Lambda's own (InvalidParameterValue)."""


def package_of(
    code: Mapping[str, Any], *, moto_url: str, headers: Mapping[str, str]
) -> bytes | None:
    """The zip a Code document names, or None when it names none (an image function)."""
    if code.get("ZipFile"):
        return base64.b64decode(code["ZipFile"])
    bucket, key = code.get("S3Bucket"), code.get("S3Key")
    if not (bucket and key):
        return None
    request = {"Bucket": str(bucket), "Key": str(key)}
    if code.get("S3ObjectVersion"):
        request["VersionId"] = str(code["S3ObjectVersion"])
    access_key, region = _caller(headers)
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="sandbox",  # noqa: S106 (moto checks no signature)
        config=Config(
            retries={"mode": "standard", "max_attempts": 3}, s3={"addressing_style": "path"}
        ),
    )
    try:
        data: bytes = client.get_object(**request)["Body"].read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PackageUnavailable(
            "Error occurred while GetObject. "
            f"S3 Error Code: {error.get('Code', 'Unknown')}. "
            f"S3 Error Message: {error.get('Message', str(exc))}"
        ) from exc
    except BotoCoreError as exc:
        raise PackageUnavailable(f"Error occurred while GetObject: {exc}") from exc
    return data


def _caller(headers: Mapping[str, str]) -> tuple[str, str]:
    """(access key id, region) of the request's SigV4 `Credential=AKID/date/region/...`."""
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    _, _, credential = authorization.partition("Credential=")
    parts = credential.split(",", 1)[0].split("/")
    access_key = parts[0] if parts[0] else "testing"
    region = parts[2] if len(parts) > 2 and parts[2] else "us-east-1"
    return access_key, region
