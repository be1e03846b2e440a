"""Images build at once, for real (the Docker engine, the loopback registry, moto's ECR): the
same digests as one at a time, a failure cancels no other image, and two runs racing for one
content tag agree or say clearly that they do not."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.errors import BadInput
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter
from deploytools.steps.images import (
    BuildFailed,
    BuildImages,
    ImageResult,
    ImagesFailed,
    PushFailed,
    TagTaken,
    build_images,
)
from deploytools.steps.images.builder import BuildRequest, Progress, SdkBuilder
from deploytools.steps.images.concurrency import SETTING, build_slots, cores
from deploytools.steps.images.ecr import Ecr
from deploytools.steps.images.registry import Endpoint
from tests import support
from tests.fixtures.images.apps import env_config, make_app

FAST = Backoff(attempts=2, first=0.01)
FOUR = """
images:
  one: {context: ., dockerfile: Dockerfile, build_args: {FLAVOR: one}}
  two: {context: ., dockerfile: Dockerfile, build_args: {FLAVOR: two}}
  three: {context: ., dockerfile: Dockerfile, build_args: {FLAVOR: three}}
  four: {context: ., dockerfile: Dockerfile, build_args: {FLAVOR: four}}
"""


class OverlapBuilder:
    """The real legacy builder, noting how many builds ran at the same time."""

    def __init__(self, inner: SdkBuilder) -> None:
        self.inner = inner
        self.name = inner.name
        self.running = 0
        self.peak = 0
        self.built: list[str] = []
        self._lock = threading.Lock()

    def build(self, request: BuildRequest, *, push: Endpoint | None, progress: Progress) -> None:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.built.append(request.name)
        try:
            self.inner.build(request, push=push, progress=progress)
        finally:
            with self._lock:
                self.running -= 1

    def has_image(self, ref: str) -> bool:
        return self.inner.has_image(ref)

    def image_id(self, ref: str) -> str | None:
        return self.inner.image_id(ref)

    def capacity(self) -> int:
        return self.inner.capacity()


def unique_chain(root: Path, nonce: str) -> None:
    """A first build step no other test's (nor a parallel run's) image has: the engine's
    layer cache, which makes the legacy builder's output repeatable, is then this test's."""
    dockerfile = root / "Dockerfile"
    head, rest = dockerfile.read_text().split("\n", 1)
    dockerfile.write_text(f"{head}\nLABEL deploytools.test={nonce}\n{rest}")


def four_image_app(tmp_path: Path, project: str, nonce: str) -> Path:
    root = make_app(tmp_path / project, project=project)
    unique_chain(root, nonce)
    config = root / "deploytools.yml"
    head = config.read_text().split("images:")[0]
    config.write_text(head + FOUR.lstrip())
    return root


@pytest.fixture
def projects(docker_engine: Any) -> Iterator[list[str]]:
    """Project names for this test; their images leave the engine afterwards."""
    import uuid

    names = [f"conc{uuid.uuid4().hex[:8]}" for _ in range(2)]
    yield names
    support.remove_images_tagged(docker_engine, *names)


def publish(
    aws: AwsContext, root: Path, registry: str, builder: Any, out: io.StringIO, **options: Any
) -> list[ImageResult]:
    request = BuildImages(root=root, registry_override=registry, backoff=FAST, **options)
    reporter = Reporter(out=out, err=io.StringIO())
    return build_images(aws, env_config(root), request, reporter=reporter, builder=builder)


def test_four_images_at_once_have_the_digests_of_one_at_a_time(
    tmp_path: Path,
    moto_server_aws: AwsContext,
    registry: str,
    docker_engine: Any,
    projects: list[str],
) -> None:
    """One at a time first: the legacy builder stamps each new layer with the time, so the
    digests repeat only through the engine's layer cache, which concurrent builds of shared
    steps would fill twice. The run at once then builds (from that cache) and pushes 4 images
    to 4 new repositories, in as many threads as there are build slots."""
    serial = OverlapBuilder(SdkBuilder(docker_engine, backoff=FAST))
    first = publish(
        moto_server_aws,
        four_image_app(tmp_path, projects[0], projects[0]),
        registry,
        serial,
        io.StringIO(),
        max_builds=1,
    )
    at_once = OverlapBuilder(SdkBuilder(docker_engine, backoff=FAST))
    out = io.StringIO()
    again = publish(
        moto_server_aws, four_image_app(tmp_path, projects[1], projects[0]), registry, at_once, out
    )
    assert [r.name for r in first] == ["one", "two", "three", "four"]  # the config's order
    assert [r.digest for r in first] == [r.digest for r in again]
    assert len({r.digest for r in first}) == 4 and all(r.pushed for r in first)
    assert sorted(at_once.built) == sorted(serial.built) == ["four", "one", "three", "two"]
    assert serial.peak == 1
    assert at_once.peak == min(cores(), docker_engine.info()["NCPU"], 4)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("  image ")]
    assert len(lines) == 4 and all("built and pushed" in line for line in lines)


class SeparatePushBuilder(OverlapBuilder):
    """Pushes as a step of its own, as the legacy builder does; each push waits (a minute at
    most) until every image's build has begun, which only happens when no build slot is held
    through a push."""

    def __init__(self, inner: SdkBuilder, images: int) -> None:
        super().__init__(inner)
        self.images = images
        self.all_began = threading.Event()
        self.pushed_after_all_began: list[bool] = []

    def build(self, request: BuildRequest, *, push: Endpoint | None, progress: Progress) -> None:
        assert push is None  # the run pushes through push(), outside the build slot
        super().build(request, push=None, progress=progress)
        if len(self.built) == self.images:
            self.all_began.set()

    def push(self, ref: str, *, endpoint: Endpoint, progress: Progress) -> None:
        self.pushed_after_all_began.append(self.all_began.wait(60))
        self.inner.push(ref, endpoint=endpoint, progress=progress)


def test_a_push_holds_no_build_slot(
    tmp_path: Path,
    moto_server_aws: AwsContext,
    registry: str,
    docker_engine: Any,
    projects: list[str],
) -> None:
    """One build slot, two images: the second builds while the first one's push waits."""
    builder = SeparatePushBuilder(SdkBuilder(docker_engine, backoff=FAST), images=2)
    root = four_image_app(tmp_path, projects[0], projects[0])
    results = publish(
        moto_server_aws, root, registry, builder, io.StringIO(), max_builds=1, names=["one", "two"]
    )
    assert builder.peak == 1
    assert builder.pushed_after_all_began == [True, True]
    assert all(r.pushed for r in results)


