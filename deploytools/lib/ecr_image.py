"""Looking an image up in ECR by tag or digest: its digest, manifest and media type.

The client is the caller's (built by the AWS context with its retry mode and endpoint); this
module only names the answer, so the image step and the Lambda target read ECR the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from deploytools.errors import DeployError
from deploytools.lib.aws_errors import error_code
from deploytools.lib.image_reference import ImageRef

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPTED_MEDIA_TYPES = (OCI_INDEX, DOCKER_LIST, DOCKER_V2, OCI_MANIFEST)

# batch_get_image reports a missing image as a failure of that id, not as an exception.
_ABSENT = frozenset({"ImageNotFound", "ImageTagDoesNotMatchDigest"})


@dataclass(frozen=True)
class StoredImage:
    repository: str
    tag: str | None  # the tag it was looked up by, None when by digest
    digest: str  # sha256:… of the manifest
    manifest: str
    media_type: str


class ImageAbsent(DeployError):
    """ECR has no such repository, or no such image in it."""

    def __init__(self, message: str, *, code: str) -> None:
        self.code = code  # RepositoryNotFoundException, ImageNotFound, …
        super().__init__(message)


class ImageLookupFailed(DeployError):
    """ECR answered the lookup with a failure other than 'not there'."""


def stored_image(client: Any, ref: ImageRef) -> StoredImage:
    """The image `ref` names (its registry's account when that is an ECR host).

    Raises ImageAbsent, ImageLookupFailed, or the client's own errors for anything else.
    """
    request: dict[str, Any] = {
        "repositoryName": ref.repository,
        "imageIds": [ref.image_id],
        "acceptedMediaTypes": list(ACCEPTED_MEDIA_TYPES),
    }
    if ref.registry_id:
        request["registryId"] = ref.registry_id
    where = f"{ref.repository}@{ref.digest}" if ref.digest else f"{ref.repository}:{ref.tag}"
    try:
        found = client.batch_get_image(**request)
    except ClientError as exc:
        if error_code(exc) != "RepositoryNotFoundException":
            raise
        raise ImageAbsent(f"ecr: no repository {ref.repository}", code=error_code(exc)) from exc
    for failure in found.get("failures", []):
        code = str(failure.get("failureCode"))
        if code in _ABSENT:
            raise ImageAbsent(f"ecr: no image {where}", code=code)
        raise ImageLookupFailed(
            f"ecr batch_get_image {where}: {code}: {failure.get('failureReason')}"
        )
    images = found.get("images", [])
    if not images:
        raise ImageAbsent(f"ecr: no image {where}", code="ImageNotFound")
    image = images[0]
    manifest = str(image["imageManifest"])
    media_type = image.get("imageManifestMediaType") or _declared_type(manifest)
    digest = str(image["imageId"]["imageDigest"])
    return StoredImage(ref.repository, ref.tag, digest, manifest, media_type)


def _declared_type(manifest: str) -> str:
    try:
        return str(json.loads(manifest).get("mediaType", ""))
    except ValueError:
        return ""
