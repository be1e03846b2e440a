"""Images: content-addressed builds for linux/amd64 with provenance off, pushed to ECR, verified.

Public API (what the pipeline and the `build`/`matrix` commands call)::

    plan_images(aws: AwsContext, env: EnvConfig, *, root: Path,
                names: Sequence[str] | None = None) -> list[ImagePlan]
        Read-only: the content tag of each image and whether ECR already has it.

    build_images(aws: AwsContext | None, env: EnvConfig, request: BuildImages, *,
                 reporter: Reporter, builder: Builder | None = None) -> list[ImageResult]
        For each image: compute the content tag; if ECR has it, skip build and push; else
        build (buildx, or the Docker SDK's legacy builder), push with retries, and read the
        manifest back from ECR. Then verify it (images of Lambda targets must be one
        linux/amd64 manifest) and point `request.commit` and `request.extra_tags` at it.
        Targets deploy `ImageResult.uri` (repository_uri@sha256:…).
        Independent images run at once; builds are bounded by min(cores, the engine's CPUs,
        request.max_builds or DEPLOYTOOLS_MAX_BUILDS). A failure cancels no other image.
        request.steps=True: one reporter step per image (the build command); else one line
        per image inside the caller's step (GitHub Actions groups do not nest).
        request.push=False: a local build only, no AWS (aws may be None), skipped when the
        engine already has <repository>:<content tag>.

        request.registry_override: "host:port" of a plain-HTTP registry that stands in for
        ECR's data plane (the sandbox's `registry`). Images go there; ECR's control plane
        (moto in the sandbox) still holds repositories and gets each manifest through
        put_image with its real digest, so a lookup by digest works.

    ImagesPort / EcrImages (steps.images.port): the pipeline's view of this step.

    content tag only:  image_tag(root, image) -> (BuildContext, "ct-<24 hex>")
    ImagePlan(name, repository, repository_uri, tag, platform, in_ecr, digest,
              create_repository).action / .uri / .as_dict()
    ImageResult(name, repository, repository_uri, tag, digest, uri, built, pushed, tags,
                platform).as_dict()

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