def with_broken(root: Path, *names: str) -> Path:
    """The app with these images' Dockerfile replaced by one whose COPY fails."""
    (root / "Broken.Dockerfile").write_text("FROM scratch\nCOPY missing.txt /missing.txt\n")
    config = root / "deploytools.yml"
    text = config.read_text()
    for name in names:
        text = text.replace(
            f"{{context: ., dockerfile: Dockerfile, build_args: {{FLAVOR: {name}}}}}",
            "{context: ., dockerfile: Broken.Dockerfile}",
        )
    config.write_text(text)
    return root


def test_a_failing_image_cancels_none_of_the_others(
    tmp_path: Path,
    moto_server_aws: AwsContext,
    registry: str,
    docker_engine: Any,
    projects: list[str],
) -> None:
    root = with_broken(four_image_app(tmp_path, projects[0], projects[0]), "two")
    out = io.StringIO()
    builder = OverlapBuilder(SdkBuilder(docker_engine, backoff=FAST))
    with pytest.raises(BuildFailed) as failed:
        publish(moto_server_aws, root, registry, builder, out)
    assert str(failed.value).startswith("image two: build failed at Step 2/2 : COPY missing.txt")
    ecr = Ecr(moto_server_aws.client("ecr"))
    env = env_config(root)
    for name in ("one", "three", "four"):
        repository = env.model.images[name].repository
        assert repository and ecr.repository(repository) is not None
        assert [
            i["imageTags"]
            for i in ecr.client.describe_images(repositoryName=repository)["imageDetails"]
        ] != []
    lines = sorted(line for line in out.getvalue().splitlines() if line.startswith("  image "))
    assert len(lines) == 4
    assert lines[3].startswith("  image two: failed: image two: build failed at Step 2/2")


