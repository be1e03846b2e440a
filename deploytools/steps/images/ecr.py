"""ECR's control plane: repositories, the registry login, and image manifests by tag.

In the sandbox the data plane is a plain registry on loopback (moto has none), so after a
push there the manifest is registered here with `put_image`, passing `imageDigest` (a real
PutImage parameter): moto otherwise invents a digest that is not the manifest's sha256, and
`describe_images(imageIds=[{"imageDigest": …}])` — how a Lambda target checks that an image
exists — would not find the image. Against AWS the push itself registers the image.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.lib.aws_errors import error_code
from deploytools.output import register_secret
from deploytools.steps.images.errors import ImageError, RepositoryMissing, TagTaken
from deploytools.steps.images.verify import ACCEPTED_MEDIA_TYPES


@dataclass(frozen=True)
class Repository:
    name: str
    uri: str  # <account>.dkr.ecr.<region>.amazonaws.com/<name>
    registry_id: str


@dataclass(frozen=True)
class StoredImage:
    repository: str
    tag: str
    digest: str  # sha256:… of the manifest
    manifest: str
    media_type: str


@dataclass(frozen=True)
class Login:
    """Credentials for the registry's data plane (docker push, the v2 API)."""

    endpoint: str  # https://<account>.dkr.ecr.<region>.amazonaws.com
    username: str
    password: str = field(repr=False)

    @property
    def host(self) -> str:
        return self.endpoint.split("://", 1)[-1].rstrip("/")


class Ecr:
    """Thin, named operations over an ECR client (which the caller builds)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(**params)
        except BotoCoreError as exc:
            raise ImageError(f"ecr {operation}: {exc}") from exc

    def repository(self, name: str) -> Repository | None:
        try:
            found = self._call("describe_repositories", repositoryNames=[name])
        except ClientError as exc:
            if error_code(exc) == "RepositoryNotFoundException":
                return None
            raise ImageError(f"ecr describe_repositories {name}: {exc}") from exc
        item = found["repositories"][0]
        return Repository(item["repositoryName"], item["repositoryUri"], item["registryId"])

    def ensure_repository(
        self, name: str, *, create: bool, kms_key: str | None = None
    ) -> Repository:
        """The repository, created (scan on push, immutable tags, encrypted) if missing."""
        existing = self.repository(name)
        if existing is not None:
            return existing
        if not create:
            raise RepositoryMissing(
                f"ECR repository {name} does not exist and create_repository is false; "
                "create it (e.g. Terraform aws_ecr_repository) or set create_repository: true"
            )
        encryption = (
            {"encryptionType": "KMS", "kmsKey": kms_key}
            if kms_key
            else {"encryptionType": "AES256"}
        )
        try:
            created = self._call(
                "create_repository",
                repositoryName=name,
                imageTagMutability="IMMUTABLE",
                imageScanningConfiguration={"scanOnPush": True},
                encryptionConfiguration=encryption,
                tags=[{"Key": "managed-by", "Value": "deploytools"}],
            )["repository"]
        except ClientError as exc:
            if error_code(exc) == "RepositoryAlreadyExistsException":  # created concurrently
                return self.ensure_repository(name, create=False)
            raise ImageError(f"ecr create_repository {name}: {exc}") from exc
        return Repository(
            created["repositoryName"], created["repositoryUri"], created["registryId"]
        )

    def image(self, repository: str, tag: str) -> StoredImage | None:
        """The image a tag points at, with its manifest; None if the tag is not there."""
        try:
            found = self._call(
                "batch_get_image",
                repositoryName=repository,
                imageIds=[{"imageTag": tag}],
                acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES),
            )
        except ClientError as exc:
            if error_code(exc) == "RepositoryNotFoundException":
                return None
            raise ImageError(f"ecr batch_get_image {repository}:{tag}: {exc}") from exc
        for failure in found.get("failures", []):
            if failure.get("failureCode") not in ("ImageNotFound", "ImageTagDoesNotMatchDigest"):
                raise ImageError(
                    f"ecr batch_get_image {repository}:{tag}: {failure.get('failureCode')}: "
                    f"{failure.get('failureReason')}"
                )
        images = found.get("images", [])
        if not images:
            return None
        image = images[0]
        manifest = image["imageManifest"]
        media_type = image.get("imageManifestMediaType") or _declared_type(manifest)
        return StoredImage(repository, tag, image["imageId"]["imageDigest"], manifest, media_type)

    def login(self) -> Login:
        """get_authorization_token: base64 'user:password' for the registry's data plane."""
        try:
            data = self._call("get_authorization_token")["authorizationData"][0]
        except ClientError as exc:
            raise ImageError(f"ecr get_authorization_token: {exc}") from exc
        decoded = base64.b64decode(data["authorizationToken"]).decode()
        username, _, password = decoded.partition(":")
        register_secret(password)
        return Login(data["proxyEndpoint"], username, password)

    def put_manifest(
        self, repository: str, tag: str, *, manifest: str, media_type: str, digest: str
    ) -> None:
        """Point `tag` at a manifest; the same manifest already tagged so is fine."""
        try:
            self._call(
                "put_image",
                repositoryName=repository,
                imageManifest=manifest,
                imageManifestMediaType=media_type,
                imageTag=tag,
                imageDigest=digest,
            )
        except ClientError as exc:
            # ImageAlreadyExists: this manifest has the tag (moto also says so for another
            # one); ImageTagAlreadyExists: AWS's answer when the tag names another manifest.
            if error_code(exc) in ("ImageAlreadyExistsException", "ImageTagAlreadyExistsException"):
                current = self.image(repository, tag)
                if current is not None and current.digest == digest:
                    return
                there = f" ({current.digest[:19]}…, not {digest[:19]}…)" if current else ""
                raise TagTaken(
                    f"ECR {repository}:{tag} already points at another image{there} and its "
                    "tags are immutable; nothing was overwritten"
                ) from exc
            raise ImageError(f"ecr put_image {repository}:{tag}: {exc}") from exc


def _declared_type(manifest: str) -> str:
    try:
        return str(json.loads(manifest).get("mediaType", ""))
    except ValueError:
        return ""
