"""Images: content-addressed builds for linux/amd64 with provenance off, pushed to ECR, verified.

Public API (what the pipeline and the `build`/`matrix` commands call)::

    plan_images(aws: AwsContext, env: EnvConfig, *, root: Path,
                names: Sequence[str] | None = None,
                registry_override: str | None = None) -> list[ImagePlan]
        Read-only: the content tag of each image and whether ECR already has it.

    build_images(aws: AwsContext | None, env: EnvConfig, *, root: Path, reporter: Reporter,
                 names: Sequence[str] | None = None, push: bool = True,
                 registry_override: str | None = None, extra_tag: str | None = None,
                 extra_tags: Sequence[str] = (), git_tag: bool = True, steps: bool = False,
                 builder: Builder | None = None, backoff: Backoff | None = None)
                 -> list[ImageResult]
        For each image: compute the content tag; if ECR has it, skip build and push; else
        build (buildx, or the Docker SDK's legacy builder), push with retries, and read the
        manifest back from ECR. Then verify it (images of Lambda targets must be one
        linux/amd64 manifest) and point the git SHA (when tracked files are clean) and the
        extra tags at it. Targets deploy `ImageResult.uri` (repository_uri@sha256:…).
        steps=True: one reporter step per image (the build command); else one line per
        image inside the caller's step (GitHub Actions groups do not nest).
        push=False: a local build only, no AWS (aws may be None), skipped when the engine
        already has <repository>:<content tag>.

        registry_override: "host:port" of a plain-HTTP registry that stands in for ECR's data
        plane (the sandbox passes its state's `registry`). Images go there; ECR's control
        plane (moto in the sandbox) still holds repositories and gets each manifest through
        put_image with its real digest, so describe_images by digest works.

    content tag only:  image_tag(root, image) -> (BuildContext, "ct-<24 hex>")
    ImagePlan(name, repository, repository_uri, tag, platform, in_ecr, digest,
              create_repository).action / .uri / .as_dict()
    ImageResult(name, repository, repository_uri, tag, digest, uri, built, pushed, tags,
                platform).as_dict()

Errors (all DeployError): BuildFailed, PushFailed, ImageRejected, DockerUnavailable,
ImageError; BadInput: RepositoryMissing, UnknownImage, BadIgnorePattern.
"""

from deploytools.lib.dockerignore import BadIgnorePattern
from deploytools.steps.images.builder import Builder, BuildRequest
from deploytools.steps.images.errors import (
    BuildFailed,
    DockerUnavailable,
    ImageError,
    ImageRejected,
    PushFailed,
    RepositoryMissing,
    UnknownImage,
)
from deploytools.steps.images.retry import Backoff
from deploytools.steps.images.step import (
    ImagePlan,
    ImageResult,
    build_images,
    image_names,
    image_tag,
    lambda_images,
    plan_images,
)

__all__ = [
    "Backoff",
    "BadIgnorePattern",
    "BuildFailed",
    "BuildRequest",
    "Builder",
    "DockerUnavailable",
    "ImageError",
    "ImagePlan",
    "ImageRejected",
    "ImageResult",
    "PushFailed",
    "RepositoryMissing",
    "UnknownImage",
    "build_images",
    "image_names",
    "image_tag",
    "lambda_images",
    "plan_images",
]
