"""What a deploy hands back: the release, the images, each target's result, and where the
app answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploytools.config import EnvConfig
from deploytools.pipeline.context import pending_in
from deploytools.pipeline.targets import TargetResult
from deploytools.steps.amplify import AmplifyResult
from deploytools.steps.images import ImageResult
from deploytools.steps.release import Release

Images = dict[str, ImageResult]


@dataclass(frozen=True)
class DeployResult:
    env: str
    release: Release | None
    images: Images | None  # None when the images step was skipped
    targets: list[TargetResult] = field(default_factory=list)
    amplify: AmplifyResult | None = None
    changed: bool = True  # False: nothing changed, no release recorded; `release` is the live one
    url: str | None = None  # where the app answers (app_url), for the GitHub environment

    def as_dict(self) -> dict[str, Any]:
        images = self.images
        return {
            "env": self.env,
            "release": self.release.id if self.release else None,
            "changed": self.changed,
            "images": {n: image_doc(i) for n, i in images.items()} if images is not None else None,
            "targets": [t.as_dict() for t in self.targets],
            "amplify": self.amplify.as_dict() if self.amplify else None,
            "url": self.url,
        }


def app_url(env: EnvConfig, amplify: AmplifyResult | None) -> str | None:
    """The address a reviewer opens: the frontend's, else the first smoke check's URL whose
    Terraform outputs are all known."""
    if amplify is not None and amplify.url:
        return amplify.url
    return next((check.url for check in env.model.smoke if not pending_in(check)), None)


def image_doc(image: ImageResult) -> dict[str, Any]:
    """What --json and the images step's record show of an image."""
    return {
        "uri": image.uri,
        "digest": image.digest,
        "tag": image.tag,
        "repository_uri": image.repository_uri,
        "built": image.built,
        "pushed": image.pushed,
    }
