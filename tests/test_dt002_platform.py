"""DT002: Lambda/ECS images not built for linux/amd64; workflows that build with provenance on."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks import run_checks
from deploytools.checks.base import CheckContext, Finding
from deploytools.config import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "dt002"
RUN_MESSAGE = (
    "docker buildx build without --provenance=false pushes an OCI index with attestations, "
    "which Lambda rejects"
)
ACTION_MESSAGE = (
    "docker/build-push-action without `provenance: false` pushes an OCI index with "
    "attestations, which Lambda rejects"
)


def dt002(root: Path) -> list[Finding]:
    config = root / "deploytools.yml"
    ctx = CheckContext(root=root, config=load_config(config) if config.exists() else None)
    return run_checks(ctx, only={"DT002"})


def test_negative_fixture_is_clean() -> None:
    """--provenance=false / false, provenance: false, BUILDX_NO_DEFAULT_ATTESTATIONS, plain
    docker build, $BUILDPLATFORM in a build stage, and an arm64 image used only by Batch."""
    assert dt002(FIXTURES / "negative") == []


def test_positive_fixture() -> None:
    found = [(f.file, f.line, f.message) for f in dt002(FIXTURES / "positive")]
    assert found == [
        (".github/workflows/build.yml", 9, RUN_MESSAGE),
        (".github/workflows/build.yml", 13, RUN_MESSAGE),  # the continued command's first line
        (".github/workflows/build.yml", 16, ACTION_MESSAGE),
        (".github/workflows/build.yml", 20, ACTION_MESSAGE),  # provenance: true
        (
            "deploytools.yml",
            9,
            "image 'fn' is built for linux/arm64, but lambda target 'predict' runs it",
        ),
        (
            "images/api/Dockerfile",
            4,
            "the final stage of image 'api' is FROM --platform=linux/arm64, but ecs target "
            "'web' runs it on linux/amd64",
        ),
    ]


def test_fixes() -> None:
    fixes = {(f.file, f.line): f.fix for f in dt002(FIXTURES / "positive")}
    assert fixes[(".github/workflows/build.yml", 9)].startswith(
        "Add --provenance=false (and --sbom=false, --platform linux/amd64) to docker buildx build"
    )
    assert fixes[(".github/workflows/build.yml", 16)] == (
        "Add `provenance: false` (and `sbom: false`) under `with:` of docker/build-push-action."
    )
    assert fixes[("deploytools.yml", 9)] == "Set images.fn.platform: linux/amd64 (the default)."
