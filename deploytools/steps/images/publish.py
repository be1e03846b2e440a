"""Publish one image to ECR: skip what ECR has, else build and push; verify the manifest; add
the extra tags. Another run may push the same content tag meanwhile: that is no failure when
it pushed the same image."""

from __future__ import annotations

import json

from deploytools.config.model import Image
from deploytools.lib.build_context import BuildContext
from deploytools.lib.ecr_image import StoredImage
from deploytools.output import Status, StepRecord
from deploytools.steps.images.errors import ImageError, TagTaken
from deploytools.steps.images.model import ImageResult
from deploytools.steps.images.plan import image_tag, repository_of
from deploytools.steps.images.platform_cache import remembering
from deploytools.steps.images.registry import Manifest
from deploytools.steps.images.session import Session
from deploytools.steps.images.verify import verify_manifest


def publish(
    session: Session, name: str, image: Image, *, for_lambda: bool, record: StepRecord
) -> ImageResult:
    repository = repository_of(image)
    ctx, tag = image_tag(session.root, image)
    repo = session.ecr.ensure_repository(
        repository, create=image.create_repository, kms_key=image.kms_key
    )
    stored = session.ecr.image(repository, tag)
    built = pushed = stored is None
    if stored is None:
        stored, pushed = _build_and_push(session, name, image, ctx, repository, tag)
    verify_manifest(
        reference=f"{repository}:{tag}",
        manifest=stored.manifest,
        media_type=stored.media_type,
        read_config=remembering(lambda digest: session.registry.blob(repository, digest)),
        platform=image.platform,
        for_lambda=for_lambda,
    )
    tags = (tag, *_add_tags(session, stored))
    short = stored.digest[:19] + "…"
    if pushed:
        record.summary = f"built and pushed {repository}:{tag} → {short}"
        record.change(f"pushed {repository}:{tag}")
    elif built:
        record.summary = f"built {repository}:{tag} → {short} (another run pushed it first)"
    else:
        record.status = Status.UNCHANGED
        record.summary = f"{repository}:{tag} already in ECR → {short} (build and push skipped)"
    return ImageResult(
        name=name,
        repository=repository,
        repository_uri=repo.uri,
        tag=tag,
        digest=stored.digest,
        uri=f"{repo.uri}@{stored.digest}",
        built=built,
        pushed=pushed,
        tags=tags,
        platform=image.platform,
    )


def _build_and_push(
    session: Session, name: str, image: Image, ctx: BuildContext, repository: str, tag: str
) -> tuple[StoredImage, bool]:
    """The image ECR now has under the tag, and whether this run's push put it there."""
    endpoint = session.endpoint
    ref = f"{endpoint.ref(repository)}:{tag}"
    try:
        session.build(name, image, ctx, (ref,), push=endpoint)
    except ImageError as exc:
        # Another run may have pushed this content tag meanwhile: ECR's immutable tag refused
        # our push. Its image is ours if the engine built the same one (the same config).
        stored = session.ecr.image(repository, tag)
        if stored is None:
            raise
        return _pushed_first(session, stored, ref, exc), False
    if session.registry_override:
        _register(session, repository, tag, session.registry.manifest(repository, tag))
    stored = session.ecr.image(repository, tag)
    if stored is None:
        raise ImageError(f"pushed {ref}, but ECR does not list {repository}:{tag}")
    return stored, True


def _pushed_first(
    session: Session, stored: StoredImage, ref: str, refused: ImageError
) -> StoredImage:
    """The content tag appeared in ECR while we built: fine if it is the image we built."""
    ours = session.builder.image_id(ref)
    theirs = _config_digest(stored.manifest)
    if ours is not None and ours == theirs:
        return stored
    built = f"this run built {ours[:19]}…" if ours else "this run's build is not in the engine"
    raise TagTaken(
        f"ECR {stored.repository}:{stored.tag} was pushed by another run meanwhile, as another "
        f"image (its config {(theirs or 'unknown')[:19]}…; {built}); tags are immutable, "
        "nothing was overwritten: run again to deploy the image ECR has"
    ) from refused


def _config_digest(manifest: str) -> str | None:
    try:
        config = json.loads(manifest).get("config") or {}
    except ValueError:
        return None
    digest = config.get("digest") if isinstance(config, dict) else None
    return str(digest) if digest else None


def _register(session: Session, repository: str, tag: str, manifest: Manifest) -> None:
    """Sandbox only: tell ECR's control plane about a manifest pushed to the stand-in registry."""
    session.ecr.put_manifest(
        repository,
        tag,
        manifest=manifest.text,
        media_type=manifest.media_type,
        digest=manifest.digest,
    )


def _add_tags(session: Session, stored: StoredImage) -> list[str]:
    """Point extra tags (the git SHA, --tag) at the image through the APIs: no Docker needed.

    Tags are immutable in repositories deploytools creates: one that already names another
    image is left alone, with a warning.
    """
    added = []
    manifest = Manifest(stored.manifest, stored.media_type, stored.digest)
    for extra in session.extra_tags:
        current = session.ecr.image(stored.repository, extra)
        if current is not None:
            if current.digest == stored.digest:
                added.append(extra)
            else:
                session.reporter.warn(
                    f"{stored.repository}:{extra} already names {current.digest[:19]}…; "
                    "left unchanged (tags are immutable)"
                )
            continue
        try:
            if session.registry_override:
                session.registry.put_manifest(stored.repository, extra, manifest)
            session.ecr.put_manifest(
                stored.repository,
                extra,
                manifest=stored.manifest,
                media_type=stored.media_type,
                digest=stored.digest,
            )
        except ImageError as exc:
            session.reporter.warn(f"{stored.repository}:{extra} not added: {exc}")
            continue
        added.append(extra)
    return added
