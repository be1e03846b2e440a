"""Step 2 of the pipeline: content tag → skip what ECR has → build → push → verify."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.config.model import Image
from deploytools.errors import BadInput, DeployError
from deploytools.lib.build_context import BuildContext, load_context
from deploytools.lib.ecr_image import StoredImage
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.images import builder as builders
from deploytools.steps.images.concurrency import build_slots, run_each
from deploytools.steps.images.content_tag import content_tag
from deploytools.steps.images.ecr import Ecr
from deploytools.steps.images.errors import (
    DockerUnavailable,
    ImageError,
    ImagesFailed,
    TagTaken,
    UnknownImage,
)
from deploytools.steps.images.registry import Endpoint, Manifest, RegistryApi
from deploytools.steps.images.verify import verify_manifest

LAMBDA = "lambda"


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


def image_names(env: EnvConfig, names: Sequence[str] | None) -> list[str]:
    """The requested images (default: all), refusing names that are not under images:."""
    known = list(env.model.images)
    if not names:
        return known
    unknown = [n for n in names if n not in env.model.images]
    if unknown:
        allowed = ", ".join(known) or "(none: add an images: section)"
        raise UnknownImage(f"unknown image {', '.join(unknown)}; allowed: {allowed}")
    return list(dict.fromkeys(names))


def lambda_images(env: EnvConfig) -> set[str]:
    """Images some Lambda target runs: their manifests must be single linux/amd64 images."""
    return {
        str(t.image)
        for t in env.model.targets.values()
        if t.type == LAMBDA and getattr(t, "image", None)
    }


def _repository(image: Image) -> str:
    if not image.repository:  # EnvConfig fills it in; a bare Config does not
        raise BadInput("images: repository is not resolved; use LoadedConfig.for_env(env)")
    return image.repository


def image_context(root: Path, image: Image) -> BuildContext:
    return load_context(root / image.context, root / image.dockerfile)


def image_tag(root: Path, image: Image) -> tuple[BuildContext, str]:
    ctx = image_context(root, image)
    tag = content_tag(
        ctx, build_args=image.build_args, platform=image.platform, target=image.target
    )
    return ctx, tag


def plan_images(
    aws: AwsContext,
    env: EnvConfig,
    *,
    root: Path,
    names: Sequence[str] | None = None,
) -> list[ImagePlan]:
    """Read-only: each image's content tag and whether ECR has it (ECR's control plane only)."""
    ecr = Ecr(aws.client("ecr"))
    plans = []
    for name in image_names(env, names):
        image = env.model.images[name]
        repository = _repository(image)
        _, tag = image_tag(root, image)
        repo = ecr.repository(repository)
        stored = ecr.image(repository, tag) if repo else None
        plans.append(
            ImagePlan(
                name=name,
                repository=repository,
                repository_uri=repo.uri if repo else None,
                tag=tag,
                platform=image.platform,
                in_ecr=stored is not None,
                digest=stored.digest if stored else None,
                create_repository=repo is None and image.create_repository,
            )
        )
    return plans


@dataclass
class _Session:
    """What the images of one run share: ECR, the login, the registry API, the builder."""

    aws: AwsContext | None
    reporter: Reporter
    registry_override: str | None
    backoff: Backoff
    builder_override: builders.Builder | None
    max_builds: int | None

    @cached_property
    def ecr(self) -> Ecr:
        if self.aws is None:
            raise BadInput("pushing needs AWS (an AwsContext)")
        return Ecr(self.aws.client("ecr"))

    @cached_property
    def endpoint(self) -> Endpoint:
        login = self.ecr.login()  # in the sandbox too: the same calls as against AWS
        if self.registry_override:
            return Endpoint(self.registry_override, secure=False)
        return Endpoint(login.host, secure=True, username=login.username, password=login.password)

    @cached_property
    def registry(self) -> RegistryApi:
        return RegistryApi(self.endpoint, backoff=self.backoff)

    @cached_property
    def builder(self) -> builders.Builder:
        return self.builder_override or builders.choose_builder(backoff=self.backoff)

    @cached_property
    def build_slots(self) -> threading.BoundedSemaphore:
        """Taken around each build: concurrent images share the engine and the cores."""
        slots = build_slots(engine=self.builder.capacity, explicit=self.max_builds)
        return threading.BoundedSemaphore(slots)


def build_images(
    aws: AwsContext | None,
    env: EnvConfig,
    request: BuildImages,
    *,
    reporter: Reporter,
    builder: builders.Builder | None = None,
) -> list[ImageResult]:
    """Build, push and verify each image, independent ones at once; see the package docstring."""
    session = _Session(
        aws, reporter, request.registry_override, request.backoff, builder, request.max_builds
    )
    extras = [t for t in (request.commit, *request.extra_tags) if t]
    root = request.root
    for_lambda = lambda_images(env)

    def work(name: str) -> ImageResult:
        image = env.model.images[name]
        record = StepRecord(f"image {name}")
        start = time.monotonic()
        try:
            if request.push:
                result = _publish(session, name, image, root, extras, name in for_lambda, record)
            else:
                result = _build_locally(session, name, image, root, extras, record)
            record.detail = result.as_dict()
            return result
        except BaseException as exc:
            record.status = Status.FAILED
            record.summary = (str(exc).splitlines() or ["failed"])[0]
            raise
        finally:
            record.seconds = time.monotonic() - start
            if request.steps:  # one reporter step per image (the build command)
                reporter.add(record)
            else:  # inside the caller's step: GitHub Actions groups do not nest
                failed = "failed: " if record.status is Status.FAILED else ""
                reporter.line(f"  image {name}: {failed}{record.summary}")

    outcomes = run_each(image_names(env, request.names), work)
    failures = [(name, exc) for name, _, exc in outcomes if exc is not None]
    if failures:
        raise _failure(failures)
    return [result for _, result, _ in outcomes if result is not None]


def _failure(failures: list[tuple[str, BaseException]]) -> BaseException:
    """One failure as it was raised; several as one error naming each image."""
    for _, exc in failures:  # the machine is not ready, or something nobody expected
        if isinstance(exc, DockerUnavailable) or not isinstance(exc, DeployError):
            return exc
    if len(failures) == 1:
        return failures[0][1]
    return ImagesFailed([(name, exc) for name, exc in failures if isinstance(exc, DeployError)])


def _build_locally(
    session: _Session,
    name: str,
    image: Image,
    root: Path,
    extras: list[str],
    record: StepRecord,
) -> ImageResult:
    repository = _repository(image)
    ctx, tag = image_tag(root, image)
    refs = tuple(f"{repository}:{t}" for t in (tag, *extras))
    built = not session.builder.has_image(refs[0])
    if built:
        request = _request(name, image, ctx, refs)
        with session.build_slots:
            session.builder.build(request, push=None, progress=session.reporter.progress)
        record.summary = f"built {refs[0]}"
        record.change(f"built {refs[0]}")
    else:
        record.status = Status.UNCHANGED
        record.summary = f"{refs[0]} already built"
    return ImageResult(
        name=name,
        repository=repository,
        repository_uri=repository,
        tag=tag,
        digest=None,
        uri=refs[0],
        built=built,
        pushed=False,
        tags=tuple(r.rsplit(":", 1)[1] for r in refs),
        platform=image.platform,
    )


def _request(
    name: str, image: Image, ctx: BuildContext, refs: tuple[str, ...]
) -> builders.BuildRequest:
    return builders.BuildRequest(
        name=name,
        context=ctx,
        platform=image.platform,
        build_args=dict(image.build_args),
        target=image.target,
        tags=refs,
        cache_from=tuple(image.cache_from),
        cache_to=tuple(image.cache_to),
    )


def _publish(
    session: _Session,
    name: str,
    image: Image,
    root: Path,
    extras: list[str],
    for_lambda: bool,
    record: StepRecord,
) -> ImageResult:
    repository = _repository(image)
    ctx, tag = image_tag(root, image)
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
        read_config=lambda digest: session.registry.blob(repository, digest),
        platform=image.platform,
        for_lambda=for_lambda,
    )
    tags = (tag, *_add_tags(session, stored, extras))
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
    session: _Session, name: str, image: Image, ctx: BuildContext, repository: str, tag: str
) -> tuple[StoredImage, bool]:
    """The image ECR now has under the tag, and whether this run's push put it there."""
    endpoint = session.endpoint
    ref = f"{endpoint.ref(repository)}:{tag}"
    request = _request(name, image, ctx, (ref,))
    try:
        with session.build_slots:
            session.builder.build(request, push=endpoint, progress=session.reporter.progress)
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
    session: _Session, stored: StoredImage, ref: str, refused: ImageError
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


def _register(session: _Session, repository: str, tag: str, manifest: Manifest) -> None:
    """Sandbox only: tell ECR's control plane about a manifest pushed to the stand-in registry."""
    session.ecr.put_manifest(
        repository,
        tag,
        manifest=manifest.text,
        media_type=manifest.media_type,
        digest=manifest.digest,
    )


def _add_tags(session: _Session, stored: StoredImage, extras: list[str]) -> list[str]:
    """Point extra tags (the git SHA, --tag) at the image through the APIs: no Docker needed.

    Tags are immutable in repositories deploytools creates: one that already names another
    image is left alone, with a warning.
    """
    added = []
    manifest = Manifest(stored.manifest, stored.media_type, stored.digest)
    for extra in extras:
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
