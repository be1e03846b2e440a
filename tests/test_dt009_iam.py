"""DT009 (the Terraform half) over positive and negative fixtures and the project's terraform/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploytools.checks import CheckContext, Finding, run_checks
from deploytools.checks.dt009_iam import is_write

FIXTURES = Path(__file__).parent / "fixtures" / "dt009"
REPO = Path(__file__).resolve().parents[1]


def _findings(root: Path) -> list[Finding]:
    return run_checks(CheckContext(root=root), only={"DT009"})


def _expected_lines(path: Path) -> set[int]:
    """Lines marked `# expect DT009`, and the heredoc's `"Resource": "*"` (JSON has no comments)."""
    lines = path.read_text().splitlines()
    marked = {n for n, line in enumerate(lines, 1) if re.search(r"#\s*expect DT009\b", line)}
    heredoc = {n for n, line in enumerate(lines, 1) if line.strip() == '"Resource": "*"'}
    return marked | heredoc


def test_positive_fixture_reports_each_marked_line() -> None:
    findings = _findings(FIXTURES / "positive")
    expected = _expected_lines(FIXTURES / "positive" / "main.tf")
    assert len(expected) == 8
    assert {(f.file, f.line) for f in findings} == {("main.tf", line) for line in expected}
    assert all(f.rule == "DT009" and f.fix for f in findings)


def test_positive_fixture_messages_name_the_policy_and_the_actions() -> None:
    messages = sorted(f.message for f in _findings(FIXTURES / "positive"))
    assert messages == sorted(
        [
            'data.aws_iam_policy_document.everything allows Action "*" '
            "(every action on every service)",
            "data.aws_iam_policy_document.task allows every action of a service: dynamodb:*",
            'data.aws_iam_policy_document.task allows write actions on Resource "*": s3:PutObject',
            'data.aws_iam_policy_document.task allows write actions on Resource "*": s3:Put*',
            'aws_iam_role_policy.inline allows Action "*" (every action on every service)',
            'aws_iam_role_policy.inline allows write actions on Resource "*": ecs:UpdateService',
            'aws_iam_policy.heredoc allows write actions on Resource "*": sqs:SendMessage',
            "aws_iam_role.with_inline allows every action of a service: logs:*",
        ]
    )


def test_negative_fixture_reports_nothing() -> None:
    assert _findings(FIXTURES / "negative") == []


@pytest.mark.parametrize(
    ("action", "write"),
    [
        ("s3:PutObject", True),
        ("s3:putobject", True),
        ("iam:PassRole", True),
        ("ecs:UpdateService", True),
        ("s3:Put*", True),
        ("s3:*Object", True),
        ("*", True),
        ("s3:GetObject", False),
        ("s3:Get*", False),
        ("ecr:BatchGetImage", False),
        ("ecs:Describe*", False),
        ("kms:Decrypt", False),
    ],
)
def test_write_actions(action: str, write: bool) -> None:
    assert is_write(action) is write


@pytest.mark.parametrize("folder", ["terraform", "examples"])
def test_projects_own_terraform_passes_dt009(folder: str) -> None:
    findings = _findings(REPO / folder)
    assert [f"{folder}/{f.file}:{f.line} {f.message}" for f in findings] == []
