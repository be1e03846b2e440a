"""DT010: workflows under .github/workflows/ (fixture repositories, no config needed)."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks import check_report, run_checks
from deploytools.checks.base import CheckContext, Finding

FIXTURES = Path(__file__).parent / "fixtures" / "dt010"
WORKFLOW = ".github/workflows/ci.yml"


def dt010(root: Path) -> list[Finding]:
    return run_checks(CheckContext(root=root, config=None), only={"DT010"})


def test_pinned_least_privilege_oidc_workflow_is_clean() -> None:
    """SHA pins, local actions, OIDC, inputs through env:, named secrets into a pinned call."""
    assert dt010(FIXTURES / "good") == []


def test_every_mistake_with_file_line_and_message() -> None:
    found = [(f.file, f.line, f.message) for f in dt010(FIXTURES / "bad")]
    assert found == [
        (WORKFLOW, 1, "no top-level permissions: every job gets the token's default "
         "(often write-all)"),
        (WORKFLOW, 8, "AWS_ACCESS_KEY_ID: long-lived AWS keys in a workflow instead of OIDC"),
        (WORKFLOW, 13, "actions/checkout@v4 is not pinned to a full commit SHA (a tag or branch "
         "can be moved)"),
        (WORKFLOW, 15, "job test checks out the pull request's head under pull_request_target, "
         "which runs it with this repository's secrets and a write token"),
        (WORKFLOW, 16, "${{ github.event.pull_request.title }} is expanded inside a run: script "
         "(script injection)"),
        (WORKFLOW, 19, "aws-secret-access-key: long-lived AWS keys in a workflow instead of "
         "OIDC"),
        (WORKFLOW, 21, "${{ inputs.target }} is expanded inside a run: script (script "
         "injection)"),
        (WORKFLOW, 23, "acme/shared/.github/workflows/deploy.yml@main is not pinned to a full "
         "commit SHA (a tag or branch can be moved)"),
        (WORKFLOW, 24, "job shared passes every secret (secrets: inherit) to "
         "acme/shared/.github/workflows/deploy.yml, a workflow of another repository"),
    ]  # fmt: skip


def test_the_injection_fix_names_the_env_route() -> None:
    injection = next(f for f in dt010(FIXTURES / "bad") if "injection" in f.message)
    assert injection.fix == (
        "Pass it through the step's env (TITLE: ${{ github.event.pull_request.title }}) and "
        'use "$TITLE" in the script.'
    )


def test_this_repositorys_own_workflows_differ_only_by_the_self_reference() -> None:
    """The reusable workflows name this repository's action by its release tag (a file cannot
    hold its own SHA; .github/zizmor.yml says why): the only finding DT010 has here, and each
    one is waived inline with that reason."""
    ctx = CheckContext(root=Path(__file__).resolve().parents[1], config=None)
    report = check_report(ctx, only={"DT010"})
    assert report.findings == []
    assert report.waived
    assert {(w.finding.message, w.source, w.reason) for w in report.waived} == {
        (
            "deploytools/deploytools@v0.1.0 is not pinned to a full commit SHA (a tag or branch "
            "can be moved)",
            "inline",
            "a file cannot hold its own SHA (.github/zizmor.yml)",
        )
    }
