"""An image config's os/architecture, read once per digest: a no-op deploy reads no blob."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from deploytools.steps.images import platform_cache
from deploytools.steps.images.errors import ImageRejected
from deploytools.steps.images.verify import verify_manifest

SECRET_ENV = "API_KEY=baked-into-the-image"  # pragma: allowlist secret


def config(architecture: str) -> bytes:
    return json.dumps(
        {"os": "linux", "architecture": architecture, "config": {"Env": [SECRET_ENV]}}
    ).encode()


def digest_of(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def manifest(config_digest: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
            },
            "layers": [],
        }
    )


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return platform_cache.cache_file()


def verify(config_digest: str, blobs: dict[str, bytes], reads: list[str]) -> str:
    def read(digest: str) -> bytes:
        reads.append(digest)
        return blobs[digest]

    return verify_manifest(
        reference="shop/api:ct-1",
        manifest=manifest(config_digest),
        media_type=None,
        read_config=platform_cache.remembering(read),
        platform="linux/amd64",
        for_lambda=True,
    )


def test_a_config_is_read_once_and_only_its_platform_is_kept(cache: Path) -> None:
    blob = config("amd64")
    reads: list[str] = []
    assert verify(digest_of(blob), {digest_of(blob): blob}, reads) == "linux/amd64"
    assert verify(digest_of(blob), {}, reads) == "linux/amd64"  # no blob to read: the cache's
    assert reads == [digest_of(blob)]
    assert json.loads(cache.read_text()) == {digest_of(blob): ["linux", "amd64"]}
    assert SECRET_ENV not in cache.read_text()


def test_a_wrong_platform_is_refused_from_the_cache_too() -> None:
    blob = config("arm64")
    reads: list[str] = []
    for blobs in ({digest_of(blob): blob}, {}):
        with pytest.raises(ImageRejected, match="built for linux/arm64, but Lambda runs"):
            verify(digest_of(blob), blobs, reads)
    assert reads == [digest_of(blob)]


def test_a_blob_that_does_not_match_its_digest_is_not_kept(cache: Path) -> None:
    claimed = "sha256:" + "0" * 64
    reads: list[str] = []
    for _ in range(2):
        verify(claimed, {claimed: config("amd64")}, reads)
    assert reads == [claimed, claimed]
    assert not cache.exists()
