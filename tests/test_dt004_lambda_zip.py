"""DT004: Lambda zip packages that are too big or carry tests, caches or training code."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploytools.checks import CheckContext, Finding, Severity, run_checks
from deploytools.config.loader import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "dt004"


def dt004(root: Path) -> list[Finding]:
    ctx = CheckContext(root=root, config=load_config(root / "deploytools.yml"))
    return run_checks(ctx, only={"DT004"})


def test_tests_and_training_code_in_the_package_are_found() -> None:
    findings = dt004(FIXTURES / "dirty")
    assert [(f.file, f.line, f.severity, f.message, f.fix) for f in findings] == [
        (
            "deploytools.yml",
            9,
            Severity.WARNING,
            "targets.api: the built-in excludes leave out of the zip package of src: "
            "tests/handler_cases.py",
            "name them in targets.api.package.excludes to say they stay out; rename a runtime "
            "module that only looks like a test",
        ),
        (
            "deploytools.yml",
            9,
            Severity.ERROR,
            "targets.api: the zip package of src includes tests: testing/helpers.py",
            "add 'testing/' to targets.api.package.excludes",
        ),
        (
            "deploytools.yml",
            9,
            Severity.ERROR,
            "targets.api: the zip package of src includes training code: notebooks/explore.py",
            "add 'notebooks/' to targets.api.package.excludes",
        ),
        (
            "deploytools.yml",
            9,
            Severity.WARNING,
            "targets.api: the zip package of src includes training code: train.py",
            "add 'train.py' to targets.api.package.excludes",
        ),
    ]


def test_what_the_excludes_cover_is_fine() -> None:
    assert dt004(FIXTURES / "clean") == []


def test_caches_are_found_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean", root)
    for name in ("a", "b", "c", "d", "e"):
        cached = root / "src" / ".cache" / f"{name}.bin"
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(b"x")

    (finding,) = dt004(root)

    assert finding.message == (
        "targets.api: the zip package of src includes caches: .cache/a.bin, .cache/b.bin, "
        ".cache/c.bin and 2 more"
    )
    assert finding.fix == "add '.cache/' to targets.api.package.excludes"


def test_over_250_mb_unzipped_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean", root)
    with (root / "src" / "model.bin").open("wb") as sparse:
        sparse.truncate(251 * 1024 * 1024)  # sparse: the size counts, the disk stays free

    (finding,) = dt004(root)

    assert finding.severity == Severity.ERROR
    assert finding.line == 9
    assert finding.message == (
        "targets.api: the zip package of src is 251.0 MB unzipped; Lambda allows 250.0 MB "
        "(largest: model.bin (251.0 MB), app/handler.py (60 B))"
    )
    assert "deploy a container image" in finding.fix
    (root / "src" / "model.bin").unlink()
    assert dt004(root) == []


def test_image_targets_and_missing_sources_are_not_dt004s_business(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "dirty", root)
    loaded = load_config(root / "deploytools.yml")
    shutil.rmtree(root / "src")
    assert run_checks(CheckContext(root=root, config=loaded), only={"DT004"}) == []
