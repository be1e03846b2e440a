"""The adoption caller (examples/workflows/push-to-deploy.yml, the README's snippet) run by act
on a push: the reusable deploy workflow installs deploytools through action.yml and deploys
the tastetrend-etl example into the sandbox; a second push of the same commit changes nothing.

Real parts: act executes the workflow files, the composite action installs from
requirements.lock, terraform applies against the sandbox, the release lands in the sandbox's
SSM. Stand-ins (tests/actions/) replace only the third-party actions that would download.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests import support
from tests.act_runner import ActRun, commit, git, make_app_repository, run_act

# Each act run installs the action and runs whole jobs: minutes on a busy 2-core machine.
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.registry,
    pytest.mark.slow,
    pytest.mark.timeout(3000),
]


@dataclass
class Adopter:
    app: Path
    env: dict[str, str]
    first: ActRun

    def ssm(self) -> object:
        state = json.loads((Path(self.env["DEPLOYTOOLS_SANDBOX_DIR"]) / "state.json").read_text())
        return boto3.client("ssm", endpoint_url=state["endpoints"]["ssm"], region_name="us-east-1")

    def push(self) -> ActRun:
        return run_act(self.app, "push", "push-to-deploy.yml", env=self.env, job="dev")


@pytest.fixture(scope="module")
def adopter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Adopter]:
    support.require_registry()
    support.requires("terraform")
    work = tmp_path_factory.mktemp("act")
    env = {
        "DEPLOYTOOLS_SANDBOX_DIR": str(work / "sandbox"),
        "DOCKER_HOST": support.DOCKER_HOST,
        "TMPDIR": str(work),
    }
    full = {**os.environ, **env}
    up = subprocess.run(
        [sys.executable, "-m", "deploytools", "sandbox", "up"],
        env=full, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert up.returncode == 0, up.stdout + up.stderr
    app = make_app_repository(work)
    try:
        first = run_act(app, "push", "push-to-deploy.yml", env=env, job="dev")
        yield Adopter(app, env, first)
    finally:
        subprocess.run(
            [sys.executable, "-m", "deploytools", "sandbox", "down"],
            env=full, capture_output=True, check=False, timeout=120,
        )  # fmt: skip


def test_a_push_deploys_the_app_and_records_the_release(adopter: Adopter) -> None:
    assert adopter.first.returncode == 0, adopter.first.log[-6000:]
    lines = adopter.first.step_lines()
    deployed = [line for line in lines if line.startswith("deployed dev: release ")]
    assert len(deployed) == 1, "\n".join(lines[-60:])
    release = deployed[0].removeprefix("deployed dev: release ")
    # The plan job ran before the deploy job, with the plan role; the deploy job with the
    # deploy role, and session names CloudTrail can lead back to the run.
    log = adopter.first.log
    assert log.index("Plan: 24 to add") < log.index("Applied: 24 to add")
    role = "role arn:aws:iam::123456789012:role"
    assert f"{role}/deploytools-dev-plan session deploytools-plan-" in log
    assert f"{role}/deploytools-dev session deploytools-deploy-" in log
    names = adopter.ssm().get_parameters_by_path(  # type: ignore[attr-defined]
        Path="/deploytools/tastetrend/dev/", Recursive=True
    )["Parameters"]
    assert any(release in p["Name"] or release in p["Value"] for p in names), names


def test_a_second_push_of_the_same_commit_changes_nothing(adopter: Adopter) -> None:
    again = adopter.push()
    assert again.returncode == 0, again.log[-6000:]
    assert "No changes: the infrastructure matches the configuration" in again.log
    assert "(already live)" in again.log


def test_an_older_commit_is_refused_and_a_dispatch_rolls_back(adopter: Adopter) -> None:
    """Push a newer commit (new Lambda code), then the first commit again: refused, naming
    both; then workflow_dispatch with rollback: the release before the live one is restored."""
    app = adopter.app
    first = git(app, "rev-parse", "HEAD")
    handler = app / "src" / "etl" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a newer commit\n")
    newer = commit(app, "newer")
    pushed = adopter.push()
    assert pushed.returncode == 0, pushed.log[-6000:]
    assert "deployed dev: release r-" in pushed.log and f"-{newer[:7]}" in pushed.log

    git(app, "tag", "newer", newer)  # keeps the newer commit fetchable, as on GitHub
    git(app, "checkout", "-q", "-B", "main", first)
    older = adopter.push()
    assert older.returncode != 0
    assert (
        f"error: refusing to deploy {first[:12]}: it is older than {newer[:12]}, the commit of "
        "the live release r-"
    ) in older.log
    assert "deploy a newer commit, or pass --allow-older" in older.log

    git(app, "checkout", "-q", "-B", "main", newer)
    rolled = run_act(
        app, "workflow_dispatch", "manual-deploy.yml", env=adopter.env, job="rollback",
        extra=("--input", "environment=dev", "--input", "rollback=true"),
    )  # fmt: skip
    assert rolled.returncode == 0, rolled.log[-6000:]
    assert "rolled back dev to r-" in rolled.log
    line = next(x for x in rolled.step_lines() if x.startswith("rolled back dev to "))
    restored = line.split(" to ", 1)[1].split(":", 1)[0]  # r-<time>-<sha7>-<suffix>
    assert restored.rsplit("-", 1)[0].endswith(f"-{first[:7]}"), line
