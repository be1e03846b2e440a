"""A Lambda zip WITH its dependencies, installed by pip for the function's
runtime and architecture from PyPI (reachable from this machine), cached by the hash of the
requirements, runtime and architecture, merged into the deterministic zip."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from deploytools.config.model import LambdaPackage
from deploytools.errors import BadInput
from deploytools.steps.targets import lambda_deps
from deploytools.steps.targets.lambda_deps import DependencyUnavailable, find_requirements
from deploytools.steps.targets.lambda_zip import (
    UNZIPPED_LIMIT,
    Dependencies,
    build_package,
    build_zip,
)

HANDLER = "import six\n\ndef handler(event, context):\n    return six.PY3\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user cache folder for this test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "deploytools" / "lambda-dependencies"


def _source(tmp_path: Path, requirements: str) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(HANDLER)
    (source / "requirements.txt").write_text(requirements)
    return source


def _no_pip(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    raise AssertionError(f"pip ran although the cache holds the dependencies: {args}")


@pytest.mark.slow
def test_item_01_zip_holds_its_requirements_same_sha_twice_the_second_from_the_cache(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path, "# the one dependency\nsix==1.16.0\n")
    first = build_zip(
        source, out=tmp_path / "one.zip", dependencies=Dependencies(runtime="python3.12")
    )
    with zipfile.ZipFile(first.path) as archive:
        entries = archive.namelist()
        assert archive.read("six.py").startswith(b"# Copyright (c) 2010-2020 Benjamin Peterson")
    assert {"app.py", "requirements.txt", "six.py", "six-1.16.0.dist-info/METADATA"} <= set(entries)
    assert entries == sorted(entries)
    assert not [name for name in entries if name.endswith(".pyc")]
    assert first.dependencies == "1 requirement(s) from requirements.txt (installed)"
    assert [p.parent for p in cache.glob("*/six.py")] != [], "the cache is not where it belongs"
    assert not (source / ".cache").exists() and sorted(p.name for p in source.iterdir()) == [
        "app.py",
        "requirements.txt",
    ]

    monkeypatch.setattr(lambda_deps, "_run_pip", _no_pip)
    second = build_zip(
        source, out=tmp_path / "two.zip", dependencies=Dependencies(runtime="python3.12")
    )
    assert second.code_sha256 == first.code_sha256
    assert second.path.read_bytes() == first.path.read_bytes()
    assert second.dependencies == "1 requirement(s) from requirements.txt (from the cache)"

    # Another runtime or architecture is another folder: pip runs again (here: refused).
    with pytest.raises(AssertionError, match="pip ran"):
        build_zip(
            source,
            out=tmp_path / "three.zip",
            dependencies=Dependencies(runtime="python3.12", architecture="arm64"),
        )


@pytest.mark.slow
def test_a_requirement_without_a_wheel_names_the_package_and_the_fix(
    tmp_path: Path, cache: Path
) -> None:
    source = _source(tmp_path, "six==1.0.0\n")  # published as a source archive only
    with pytest.raises(DependencyUnavailable) as err:
        build_zip(source, out=tmp_path / "p.zip", dependencies=Dependencies(runtime="python3.11"))
    assert str(err.value) == (
        "requirements.txt: no binary wheel of six==1.0.0 for python3.11 on "
        "manylinux2014_x86_64; pin a version that publishes one (see its files on PyPI), or "
        "deploy the function as a container image built from the runtime image"
    )
    assert err.value.exit_code == 2
    assert not (tmp_path / "p.zip").exists()
    assert not list(cache.iterdir()), "a failed install left a folder in the cache"


def test_item_01_pip_is_asked_for_the_runtime_and_architecture(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip itself is replaced here (it would download): the test reads the arguments."""
    seen: list[list[str]] = []

    def fake_pip(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        seen.append(list(args))
        target = Path(args[args.index("--target") + 1])
        target.mkdir(parents=True)
        (target / "dep.py").write_text("X = 1\n")
        return 0, ""

    monkeypatch.setattr(lambda_deps, "_run_pip", fake_pip)
    source = _source(tmp_path, "dep==1\n")
    build_zip(
        source,
        out=tmp_path / "p.zip",
        dependencies=Dependencies(runtime="python3.12", architecture="arm64"),
    )
    args = seen[0]
    assert args[args.index("--python-version") + 1] == "3.12"
    assert args[args.index("--implementation") + 1] == "cp"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--platform"] == [
        "manylinux2014_aarch64",
        "manylinux_2_28_aarch64",
    ]
    assert "--only-binary=:all:" in args


def test_item_01_the_250_mb_limit_counts_the_dependencies(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip is replaced by one that installs a sparse file just over Lambda's limit."""

    def huge_pip(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        target = Path(args[args.index("--target") + 1])
        target.mkdir(parents=True)
        with (target / "weights.bin").open("wb") as sparse:
            sparse.truncate(UNZIPPED_LIMIT)
        return 0, ""

    monkeypatch.setattr(lambda_deps, "_run_pip", huge_pip)
    source = _source(tmp_path, "torch==2.4.0\n")
    with pytest.raises(BadInput) as err:
        build_zip(source, out=tmp_path / "p.zip")
    assert str(err.value) == (
        f"{source}: the package is 250.0 MB unzipped with 1 requirement(s) from "
        "requirements.txt; Lambda allows 250.0 MB: trim its requirements, exclude more files "
        "or deploy a container image"
    )


def test_requirements_default_to_the_source_folders_own(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    assert find_requirements(source) is None
    (source / "pyproject.toml").write_text(
        '[project]\nname = "api"\ndependencies = ["fastapi>=0.110", "mangum"]\n'
    )
    found = find_requirements(source)
    assert found is not None
    assert (found.origin, found.lines) == (
        "pyproject.toml [project.dependencies]",
        ("fastapi>=0.110", "mangum"),
    )
    (source / "requirements.txt").write_text("# pinned\nsix==1.16.0  # why\n\n")
    found = find_requirements(source)
    assert found is not None and (found.origin, found.lines) == (
        "requirements.txt",
        ("six==1.16.0",),
    )
    named = tmp_path / "deps" / "lambda.txt"
    named.parent.mkdir()
    named.write_text("mangum\n")
    found = find_requirements(source, named)
    assert found is not None and (found.origin, found.lines) == ("lambda.txt", ("mangum",))
    with pytest.raises(BadInput) as err:
        find_requirements(source, tmp_path / "missing.txt")
    assert str(err.value) == (
        f"package.requirements: {tmp_path / 'missing.txt'} does not exist; "
        "name the requirements file relative to deploytools.yml"
    )


def test_a_targets_package_section_names_requirements_relative_to_the_config(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip is replaced: the test reads which file and runtime it was given."""
    seen: list[list[str]] = []

    def fake_pip(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        seen.append(list(args))
        Path(args[args.index("--target") + 1]).mkdir(parents=True)
        return 0, ""

    monkeypatch.setattr(lambda_deps, "_run_pip", fake_pip)
    source = _source(tmp_path, "six==1.16.0\n")
    (tmp_path / "lambda-requirements.txt").write_text("mangum==0.17.0\n")
    package = LambdaPackage(
        source="src", requirements="lambda-requirements.txt", runtime="python3.11"
    )
    built = build_package(tmp_path, package, out=tmp_path / "p.zip")
    assert built.dependencies == "1 requirement(s) from lambda-requirements.txt (installed)"
    listing = Path(seen[0][seen[0].index("-r") + 1])
    assert seen[0][seen[0].index("--python-version") + 1] == "3.11"
    assert listing.name == "requirements.txt" and not listing.exists()  # staged, then removed
    assert source.exists()
