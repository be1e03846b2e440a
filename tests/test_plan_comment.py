"""The plan in GitHub: Markdown for the step summary, one PR comment updated in place, cut
below GitHub's 65,536-character limit with a pointer to the run. The GitHub REST API is the
loopback stand-in in tests/fake_github_api.py (there is no GitHub here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploytools.github import plan_markdown, pr_comment
from deploytools.github.publish import has_changes, publish
from deploytools.output import Reporter
from tests.fake_github_api import fake_github

DOC = {"project": "tastetrend", "env": "dev", "images": [], "targets": {}}
STEPS = [{"name": "terraform plan", "status": "ok", "summary": "Plan: 1 to add, 0 to change, "
          "0 to replace, 0 to destroy."}]  # fmt: skip
URL = "https://github.com/acme/tastetrend/actions/runs/42"


def test_markdown_has_the_marker_the_steps_and_the_plan() -> None:
    body = plan_markdown.render(DOC, STEPS, ["  terraform: plan and apply tf"], url=URL)
    assert body == (
        "<!-- deploytools-plan:tastetrend:dev -->\n"
        "### deploytools plan: tastetrend / dev\n\n"
        "| step | result | summary |\n|---|---|---|\n"
        "| terraform plan | ok | Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy. |\n\n"
        "```\n  terraform: plan and apply tf\n```\n\n"
        f"[The run]({URL}) has the full log.\n"
    )


def test_a_huge_plan_is_cut_below_the_comment_limit_with_a_pointer_to_the_run() -> None:
    lines = [f"  target t{i}: refresh function-{i} " + "x" * 80 for i in range(5000)]
    body = plan_markdown.render(DOC, STEPS, lines, url=URL)
    assert len(body) <= plan_markdown.COMMENT_LIMIT
    assert body.startswith("<!-- deploytools-plan:tastetrend:dev -->\n")
    assert body.endswith(
        f"```\n\n… truncated to fit a comment: the full plan is in [the run]({URL}).\n"
    )
    assert lines[0] in body and lines[-1] not in body
    assert body.count("```") == 2  # the code block is closed


def test_changes_come_from_terraform_images_and_targets() -> None:
    assert has_changes(DOC, STEPS)
    none = [{"name": "terraform plan", "status": "ok",
             "summary": "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy."}]  # fmt: skip
    assert not has_changes(DOC, none)
    assert has_changes({**DOC, "images": [{"action": "build and push"}]}, none)
    assert not has_changes({**DOC, "targets": {"etl": {"change": "1 (already live)"}}}, none)


@pytest.fixture
def pull_request_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    summary = tmp_path / "summary.md"
    for name, value in {
        "GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY":
        "acme/tastetrend", "GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(tmp_path / "output"),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    return summary


def test_one_comment_is_created_then_updated_in_place(
    pull_request_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_github() as api:
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        monkeypatch.setenv("GITHUB_TOKEN", api.token)
        api.comments[100] = {"issue": 7, "body": "a reviewer's comment"}
        publish(DOC, ["  first plan"], Reporter(), comment=True)
        publish(DOC, ["  second plan"], Reporter(), comment=True)
        mine = [c for c in api.on(7) if c["id"] != 100]
    assert len(mine) == 1
    assert "  second plan" in mine[0]["body"] and "first plan" not in mine[0]["body"]
    assert [m for m, _ in api.requests] == ["GET", "POST", "GET", "PATCH"]
    out = capsys.readouterr().out
    assert "plan comment: created comment 101 on pull request #7\n" in out
    assert "plan comment: updated comment 101 on pull request #7\n" in out
    assert pull_request_run.read_text().count("### deploytools plan: tastetrend / dev") == 2
    assert (pull_request_run.parent / "output").read_text().count("changes") == 2


def test_a_refused_comment_says_which_permission(
    pull_request_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_github() as api:
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        monkeypatch.setenv("GITHUB_TOKEN", "wrong")
        with pytest.raises(pr_comment.CommentFailed) as raised:
            publish(DOC, ["  plan"], Reporter(), comment=True)
    assert str(raised.value) == (
        'GitHub refused to list the plan comment: HTTP 401 {"message": "Bad credentials"} '
        "(the job needs permissions: pull-requests: write)"
    )
