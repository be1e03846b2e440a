"""The adoption caller (examples/workflows/push-to-deploy.yml, the README's snippet) run by act
on a push: the reusable deploy workflow installs deploytools through action.yml and deploys
the tastetrend-etl example into the sandbox; a second push of the same commit changes nothing.
(An older commit's push and a rollback dispatch are in test_act_older_commit.py and
test_act_rollback.py, so that act runs spread over the test workers.)

Real parts: act executes the workflow files, the composite action installs from
requirements.lock, terraform applies against the sandbox, the release lands in the sandbox's
SSM. Stand-ins (tests/actions/) replace only the third-party actions that would download.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.act_runner import ActRun, make_app_repository, run_act, sandbox_for_act

# act runs whole jobs (Terraform against the sandbox): minutes on a busy 2-core machine.
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.registry,
    pytest.mark.slow(minutes=4),
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
    work = tmp_path_factory.mktemp("act")
    with sandbox_for_act(work) as env:
        app = make_app_repository(work)
        first = run_act(app, "push", "push-to-deploy.yml", env=env, job="dev")
        yield Adopter(app, env, first)


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
