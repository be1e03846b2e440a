"""Reading a pushed manifest back: what Lambda refuses, and which errors are worth a retry."""

from __future__ import annotations

import json

import pytest

from deploytools.lib.ecr_image import DOCKER_LIST, DOCKER_V2, OCI_INDEX, OCI_MANIFEST
from deploytools.lib.retry import Backoff, retry
from deploytools.steps.images.errors import ImageRejected
from deploytools.steps.images.retry import is_transient
from deploytools.steps.images.verify import verify_manifest

CONFIG_DIGEST = "sha256:" + "c" * 64


def manifest(media_type: str = DOCKER_V2) -> str:
    config_type = (
        "application/vnd.oci.image.config.v1+json"
        if media_type == OCI_MANIFEST
        else "application/vnd.docker.container.image.v1+json"
    )
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "size": 10, "digest": CONFIG_DIGEST},
            "layers": [],
        }
    )


def index(media_type: str = OCI_INDEX, *, attestation: bool = True) -> str:
    entries = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": "sha256:" + "a" * 64,
            "size": 500,
            "platform": {"architecture": "amd64", "os": "linux"},
        }
    ]
    if attestation:
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": "sha256:" + "b" * 64,
                "size": 566,
                "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                "platform": {"architecture": "unknown", "os": "unknown"},
            }
        )
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})


def config(arch: str = "amd64") -> bytes:
    return json.dumps({"architecture": arch, "os": "linux", "rootfs": {}}).encode()


def check(text: str, media_type: str | None, *, arch: str = "amd64", lambda_: bool) -> str:
    def read_config(digest: str) -> bytes:
        assert digest == CONFIG_DIGEST
        return config(arch)

    return verify_manifest(
        reference="repo:ct-1",
        manifest=text,
        media_type=media_type,
        read_config=read_config,
        platform="linux/amd64",
        for_lambda=lambda_,
    )


@pytest.mark.parametrize("media_type", [DOCKER_V2, OCI_MANIFEST])
def test_a_single_amd64_image_passes(media_type: str) -> None:
    assert check(manifest(media_type), media_type, lambda_=True) == "linux/amd64"


def test_an_oci_index_is_refused_for_lambda_with_the_fix() -> None:
    with pytest.raises(ImageRejected) as caught:
        check(index(), OCI_INDEX, lambda_=True)
    message = str(caught.value)
    assert "repo:ct-1 is an OCI image index (2 manifests: linux/amd64, unknown/unknown)" in message
    assert "which Lambda rejects" in message
    assert "--provenance=false --sbom=false" in message and "--platform linux/amd64" in message
    assert "provenance: false" in message


def test_an_index_without_a_declared_type_is_still_an_index() -> None:
    with pytest.raises(ImageRejected, match="OCI image index"):
        check(index(), None, lambda_=True)


def test_a_docker_manifest_list_is_refused_for_lambda() -> None:
    with pytest.raises(ImageRejected, match="a Docker manifest list"):
        check(index(DOCKER_LIST, attestation=False), DOCKER_LIST, lambda_=True)


def test_an_index_is_fine_for_ecs_when_it_has_the_platform() -> None:
    assert check(index(), OCI_INDEX, lambda_=False) == "linux/amd64"


def test_an_arm64_image_is_refused_with_the_fix() -> None:
    with pytest.raises(ImageRejected) as caught:
        check(manifest(), DOCKER_V2, arch="arm64", lambda_=True)
    assert "is built for linux/arm64, but Lambda runs linux/amd64" in str(caught.value)
    assert "--platform linux/amd64" in str(caught.value)
    with pytest.raises(ImageRejected, match="built for linux/arm64"):
        check(manifest(), DOCKER_V2, arch="arm64", lambda_=False)


def test_an_old_schema_is_refused() -> None:
    with pytest.raises(ImageRejected, match="unsupported manifest media type"):
        check(
            json.dumps({"schemaVersion": 1}),
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            lambda_=True,
        )


@pytest.mark.parametrize(
    "message",
    [
        "received unexpected HTTP status: 503 Service Unavailable",
        'Get "http://127.0.0.1:5055/v2/": EOF',
        "read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer",
        "net/http: TLS handshake timeout",
        "toomanyrequests: Rate exceeded",
        "unknown: 500 Internal Server Error",
    ],
)
def test_transient_errors(message: str) -> None:
    assert is_transient(message)


@pytest.mark.parametrize(
    "message",
    [
        "denied: requested access to the resource is denied",
        "name unknown: The repository with name 'x' does not exist",
        "unauthorized: authentication required",
        "no basic auth credentials",
        "tag invalid: The image tag 'ct-1' already exists and cannot be overwritten",
        "received unexpected HTTP status: 403 Forbidden",
        "manifest invalid: manifest invalid",
    ],
)
def test_permanent_errors(message: str) -> None:
    assert not is_transient(message)


def test_retry_backs_off_exponentially_then_gives_up() -> None:
    waits: list[float] = []
    calls = []

    def flaky() -> str:
        calls.append(1)
        raise RuntimeError("503")

    backoff = Backoff(attempts=4, first=0.5, factor=2, cap=1.5, sleep=waits.append)
    with pytest.raises(RuntimeError):
        retry(flaky, backoff=backoff, transient=lambda exc: True)
    assert len(calls) == 4 and waits == [0.5, 1.0, 1.5]


def test_retry_stops_at_once_on_a_permanent_error() -> None:
    calls = []

    def denied() -> str:
        calls.append(1)
        raise RuntimeError("denied")

    backoff = Backoff(attempts=5, sleep=lambda _: None)
    with pytest.raises(RuntimeError):
        retry(denied, backoff=backoff, transient=lambda exc: is_transient(str(exc)))
    assert len(calls) == 1
