"""The reference Dockerfiles under images/ pass DT001 and DT002."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploytools.checks import run_checks
from deploytools.checks.base import CheckContext
from deploytools.config import load_config
from deploytools.lib.build_context import load_context

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "images"
CONFIG = """project: reference
environments:
  dev:
    account_id: "123456789012"
images:
  lambda: {{context: {images}/lambda, dockerfile: {images}/lambda/Dockerfile}}
  api: {{context: {images}/api, dockerfile: {images}/api/Dockerfile}}
  training: {{context: {images}/training, dockerfile: {images}/training/Dockerfile}}
targets:
  predict: {{type: lambda, image: lambda}}
  web: {{type: ecs, cluster: main, image: api}}
  k8s: {{type: eks, cluster: main, image: api}}
  train: {{type: batch, image: training}}
"""


def test_as_a_project_would_use_them(tmp_path: Path) -> None:
    """A deploytools.yml that runs each image where it belongs (Lambda, ECS, EKS, Batch)."""
    # A copy: a config may only name paths inside its own repository. The runner image (whose
    # context is this whole repository) is covered by test_found_without_a_config.
    shutil.copytree(IMAGES, tmp_path / "images")
    config = tmp_path / "deploytools.yml"
    config.write_text(CONFIG.format(images="images"))
    ctx = CheckContext(root=tmp_path, config=load_config(config))
    assert run_checks(ctx, only={"DT001", "DT002"}) == []


def test_found_without_a_config() -> None:
    """`deploytools check` at the repository root: contexts inferred, no finding in images/."""
    findings = run_checks(CheckContext(root=REPO), only={"DT001", "DT002"})
    assert [f for f in findings if f.file.startswith("images/")] == []


@pytest.mark.parametrize(
    ("image", "context", "expected"),
    [
        ("lambda", IMAGES / "lambda", {"Dockerfile", "requirements.txt", "app/handler.py"}),
        ("training", IMAGES / "training", {"Dockerfile", "requirements.txt", "train/__main__.py"}),
    ],
)
def test_the_context_sends_only_what_the_image_needs(
    image: str, context: Path, expected: set[str]
) -> None:
    sent = set(load_context(context, IMAGES / image / "Dockerfile").files)
    assert expected <= sent
    assert not {f for f in sent if f.endswith((".pyc", ".md")) or "__pycache__" in f}


def test_the_runner_context_is_the_package_only() -> None:
    sent = load_context(REPO, IMAGES / "runner" / "Dockerfile").files
    assert "pyproject.toml" in sent and "deploytools/cli.py" in sent
    assert all(f in ("pyproject.toml", "README.md") or f.startswith("deploytools/") for f in sent)
    assert not [f for f in sent if "__pycache__" in f]
