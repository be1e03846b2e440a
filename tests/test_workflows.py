"""The reusable workflows and their callers: actionlint, zizmor, and our own conventions."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
REUSABLE = [w for w in WORKFLOWS if w.name.startswith("deploytools-")]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_there_are_workflows() -> None:
    names = {w.name for w in WORKFLOWS}
    assert {"push-to-deploy.yml", "manual-deploy.yml", "pr-plan.yml", "ci.yml"} <= names
    assert len(REUSABLE) == 3


def test_actionlint(actionlint_bin: Path) -> None:
    result = subprocess.run(
        [str(actionlint_bin), *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor(zizmor_bin: Path) -> None:
    result = subprocess.run(
        [str(zizmor_bin), "--offline", "--config", ".github/zizmor.yml", ".github/workflows"],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_conventions(path: Path) -> None:
    """Top-level read-only permissions, timeouts, pinned actions, no ${{ }} inside run:."""
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():  # type: ignore[attr-defined]
        if "uses" in job:  # a call of a reusable workflow: the callee sets timeouts
            continue
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{path.name}: {step} uses ${{ }} in run:"
            if "uses" in step:
                line = next(t for t in path.read_text().splitlines() if step["uses"] in t)
                assert PINNED.match(line.split("uses: ", 1)[1].strip()), line
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", REUSABLE, ids=lambda p: p.name)
def test_reusable_inputs_are_typed_and_described(path: Path) -> None:
    call = load(path)["on"]["workflow_call"]  # type: ignore[index]
    for name, spec in call["inputs"].items():
        assert spec.get("type") and spec.get("description"), f"{path.name}: input {name}"
    assert "Usage" in path.read_text().split("name:", 1)[0]


def test_deploys_never_cancel_in_progress() -> None:
    deploy = load(REPO_ROOT / ".github" / "workflows" / "deploytools-deploy.yml")
    assert deploy["concurrency"]["cancel-in-progress"] is False  # type: ignore[index]
    assert str(deploy["concurrency"]["group"]).startswith("deploytools-deploy-")  # type: ignore[index]
