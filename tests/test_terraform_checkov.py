"""checkov over terraform/, from its own environment (.venv-tools/checkov: it pins an old
boto3 that must not reach the package). Every failed check fails the test; so does a skip
without a reason (`#checkov:skip=CKV_X` with nothing after the id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploytools import proc

pytestmark = pytest.mark.terraform

REPO = Path(__file__).resolve().parents[1]
NO_REASON = {"", "no comment provided"}  # what checkov records for a bare skip


@pytest.fixture(scope="module")
def checkov_report(checkov_bin: Path) -> list[dict[str, Any]]:
    # --skip-download: no calls to the Prisma Cloud API for guidelines (no network here);
    # no --quiet/--compact, which drop the skipped checks this test reads.
    result = proc.run(
        [
            checkov_bin, "--directory", REPO / "terraform", "--framework", "terraform",
            "--output", "json", "--skip-download",
        ],
        check=False,
        timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), f"checkov crashed ({result.returncode}):\n{result.stderr}"
    parsed = json.loads(result.stdout)
    reports = parsed if isinstance(parsed, list) else [parsed]
    assert reports and all("results" in r for r in reports), result.stdout[:2000]
    return reports


def _results(reports: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [check for report in reports for check in report["results"].get(kind, [])]


def _where(check: dict[str, Any]) -> str:
    first, last = check.get("file_line_range") or (0, 0)
    return (
        f"terraform{check['file_path']}:{first}-{last} {check['resource']} "
        f"{check['check_id']} {check.get('check_name', '')}"
    )


def test_checkov_finds_no_failed_check(checkov_report: list[dict[str, Any]]) -> None:
    failed = [_where(check) for check in _results(checkov_report, "failed_checks")]
    assert failed == [], "fix these, or skip each inline with a reason:\n" + "\n".join(failed)


def test_every_checkov_skip_carries_a_reason(checkov_report: list[dict[str, Any]]) -> None:
    bare = [
        _where(check)
        for check in _results(checkov_report, "skipped_checks")
        if str(check["check_result"].get("suppress_comment") or "").strip().lower() in NO_REASON
    ]
    assert bare == [], "write why after the id: #checkov:skip=CKV_X:<reason>\n" + "\n".join(bare)


def test_checkov_parsed_every_file(checkov_report: list[dict[str, Any]]) -> None:
    errors = [
        error for report in checkov_report for error in report["results"].get("parsing_errors", [])
    ]
    assert errors == []
    assert sum(report["summary"]["resource_count"] for report in checkov_report) > 0
