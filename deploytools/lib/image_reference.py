"""Image references (`<registry>/<repository>@sha256:…` or `:tag`) and what ECR needs of one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploytools.errors import BadInput

ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$"
)


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    digest: str | None
    tag: str | None

    @property
    def registry_id(self) -> str | None:
        match = ECR_HOST.match(self.registry)
        return match["account"] if match else None

    @property
    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}


def parse_image(uri: str) -> ImageRef:
    """`<registry>/<repository>@sha256:…` (or `:tag`) into its parts."""
    name, _, digest = uri.partition("@")
    registry, _, path = name.partition("/")
    if not path or not ("." in registry or ":" in registry or registry == "localhost"):
        raise BadInput(f"{uri}: not an image in a registry (<registry>/<repository>@sha256:…)")
    repository, tag = path, None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = path.rpartition(":")
    return ImageRef(registry, repository, digest or None, tag)
