"""The registry's data plane: docker push with retries, and reading manifests and blobs back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deploytools import interrupts
from deploytools.lib.ecr_image import ACCEPTED_MEDIA_TYPES
from deploytools.lib.retry import Backoff, retry
from deploytools.steps.images.errors import ImageError, PushFailed
from deploytools.steps.images.retry import is_transient

if TYPE_CHECKING:  # imported where a push or a registry read runs, not in a no-op
    import requests

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Endpoint:
    """Where images are pushed: ECR's registry host, or a plain registry on loopback."""

    host: str  # host[:port]
    secure: bool = True  # https (ECR) or http (the sandbox's loopback registry)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.host}"

    def ref(self, repository: str) -> str:
        return f"{self.host}/{repository}"

    def auth_config(self) -> dict[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return {"username": self.username, "password": self.password, "serveraddress": self.host}


class Attempt(Exception):
    """One failed try; `transient` says whether another try may succeed."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        self.reason = reason
        self.transient = transient
        super().__init__(reason)


def _transient(exc: Exception) -> bool:
    return isinstance(exc, Attempt) and exc.transient


def push(
    client: Any,
    *,
    endpoint: Endpoint,
    repository: str,
    tag: str,
    backoff: Backoff,
    progress: Progress,
) -> str:
    """docker push <host>/<repository>:<tag> with retries; returns the pushed manifest digest."""
    ref = endpoint.ref(repository)

    def on_retry(attempt: int, delay: float, exc: Exception) -> None:
        progress(f"push {ref}:{tag}: attempt {attempt} failed ({exc}); retrying in {delay:.1f}s")

    try:
        return retry(
            lambda: _push_once(client, ref, tag, endpoint.auth_config()),
            backoff=backoff,
            transient=_transient,
            on_retry=on_retry,
        )
    except Attempt as exc:
        if exc.transient:
            raise PushFailed(
                f"push {ref}:{tag} failed {backoff.attempts} times; last error: {exc.reason}"
            ) from exc
        hint = _hint(exc.reason)
        raise PushFailed(
            f"push {ref}:{tag} refused by the registry: {exc.reason}"
            + (f" ({hint})" if hint else "")
        ) from exc


def _hint(reason: str) -> str:
    text = reason.lower()
    if any(word in text for word in ("denied", "unauthorized", "forbidden", "403", "401")):
        return (
            "the credentials may not push here: they need ecr:InitiateLayerUpload, "
            "ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:BatchCheckLayerAvailability "
            "and ecr:PutImage on the repository"
        )
    if "name unknown" in text or "404" in text:
        return "the repository does not exist in this registry (account and region)"
    if "tag invalid" in text:
        return "the tag exists already and the repository's tags are immutable"
    return ""


def _push_once(client: Any, ref: str, tag: str, auth: dict[str, str] | None) -> str:
    import docker.errors
    import requests

    digest = ""
    try:
        stream = client.api.push(ref, tag=tag, auth_config=auth, stream=True, decode=True)
        for chunk in interrupts.checked(stream):
            if "error" in chunk or "errorDetail" in chunk:
                reason = str(chunk.get("error") or chunk["errorDetail"].get("message", chunk))
                raise Attempt(reason, transient=is_transient(reason))
            aux = chunk.get("aux") or {}
            if aux.get("Digest"):
                digest = str(aux["Digest"])
    except docker.errors.APIError as exc:
        reason = str(exc.explanation or exc)
        transient = exc.is_server_error() or is_transient(reason)
        raise Attempt(reason, transient=transient) from exc
    except requests.RequestException as exc:  # the engine itself went away mid-push
        raise Attempt(f"Docker engine: {exc}", transient=True) from exc
    if not digest:
        raise Attempt("the push finished without reporting a digest", transient=True)
    return digest


@dataclass(frozen=True)
class Manifest:
    text: str
    media_type: str
    digest: str


class RegistryApi:
    """The v2 API: read manifests and config blobs, copy a manifest to a new tag; retried."""

    def __init__(self, endpoint: Endpoint, *, backoff: Backoff, timeout: float = 30) -> None:
        import requests

        self.endpoint = endpoint
        self.backoff = backoff
        self.timeout = timeout
        self.session = requests.Session()
        if endpoint.username is not None and endpoint.password is not None:
            self.session.auth = (endpoint.username, endpoint.password)

    def _request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> requests.Response:
        import requests

        url = f"{self.endpoint.base_url}/v2/{path}"

        def once() -> requests.Response:
            try:
                response = self.session.request(
                    method, url, headers=headers, data=body, timeout=self.timeout
                )
            except requests.RequestException as exc:
                raise Attempt(f"{method} {url}: {exc}", transient=True) from exc
            status = response.status_code
            if status >= 500 or status == 429:
                raise Attempt(f"{method} {url}: HTTP {status}", transient=True)
            if status not in (200, 201):
                raise Attempt(
                    f"{method} {url}: HTTP {status} {response.text[:200]}", transient=False
                )
            return response

        try:
            return retry(once, backoff=self.backoff, transient=_transient)
        except Attempt as exc:
            raise ImageError(f"registry {self.endpoint.host}: {exc.reason}") from exc

    def manifest(self, repository: str, reference: str) -> Manifest:
        accept = {"Accept": ", ".join(ACCEPTED_MEDIA_TYPES)}
        response = self._request("GET", f"{repository}/manifests/{reference}", accept)
        digest = "sha256:" + hashlib.sha256(response.content).hexdigest()  # by definition
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(response.content.decode("utf-8"), media_type, digest)

    def blob(self, repository: str, digest: str) -> bytes:
        return self._request("GET", f"{repository}/blobs/{digest}", {"Accept": "*/*"}).content

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> None:
        """Tag an existing manifest (its blobs are already there) without Docker."""
        headers = {"Content-Type": manifest.media_type}
        self._request("PUT", f"{repository}/manifests/{tag}", headers, manifest.text.encode())
