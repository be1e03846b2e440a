"""Step 2 of the pipeline: content tag → skip what ECR has → build → push → verify, each image
at once with the others."""

from __future__ import annotations

import time

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.config.model import Image
from deploytools.errors import DeployError
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.images import builder as builders
from deploytools.steps.images.concurrency import run_each
from deploytools.steps.images.errors import DockerUnavailable, ImagesFailed
from deploytools.steps.images.model import BuildImages, ImageResult
from deploytools.steps.images.plan import image_names, image_tag, lambda_images, repository_of
from deploytools.steps.images.publish import publish
from deploytools.steps.images.session import Session


def build_images(
    aws: AwsContext | None,
    env: EnvConfig,
    request: BuildImages,
    *,
    reporter: Reporter,
    builder: builders.Builder | None = None,
) -> list[ImageResult]:
    """Build, push and verify each image, independent ones at once; see the package docstring."""
    session = Session(
        aws=aws,
        reporter=reporter,
        root=request.root,
        extra_tags=tuple(t for t in (request.commit, *request.extra_tags) if t),
        registry_override=request.registry_override,
        backoff=request.backoff,
        builder_override=builder,
        max_builds=request.max_builds,
    )
    for_lambda = lambda_images(env)

    def work(name: str) -> ImageResult:
        image = env.model.images[name]
        record = StepRecord(f"image {name}")
        start = time.monotonic()
        try:
            if request.push:
                result = publish(session, name, image, for_lambda=name in for_lambda, record=record)
            else:
                result = _build_locally(session, name, image, record)
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


def _build_locally(session: Session, name: str, image: Image, record: StepRecord) -> ImageResult:
    repository = repository_of(image)
    ctx, tag = image_tag(session.root, image)
    refs = tuple(f"{repository}:{t}" for t in (tag, *session.extra_tags))
    built = not session.builder.has_image(refs[0])
    if built:
        session.build(name, image, ctx, refs, push=None)
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
