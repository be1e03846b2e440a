"""The content tag: same inputs → same tag anywhere; any change to a build input → a new tag."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deploytools.lib.build_context import load_context
from deploytools.steps.images.content_tag import content_tag

FILES = {
    "Dockerfile": "FROM scratch\nCOPY . /app/\n",
    ".dockerignore": "*.log\ncache/\n!cache/keep.txt\n",
    "app/main.py": "print('hello')\n",
    "app/util.py": "X = 1\n",
    "run.sh": "#!/bin/sh\necho hi\n",
    "debug.log": "noise\n",
    "cache/blob.bin": "big\n",
    "cache/keep.txt": "keep\n",
}


def make_context(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def tag(root: Path, **overrides: object) -> str:
    options: dict[str, object] = {"build_args": {}, "platform": "linux/amd64", "target": None}
    options.update(overrides)
    ctx = load_context(root, root / "Dockerfile")
    return content_tag(ctx, **options)  # type: ignore[arg-type]


@pytest.fixture
def context(tmp_path: Path) -> Path:
    return make_context(tmp_path / "ctx")


def test_the_tag_looks_like_a_docker_tag(context: Path) -> None:
    value = tag(context)
    assert value.startswith("ct-") and len(value) == 27
    assert tag(context) == value


def test_same_inputs_elsewhere_with_other_mtimes_give_the_same_tag(
    context: Path, tmp_path: Path
) -> None:
    other = make_context(tmp_path / "elsewhere" / "checkout")
    for path in other.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    assert tag(other) == tag(context)


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit a sent file": lambda root: (root / "app/main.py").write_text("print('bye')\n"),
    "add a sent file": lambda root: (root / "app/new.py").write_text(""),
    "remove a sent file": lambda root: (root / "app/util.py").unlink(),
    "rename a sent file": lambda root: (root / "app/util.py").rename(root / "app/utils.py"),
    "make a file executable": lambda root: (root / "run.sh").chmod(0o755),
    "add an empty folder": lambda root: (root / "empty").mkdir(),
    # "*.log" only matches at the top level, as in Docker: app/trace.log is sent
    "add a nested .log file": lambda root: (root / "app/trace.log").write_text("x"),
    "edit a re-included file": lambda root: (root / "cache/keep.txt").write_text("changed\n"),
    "edit the Dockerfile": lambda root: (root / "Dockerfile").write_text("FROM scratch\n"),
    "edit .dockerignore": lambda root: (root / ".dockerignore").write_text("*.log\n"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_input_changes_the_tag(context: Path, change: str) -> None:
    before = tag(context)
    CHANGES[change](context)
    assert tag(context) != before


IGNORED: dict[str, Callable[[Path], None]] = {
    "edit an ignored file": lambda root: (root / "debug.log").write_text("more noise\n"),
    "add an ignored file": lambda root: (root / "trace.log").write_text("x"),
    "edit a file in an ignored folder": lambda root: (root / "cache/blob.bin").write_text("y"),
    "touch a sent file": lambda root: os.utime(root / "app/main.py", (5, 5)),
    "chmod without the executable bit": lambda root: (root / "app/main.py").chmod(0o600),
}


@pytest.mark.parametrize("change", IGNORED)
def test_what_docker_does_not_send_does_not_change_the_tag(context: Path, change: str) -> None:
    before = tag(context)
    IGNORED[change](context)
    assert tag(context) == before


def test_build_args_platform_and_target_are_inputs(context: Path) -> None:
    base = tag(context)
    assert tag(context, build_args={"MODEL": "a"}) != base
    assert tag(context, build_args={"MODEL": "a"}) != tag(context, build_args={"MODEL": "b"})
    assert tag(context, build_args={"A": "1", "B": "2"}) == tag(
        context, build_args={"B": "2", "A": "1"}
    )
    assert tag(context, platform="linux/arm64") != base
    assert tag(context, target="runtime") != base


def test_a_symlink_is_hashed_by_its_target(context: Path) -> None:
    (context / "current").symlink_to("app/main.py")
    before = tag(context)
    (context / "current").unlink()
    (context / "current").symlink_to("app/util.py")
    assert tag(context) != before


def test_a_dockerfile_outside_the_context_is_an_input(context: Path, tmp_path: Path) -> None:
    outside = tmp_path / "docker" / "app.Dockerfile"
    outside.parent.mkdir()
    shutil.copy(context / "Dockerfile", outside)
    ctx = load_context(context, outside)
    before = content_tag(ctx, build_args={}, platform="linux/amd64", target=None)
    outside.write_text("FROM scratch\nCOPY app /app\n")
    ctx = load_context(context, outside)
    assert content_tag(ctx, build_args={}, platform="linux/amd64", target=None) != before
