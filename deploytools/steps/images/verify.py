"""Read-back checks on a pushed manifest: what Lambda (and the configured platform) accept.

Lambda takes one image manifest (Docker v2 schema 2 or OCI) whose config is linux/amd64 here.
buildx's default provenance/SBOM attestations turn a push into an OCI index, which Lambda
rejects with an opaque "image manifest … media type … is not supported" at deploy time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from deploytools.lib.ecr_image import (
    DOCKER_LIST,
    DOCKER_V2,
    OCI_INDEX,
    OCI_MANIFEST,
)
from deploytools.steps.images.errors import ImageRejected

INDEXES = frozenset({OCI_INDEX, DOCKER_LIST})
SINGLE = frozenset({DOCKER_V2, OCI_MANIFEST})
IMAGE_CONFIGS = frozenset(
    {"application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"}
)
LAMBDA_PLATFORM = "linux/amd64"
FIX = (
    "build one linux/amd64 image without attestations: "
    "docker buildx build --platform linux/amd64 --provenance=false --sbom=false "
    "(docker/build-push-action: platforms: linux/amd64, provenance: false, sbom: false); "
    "deploytools build does this"
)

ConfigReader = Callable[[str], bytes]  # config blob digest -> its bytes


def media_type_of(manifest: dict[str, Any], declared: str | None) -> str:
    """The declared type, else the document's own, else what its shape says."""
    if declared:
        return declared
    if manifest.get("mediaType"):
        return str(manifest["mediaType"])
    if "manifests" in manifest:
        return OCI_INDEX
    return OCI_MANIFEST if "layers" in manifest else ""


def _platforms(index: dict[str, Any]) -> list[str]:
    found = []
    for entry in index.get("manifests", []):
        platform = entry.get("platform") or {}
        found.append(f"{platform.get('os', '?')}/{platform.get('architecture', '?')}")
    return found


def verify_manifest(
    *,
    reference: str,
    manifest: str,
    media_type: str | None,
    read_config: ConfigReader,
    platform: str,
    for_lambda: bool,
) -> str:
    """The image's os/architecture; raises ImageRejected with the fix when it cannot run."""
    try:
        document = json.loads(manifest)
    except ValueError as exc:
        raise ImageRejected(f"{reference}: the manifest is not JSON ({exc})") from exc
    kind = media_type_of(document, media_type)
    if kind in INDEXES:
        platforms = _platforms(document)
        listed = ", ".join(platforms) or "none"
        if for_lambda:
            name = "an OCI image index" if kind == OCI_INDEX else "a Docker manifest list"
            raise ImageRejected(
                f"{reference} is {name} ({len(platforms)} manifests: {listed}), "
                f"which Lambda rejects: it needs a single {LAMBDA_PLATFORM} image manifest. "
                f"Fix: {FIX}"
            )
        if platform not in platforms:
            raise ImageRejected(
                f"{reference} has no {platform} image (platforms: {listed}). Fix: {FIX}"
            )
        return platform
    if kind not in SINGLE:
        raise ImageRejected(f"{reference}: unsupported manifest media type {kind!r}. Fix: {FIX}")
    config = document.get("config") or {}
    if for_lambda and config.get("mediaType") not in IMAGE_CONFIGS:
        raise ImageRejected(
            f"{reference} is not a container image (config {config.get('mediaType')!r}). Fix: {FIX}"
        )
    try:
        blob = json.loads(read_config(str(config["digest"])))
    except (KeyError, ValueError) as exc:
        raise ImageRejected(f"{reference}: cannot read the image config ({exc})") from exc
    found = f"{blob.get('os', '?')}/{blob.get('architecture', '?')}"
    expected = LAMBDA_PLATFORM if for_lambda else platform
    if found != expected:
        used = "Lambda runs" if for_lambda else "the config says"
        raise ImageRejected(f"{reference} is built for {found}, but {used} {expected}. Fix: {FIX}")
    return found
