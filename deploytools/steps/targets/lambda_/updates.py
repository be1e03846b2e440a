"""Changes to $LATEST: new code (an image ECR has, or a zip in the call or through S3) and the
configuration the target sets."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.config.model import LambdaTarget
from deploytools.errors import BadInput, DeployError
from deploytools.lib.ecr_image import ImageAbsent, ImageLookupFailed, stored_image
from deploytools.lib.image_reference import parse_image
from deploytools.lib.zip_selection import human_size
from deploytools.steps.targets.base import RefreshInputs, TargetFailed
from deploytools.steps.targets.lambda_.api import FunctionApi
from deploytools.steps.targets.lambda_.drift import configuration_update
from deploytools.steps.targets.lambda_zip import DIRECT_UPLOAD_LIMIT

PUSH_FIX = "push it first: deploytools build --push"


class ImageNotInEcr(DeployError):
    """The image is not in ECR; Lambda would reject it, so nothing was changed."""


def require_in_ecr(api: FunctionApi, image: str) -> None:
    try:
        stored_image(api.aws.client("ecr"), parse_image(image))
    except ImageAbsent as exc:
        raise ImageNotInEcr(
            f"{image} is not in ECR ({exc.code}); lambda {api.function} was not changed: {PUSH_FIX}"
        ) from exc
    except ImageLookupFailed as exc:
        raise TargetFailed(f"lambda {api.function}: {exc}") from exc
    except ClientError as exc:
        raise api.failed("ecr batch_get_image", exc) from exc


def update_zip(api: FunctionApi, zip_path: Path, code_sha256: str, bucket: str | None) -> None:
    size = zip_path.stat().st_size
    api.reporter.debug(f"{api.target_name}: {zip_path.name} is {human_size(size)} zipped")
    if size <= DIRECT_UPLOAD_LIMIT:
        api.retrying(
            "update_function_code", FunctionName=api.function, ZipFile=zip_path.read_bytes()
        )
        return
    if not bucket:
        raise BadInput(
            f"{zip_path} is {human_size(size)} zipped; Lambda takes at most "
            f"{human_size(DIRECT_UPLOAD_LIMIT)} in the API call: pass a code_bucket (an S3 "
            "bucket in the function's region) or exclude more files"
        )
    key = f"deploytools/{api.function}/{base64.b64decode(code_sha256).hex()}.zip"
    try:
        api.aws.client("s3").upload_file(str(zip_path), bucket, key)
    except (ClientError, BotoCoreError) as exc:
        raise TargetFailed(f"uploading {zip_path} to s3://{bucket}/{key}: {exc}") from exc
    api.retrying("update_function_code", FunctionName=api.function, S3Bucket=bucket, S3Key=key)


def update_configuration(
    api: FunctionApi, target: LambdaTarget, config: dict[str, Any], inputs: RefreshInputs
) -> dict[str, Any]:
    """Environment (and handler) changes, merged onto what Terraform set; the new config."""
    update = configuration_update(target, config, inputs)
    if not update:
        return config
    api.retrying("update_function_configuration", FunctionName=api.function, **update)
    return api.wait_updated("the new configuration")
