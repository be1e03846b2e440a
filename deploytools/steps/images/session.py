"""What the images of one run share: ECR, the login, the registry API, the builder and its
build slots."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from deploytools.aws import AwsContext
from deploytools.config.model import Image
from deploytools.errors import BadInput
from deploytools.lib.build_context import BuildContext
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter
from deploytools.steps.images import builder as builders
from deploytools.steps.images.concurrency import build_slots
from deploytools.steps.images.ecr import Ecr
from deploytools.steps.images.registry import Endpoint, RegistryApi


@dataclass
class Session:
    """Each connection is made on first use: a run whose images ECR has never logs in."""

    aws: AwsContext | None
    reporter: Reporter
    root: Path  # the folder of deploytools.yml: contexts and Dockerfiles are relative to it
    extra_tags: tuple[str, ...]  # pointed at each published image: the commit, --tag
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

    def build(
        self,
        name: str,
        image: Image,
        ctx: BuildContext,
        refs: tuple[str, ...],
        *,
        push: Endpoint | None,
    ) -> None:
        """Build `refs` (the first is the content tag) in one of the run's build slots, then
        push the first to `push`. Where the builder pushes as a step of its own, the push runs
        outside the slot: an upload mostly waits on the registry, and holding the slot through
        it kept the next image from building."""
        request = builders.BuildRequest(
            name=name,
            context=ctx,
            platform=image.platform,
            build_args=dict(image.build_args),
            target=image.target,
            tags=refs,
            cache_from=tuple(image.cache_from),
            cache_to=tuple(image.cache_to),
        )
        builder = self.builder
        pusher = builder if isinstance(builder, builders.PushesAfterBuilding) else None
        with self.build_slots:
            builder.build(request, push=None if pusher else push, progress=self.reporter.progress)
        if pusher is not None and push is not None:
            pusher.push(refs[0], endpoint=push, progress=self.reporter.progress)
