"""The command line: every command exists, has --help, and appears in the README."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deploytools.cli import main
from deploytools.commands import COMMANDS

README = Path(__file__).resolve().parent.parent / "README.md"
DESIGN_COMMANDS = [
    "check", "plan", "deploy", "rollback", "status", "releases", "build", "secrets", "matrix",
    "sandbox", "schema",
]  # fmt: skip


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in DESIGN_COMMANDS:
        assert f"    {command} " in out
    assert sorted(COMMANDS) == sorted(DESIGN_COMMANDS)


@pytest.mark.parametrize("command", DESIGN_COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: deploytools {command}")
    assert "--config PATH" in out and "--json" in out and "--sandbox" in out


@pytest.mark.parametrize("command", DESIGN_COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"deploytools {command}" in README.read_text()


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 2
    assert "the following arguments are required: --env" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


def test_global_options_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.yml"
    assert main(["--config", str(missing), "plan", "--env", "dev"]) == 2
    assert main(["plan", "--env", "dev", "--config", str(missing)]) == 2
    assert capsys.readouterr().err.count(str(missing)) == 2


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploytools", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.startswith("deploytools ")


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "deploytools.yml"
    assert {"project", "environments", "images", "targets"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_json_error_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "--config", str(tmp_path / "x.yml"), "plan", "--env", "dev"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["ok"] is False and doc["exit_code"] == 2
    assert "no such file" in doc["error"]
