"""What the images step raises; the CLI turns these into messages and exit codes."""

from __future__ import annotations

from deploytools.errors import BadInput, DeployError


class ImageError(DeployError):
    """An image could not be built, pushed or verified."""


class DockerUnavailable(ImageError):
    """No Docker engine answers where DOCKER_HOST points."""


class BuildFailed(ImageError):
    """The build failed; the message names the failing step and shows its last lines."""


class PushFailed(ImageError):
    """The push failed for good (permanent error, or transient ones past the last retry)."""


class ImageRejected(ImageError):
    """The pushed manifest cannot run where it is used (e.g. an index for a Lambda)."""


class RepositoryMissing(BadInput):
    """The ECR repository does not exist and create_repository is false."""


class UnknownImage(BadInput):
    """An image name that is not a key of images:."""