def test_two_failing_images_are_reported_each(
    tmp_path: Path,
    moto_server_aws: AwsContext,
    registry: str,
    docker_engine: Any,
    projects: list[str],
) -> None:
    root = with_broken(four_image_app(tmp_path, projects[0], projects[0]), "two", "four")
    builder = OverlapBuilder(SdkBuilder(docker_engine, backoff=FAST))
    with pytest.raises(ImagesFailed) as failed:
        publish(moto_server_aws, root, registry, builder, io.StringIO())
    lines = str(failed.value).splitlines()
    assert lines[0] == "2 images failed:"
    assert lines[1].startswith("  image two: build failed at Step 2/2 : COPY missing.txt")
    assert any(line.startswith("  image four: build failed at Step 2/2") for line in lines)
    assert failed.value.exit_code == 1


class RacedBuilder(OverlapBuilder):
    """Another run publishes the same content tag while this one builds it. Then, as ECR's
    immutable tag would (the loopback registry has no such rule, so this is simulated: raised
    here), the push is refused; `build_args` changes what this run builds."""

    def __init__(
        self, inner: SdkBuilder, winner: Callable[[], object], build_args: dict[str, str]
    ) -> None:
        super().__init__(inner)
        self.winner = winner
        self.build_args = build_args

    def build(self, request: BuildRequest, *, push: Endpoint | None, progress: Progress) -> None:
        self.winner()
        changed = replace(request, build_args={**request.build_args, **self.build_args})
        self.inner.build(changed, push=None, progress=progress)
        raise PushFailed(f"push {request.tags[0]} refused by the registry: tag invalid")


def race(
    tmp_path: Path,
    aws: AwsContext,
    registry: str,
    docker_engine: Any,
    project: str,
    build_args: dict[str, str],
) -> tuple[list[ImageResult], Any]:
    root = make_app(tmp_path, project=project)
    unique_chain(root, project)
    winner: list[ImageResult] = []

    def win() -> None:
        inner = OverlapBuilder(SdkBuilder(docker_engine, backoff=FAST))
        winner.extend(publish(aws, root, registry, inner, io.StringIO(), names=["fn"]))

    loser = RacedBuilder(SdkBuilder(docker_engine, backoff=FAST), win, build_args)
    return winner, lambda: publish(aws, root, registry, loser, io.StringIO(), names=["fn"])


def test_the_loser_of_a_race_for_one_content_tag_takes_the_same_image(
    tmp_path: Path,
    moto_server_aws: AwsContext,
    registry: str,
    docker_engine: Any,
    projects: list[str],
) -> None:
    winner, lose = race(tmp_path, moto_server_aws, registry, docker_engine, projects[0], {})
    (result,) = lose()
    assert result.digest == winner[0].digest and result.tag == winner[0].tag
    assert not result.pushed


def test_the_loser_of_a_race_with_another_image_is_told_so(
    tmp_path: Path,
    moto_server_aws: AwsContext,
    registry: str,
    docker_engine: Any,
    projects: list[str],
) -> None:
    winner, lose = race(
        tmp_path, moto_server_aws, registry, docker_engine, projects[0], {"FLAVOR": "x"}
    )
    with pytest.raises(TagTaken) as taken:
        lose()
    message = str(taken.value)
    repository, tag = winner[0].repository, winner[0].tag
    assert message.startswith(
        f"ECR {repository}:{tag} was pushed by another run meanwhile, as another image "
        "(its config sha256:"
    )
    assert message.endswith(
        "); tags are immutable, nothing was overwritten: run again to deploy the image ECR has"
    )


def test_the_build_slots_are_the_smallest_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTING, raising=False)
    assert build_slots(engine=lambda: 64, explicit=None) == cores()
    assert build_slots(engine=lambda: 1, explicit=None) == 1
    assert build_slots(engine=lambda: 64, explicit=1) == 1
    monkeypatch.setenv(SETTING, "1")
    assert build_slots(engine=lambda: 64, explicit=None) == 1
    monkeypatch.setenv(SETTING, "many")
    with pytest.raises(BadInput) as bad:
        build_slots(engine=lambda: 64, explicit=None)
    assert str(bad.value) == f"{SETTING} must be a whole number of 1 or more, got 'many'"
