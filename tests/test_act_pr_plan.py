"""The adoption caller examples/workflows/pr-plan.yml run by act on a pull_request event: the
check job hands SARIF to (the stand-in of) upload-sarif, the plan job plans tastetrend-etl
against the sandbox and keeps one PR comment, updated in place across two runs. GitHub's REST
API is the loopback stand-in in tests/fake_github_api.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.act_runner import make_app_repository, run_act, sandbox_for_act
from tests.fake_github_api import fake_github

# act runs whole jobs (Terraform against the sandbox): minutes on a busy 2-core machine.
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.registry,
    pytest.mark.slow(minutes=2),
    pytest.mark.timeout(3000),
]


def test_two_pull_request_runs_keep_one_plan_comment(tmp_path: Path) -> None:
    sarif = tmp_path / "sarif"
    sarif.mkdir()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"ref": "main"},
                                                  "head": {"ref": "feature"}}}))  # fmt: skip
    with sandbox_for_act(tmp_path, SARIF_STANDIN_DIR=str(sarif)) as env, fake_github() as api:
        app = make_app_repository(tmp_path)
        args = ("-e", str(event), "--env", f"GITHUB_API_URL={api.url}",
                "-s", f"GITHUB_TOKEN={api.token}")  # fmt: skip
        runs = [run_act(app, "pull_request", "pr-plan.yml", env=env, extra=args)
                for _ in range(2)]  # fmt: skip
        comments = api.on(7)
    for run in runs:
        assert run.returncode == 0, run.log[-6000:]
    assert "plan comment: created comment 101 on pull request #7" in runs[0].log
    assert "plan comment: updated comment 101 on pull request #7" in runs[1].log
    assert len(comments) == 1
    body = comments[0]["body"]
    assert body.startswith("<!-- deploytools-plan:tastetrend:dev -->\n")
    assert (
        "| terraform plan | ok | Plan: 24 to add, 0 to change, 0 to replace, 0 to destroy. |"
        in body
    )
    assert json.loads((sarif / "deploytools.sarif").read_text())["version"] == "2.1.0"
