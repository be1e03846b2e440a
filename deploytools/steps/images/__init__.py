"""Images: content-addressed builds for linux/amd64 with provenance off, pushed to ECR, verified.

`plan_images` is read-only: each image's content tag and whether ECR already has it.

`build_images`, for each image: compute the content tag; if ECR has it, skip build and push;
else build (buildx, or the Docker SDK's legacy builder), push with retries, and read the
manifest back from ECR. Then verify it (images of Lambda targets must be one linux/amd64
manifest) and point the request's commit and extra tags at it. Targets deploy
`ImageResult.uri` (repository_uri@sha256:…). Independent images run at once; builds are bounded
by min(cores, the engine's CPUs, max_builds or DEPLOYTOOLS_MAX_BUILDS), and a failure cancels
no other image. With `steps`, one reporter step per image (the build command); else one line
per image inside the caller's step (GitHub Actions groups do not nest). Without `push`, a
local build only, no AWS, skipped when the engine already has <repository>:<content tag>.

`registry_override` ("host:port") names a plain-HTTP registry standing in for ECR's data plane
(the sandbox's `registry`). Images go there; ECR's control plane (moto in the sandbox) still
holds repositories and gets each manifest through put_image with its real digest, so a lookup
by digest works.

Modules: model (the frozen values), plan (names, repositories, content tags), build (the
step), publish (the ECR path), session (what one run's images share), port (the pipeline's
view of the step).

Errors (all DeployError): BuildFailed, PushFailed, ImageRejected, DockerUnavailable,
ImageError, TagTaken (another run pushed the content tag as another image), ImagesFailed
(several images failed: one line each); BadInput: RepositoryMissing, UnknownImage, BadIgnorePattern.
"""

from deploytools.lib.dockerignore import BadIgnorePattern
from deploytools.lib.retry import Backoff
from deploytools.steps.images.build import build_images
from deploytools.steps.images.builder import Builder, BuildRequest
from deploytools.steps.images.errors import (
    BuildFailed,
    DockerUnavailable,
    ImageError,
    ImageRejected,
    ImagesFailed,
    PushFailed,
    RepositoryMissing,
    TagTaken,
    UnknownImage,
)
from deploytools.steps.images.model import BuildImages, ImagePlan, ImageResult
from deploytools.steps.images.plan import image_names, image_tag, lambda_images, plan_images

__all__ = [
    "Backoff",
    "BadIgnorePattern",
    "BuildFailed",
    "BuildImages",
    "BuildRequest",
    "Builder",
    "DockerUnavailable",
    "ImageError",
    "ImagePlan",
    "ImageRejected",
    "ImageResult",
    "ImagesFailed",
    "PushFailed",
    "RepositoryMissing",
    "TagTaken",
    "UnknownImage",
    "build_images",
    "image_names",
    "image_tag",
    "lambda_images",
    "plan_images",
]
