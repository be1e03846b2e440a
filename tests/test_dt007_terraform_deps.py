"""DT007 over positive and negative Terraform fixtures, and over the project's own terraform/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploytools.checks import CheckContext, Finding, run_checks

FIXTURES = Path(__file__).parent / "fixtures" / "dt007"
REPO = Path(__file__).resolve().parents[1]


def _findings(root: Path) -> list[Finding]:
    return run_checks(CheckContext(root=root), only={"DT007"})


def _expected_lines(path: Path, rule: str) -> set[int]:
    """Lines the fixture marks with `# expect DTnnn`."""
    lines = path.read_text().splitlines()
    return {n for n, line in enumerate(lines, 1) if re.search(rf"#\s*expect {rule}\b", line)}


def test_positive_fixture_reports_each_marked_block_on_its_line() -> None:
    findings = _findings(FIXTURES / "positive")
    assert {(f.file, f.line) for f in findings} == {
        ("main.tf", line) for line in _expected_lines(FIXTURES / "positive" / "main.tf", "DT007")
    }
    assert all(f.rule == "DT007" and f.fix for f in findings)


def test_positive_fixture_messages() -> None:
    messages = {f.message for f in _findings(FIXTURES / "positive")}
    assert "kubernetes_namespace.app has no depends_on on the EKS cluster or node group" in messages
    assert "archive_file data source 'handler' zips source_dir without excludes" in messages
    assert "archive_file resource 'legacy' zips source_dir without excludes" in messages


def test_negative_fixture_reports_nothing() -> None:
    assert _findings(FIXTURES / "negative") == []


@pytest.mark.parametrize("folder", ["terraform", "examples"])
def test_projects_own_terraform_passes_dt007(folder: str) -> None:
    findings = _findings(REPO / folder)
    assert [f"{folder}/{f.file}:{f.line} {f.message}" for f in findings] == []
