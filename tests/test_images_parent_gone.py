"""The legacy builder, when another process removes an image while a step uses the layer cache
(the cached parent before the step commits, moby/moby#36901, or an image the cache lookup was
reading; both seen here when a parallel test removed its images): the image is built once more,
and any other failure is reported as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploytools.steps.images.builder import BuildRequest, SdkBuilder
from deploytools.steps.images.errors import BuildFailed
from tests.fixtures.images.apps import build_request

GONE = (
    "failed to export image: failed to set parent sha256:2122b4: "
    "unknown parent image ID sha256:2122b4"
)
LOOKUP = 'unable to find image "sha256:9ed961"'  # a cache lookup met an image being removed


class _Bridge:
    attrs = {"Driver": "bridge"}  # an engine with a bridge: no stand-in bases


class _Networks:
    def list(self) -> list[_Bridge]:
        return [_Bridge()]


class _Api:
    """The engine's build endpoint, answering with one scripted stream a call."""

    def __init__(self, *errors: str) -> None:
        self.errors = list(errors)
        self.builds = 0
        self.tags: list[tuple[str, str, str]] = []

    def build(self, **_: Any) -> Iterator[dict[str, Any]]:
        self.builds += 1
        yield {"stream": "Step 1/2 : FROM scratch\n"}
        yield {"stream": "Step 2/2 : COPY app.py /app/\n"}
        if self.errors:
            message = self.errors.pop(0)
            yield {"errorDetail": {"message": message}, "error": message}
            return
        yield {"aux": {"ID": f"sha256:built{self.builds}"}}

    def tag(self, image: str, repository: str, tag: str) -> None:
        self.tags.append((image, repository, tag))


class _Client:
    def __init__(self, api: _Api) -> None:
        self.api = api
        self.networks = _Networks()


@pytest.fixture
def request_(tmp_path: Path) -> BuildRequest:
    dockerfile = "FROM scratch\nCOPY app.py /app/\n"
    tags = ("app-api:ct-abc", "app-api:release-1")
    return build_request(tmp_path, dockerfile, *tags, files={"app.py": "print(1)\n"})


@pytest.mark.parametrize("error", [GONE, LOOKUP], ids=["parent", "lookup"])
def test_an_image_removed_mid_build_is_built_again(request_: BuildRequest, error: str) -> None:
    api = _Api(error)
    said: list[str] = []
    SdkBuilder(_Client(api)).build(request_, push=None, progress=said.append)
    assert api.builds == 2
    assert api.tags == [("sha256:built2", "app-api", "release-1")]  # the second build's image
    assert "api: an image was removed from the engine mid-build; building again" in said


def test_it_is_built_again_once_only(request_: BuildRequest) -> None:
    api = _Api(GONE, LOOKUP)
    with pytest.raises(BuildFailed, match="unable to find image") as failed:
        SdkBuilder(_Client(api)).build(request_, push=None, progress=lambda _: None)
    assert api.builds == 2 and not api.tags
    assert str(failed.value).startswith("image api: build failed at Step 2/2 : COPY app.py /app/")


def test_any_other_failure_is_not_built_again(request_: BuildRequest) -> None:
    api = _Api("COPY failed: file not found in build context: app.py")
    with pytest.raises(BuildFailed, match="file not found in build context"):
        SdkBuilder(_Client(api)).build(request_, push=None, progress=lambda _: None)
    assert api.builds == 1 and not api.tags
