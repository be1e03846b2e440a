"""What the images step raises; the CLI turns these into messages and exit codes."""

from __future__ import annotations

from collections.abc import Sequence

from deploytools.errors import BadInput, DeployError, ExitCode


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


class TagTaken(ImageError):
    """Another run pushed the same content tag first, as another image; tags are immutable."""


class ImagesFailed(ImageError):
    """Several images failed; one line each. Bad input only if every failure was bad input."""

    def __init__(self, failures: Sequence[tuple[str, DeployError]]) -> None:
        self.failures = list(failures)
        lines = [f"{len(self.failures)} images failed:"]
        for name, exc in self.failures:
            first, *rest = str(exc).splitlines() or ["failed"]
            text = first if first.startswith(f"image {name}") else f"image {name}: {first}"
            lines += [f"  {text}", *(f"    {line}" for line in rest)]
        super().__init__("\n".join(lines))
        if all(isinstance(exc, BadInput) for _, exc in self.failures):
            self.exit_code = ExitCode.BAD_INPUT


class RepositoryMissing(BadInput):
    """The ECR repository does not exist and create_repository is false."""


class UnknownImage(BadInput):
    """An image name that is not a key of images:."""
