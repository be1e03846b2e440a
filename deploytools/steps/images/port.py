"""What the pipeline asks of the images step, and the step's own answer to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.errors import Unavailable
from deploytools.output import Reporter
from deploytools.steps.images.build import build_images
from deploytools.steps.images.errors import DockerUnavailable
from deploytools.steps.images.model import BuildImages, ImagePlan, ImageResult
from deploytools.steps.images.plan import plan_images


class ImagesPort(Protocol):
    def plan(self, aws: AwsContext, env: EnvConfig, request: BuildImages) -> list[ImagePlan]:
        """Read-only: what `build` would do for each image."""
        ...

    def build(
        self, aws: AwsContext, env: EnvConfig, request: BuildImages, *, reporter: Reporter
    ) -> Sequence[ImageResult]:
        """Build, push and verify; Unavailable when this machine has no Docker engine."""
        ...


class EcrImages:
    """Images built by the Docker engine, pushed to ECR (or the sandbox's registry)."""

    def plan(self, aws: AwsContext, env: EnvConfig, request: BuildImages) -> list[ImagePlan]:
        return plan_images(aws, env, root=request.root, names=request.names)

    def build(
        self, aws: AwsContext, env: EnvConfig, request: BuildImages, *, reporter: Reporter
    ) -> Sequence[ImageResult]:
        try:
            return build_images(aws, env, request, reporter=reporter)
        except DockerUnavailable as exc:
            raise Unavailable("a Docker engine", f"{exc} (scripts/setup installs one)") from exc
