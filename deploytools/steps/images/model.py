"""The images step's frozen values: what it is asked, what it would do, what it did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploytools.lib.retry import Backoff


@dataclass(frozen=True)
class ImagePlan:
    """What build_images would do for one image; computed read-only."""

    name: str
    repository: str
    repository_uri: str | None  # None while the repository does not exist
    tag: str  # the content tag
    platform: str
    in_ecr: bool  # ECR already has the content tag: nothing to build
    digest: str | None  # the digest ECR has for the tag, when it has it
    create_repository: bool  # the repository is missing and would be created

    @property
    def action(self) -> str:
        if self.in_ecr:
            return "skip (content tag in ECR)"
        return "build, push" + (" (create repository)" if self.create_repository else "")

    @property
    def uri(self) -> str:
        """What targets would run: by digest when ECR has the content tag, else by that tag."""
        if self.repository_uri and self.digest:
            return f"{self.repository_uri}@{self.digest}"
        return f"{self.repository_uri or self.repository}:{self.tag}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "action": self.action, "uri": self.uri}


@dataclass(frozen=True)
class BuildImages:
    """What build_images is asked to do."""

    root: Path  # the folder of deploytools.yml: contexts and Dockerfiles are relative to it
    names: Sequence[str] = ()  # default: every image
    push: bool = True  # False: a local build only, no AWS
    # "host:port" of a plain-HTTP registry standing in for ECR's data plane (the sandbox's).
    registry_override: str | None = None
    commit: str | None = None  # the commit being deployed: tagged when given
    extra_tags: Sequence[str] = ()  # --tag
    steps: bool = False  # one reporter step per image (the build command)
    max_builds: int | None = None  # builds at once; default DEPLOYTOOLS_MAX_BUILDS, else cores
    backoff: Backoff = field(default_factory=Backoff)


@dataclass(frozen=True)
class ImageResult:
    """One image after build_images; targets deploy `uri` (repository_uri@digest)."""

    name: str
    repository: str
    repository_uri: str  # ECR's URI; the local name when not pushed
    tag: str  # the content tag
    digest: str | None  # sha256:… of the manifest in ECR; None for a local-only build
    uri: str  # repository_uri@digest, or repository:tag for a local-only build
    built: bool
    pushed: bool
    tags: tuple[str, ...] = ()  # every tag the image carries: content tag, git SHA, extras
    platform: str = "linux/amd64"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags)}
