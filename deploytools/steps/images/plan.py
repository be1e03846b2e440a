"""What each image is before anything is built: its repository, its content tag, and whether
ECR already has it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.config.model import Image
from deploytools.errors import BadInput
from deploytools.lib.build_context import BuildContext, load_context
from deploytools.steps.images.content_tag import content_tag
from deploytools.steps.images.ecr import Ecr
from deploytools.steps.images.errors import UnknownImage
from deploytools.steps.images.model import ImagePlan

LAMBDA = "lambda"


def image_names(env: EnvConfig, names: Sequence[str] | None) -> list[str]:
    """The requested images (default: all), refusing names that are not under images:."""
    known = list(env.model.images)
    if not names:
        return known
    unknown = [n for n in names if n not in env.model.images]
    if unknown:
        allowed = ", ".join(known) or "(none: add an images: section)"
        raise UnknownImage(f"unknown image {', '.join(unknown)}; allowed: {allowed}")
    return list(dict.fromkeys(names))


def lambda_images(env: EnvConfig) -> set[str]:
    """Images some Lambda target runs: their manifests must be single linux/amd64 images."""
    return {
        str(t.image)
        for t in env.model.targets.values()
        if t.type == LAMBDA and getattr(t, "image", None)
    }


def repository_of(image: Image) -> str:
    if not image.repository:  # EnvConfig fills it in; a bare Config does not
        raise BadInput("images: repository is not resolved; use LoadedConfig.for_env(env)")
    return image.repository


def image_context(root: Path, image: Image) -> BuildContext:
    return load_context(root / image.context, root / image.dockerfile)


def image_tag(root: Path, image: Image) -> tuple[BuildContext, str]:
    ctx = image_context(root, image)
    tag = content_tag(
        ctx, build_args=image.build_args, platform=image.platform, target=image.target
    )
    return ctx, tag


def plan_images(
    aws: AwsContext,
    env: EnvConfig,
    *,
    root: Path,
    names: Sequence[str] | None = None,
) -> list[ImagePlan]:
    """Read-only: each image's content tag and whether ECR has it (ECR's control plane only)."""
    ecr = Ecr(aws.client("ecr"))
    plans = []
    for name in image_names(env, names):
        image = env.model.images[name]
        repository = repository_of(image)
        _, tag = image_tag(root, image)
        repo = ecr.repository(repository)
        stored = ecr.image(repository, tag) if repo else None
        plans.append(
            ImagePlan(
                name=name,
                repository=repository,
                repository_uri=repo.uri if repo else None,
                tag=tag,
                platform=image.platform,
                in_ecr=stored is not None,
                digest=stored.digest if stored else None,
                create_repository=repo is None and image.create_repository,
            )
        )
    return plans
