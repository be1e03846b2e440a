"""scripts/dry-run runs exactly the deploytools commands of the push-to-deploy path, in order."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.support import REPO_ROOT

DEPLOY_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "deploytools-deploy.yml"
DRY_RUN = REPO_ROOT / "scripts" / "dry-run"
WORKFLOW_COMMAND = re.compile(r'--config "\$CONFIG" ([a-z-]+) --env "\$\w+"')
DRY_RUN_COMMAND = re.compile(r'^dt ([a-z-]+) --env "\$ENV"', re.MULTILINE)


def job_order(jobs: dict[str, dict[str, object]]) -> list[str]:
    """The jobs in an order that respects `needs:`."""
    done: list[str] = []
    while len(done) < len(jobs):
        for name, job in jobs.items():
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else list(needs)  # type: ignore[arg-type]
            if name not in done and all(n in done for n in needs):
                done.append(name)
    return done


def workflow_sequence(path: Path) -> list[str]:
    jobs = yaml.safe_load(path.read_text())["jobs"]
    commands = []
    for name in job_order(jobs):
        for step in jobs[name]["steps"]:
            commands += WORKFLOW_COMMAND.findall(step.get("run", ""))
    return commands


def dry_run_sequence(path: Path) -> list[str]:
    return DRY_RUN_COMMAND.findall(path.read_text())


def test_the_dry_run_runs_the_push_to_deploy_commands_in_order() -> None:
    assert workflow_sequence(DEPLOY_WORKFLOW) == ["plan", "deploy"]
    assert dry_run_sequence(DRY_RUN) == workflow_sequence(DEPLOY_WORKFLOW)


def test_the_comparison_notices_a_difference(tmp_path: Path) -> None:
    changed = tmp_path / "dry-run"
    changed.write_text(DRY_RUN.read_text().replace('dt plan --env "$ENV"', "dt check"))
    assert dry_run_sequence(changed) != workflow_sequence(DEPLOY_WORKFLOW)


def test_the_dry_run_refuses_a_missing_config(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(DRY_RUN), "--config", str(tmp_path / "nope.yml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"dry-run: {tmp_path / 'nope.yml'}: no such file; pass --config PATH\n"
