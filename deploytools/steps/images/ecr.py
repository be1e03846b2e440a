"""ECR's control plane: repositories, the registry login, and image manifests by tag.

In the sandbox the data plane is a plain registry on loopback (moto has none), so after a
push there the manifest is registered here with `put_image`, passing `imageDigest` (a real
PutImage parameter): moto otherwise invents a digest that is not the manifest's sha256, and
`batch_get_image(imageIds=[{"imageDigest": …}])` — how a Lambda target checks that an image
exists — would not find the image. Against AWS the push itself registers the image.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.lib.aws_errors import error_code
from deploytools.lib.ecr_image import ImageAbsent, ImageLookupFailed, StoredImage, stored_image
from deploytools.lib.image_reference import ImageRef
from deploytools.output import register_secret
from deploytools.steps.images.errors import ImageError, RepositoryMissing, TagTaken


@dataclass(frozen=True)
class Repository:
    name: str
    uri: str  # <account>.dkr.ecr.<region>.amazonaws.com/<name>
    registry_id: str


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
        ref = ImageRef(registry="", repository=repository, digest=None, tag=tag)
        try:
            return stored_image(self.client, ref)
        except ImageAbsent:
            return None
        except ImageLookupFailed as exc:
            raise ImageError(str(exc)) from exc
        except ClientError as exc:
            raise ImageError(f"ecr batch_get_image {repository}:{tag}: {exc}") from exc
        except BotoCoreError as exc:
            raise ImageError(f"ecr batch_get_image: {exc}") from exc

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
