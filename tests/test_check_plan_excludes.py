"""`plan` lists what a Lambda zip leaves out: the built-in excludes (which drop tests and
training code without a word) beside the target's own, as `check --verbose` does.

The AWS side is the port fakes of tests/fakes.py (the plan's other steps are not under test).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.commands import deploy as deploy_command
from deploytools.lib.zip_selection import DEFAULT_EXCLUDES
from tests.fakes import BASE_CONFIG, OUTPUTS, World, fake_ports, put_secret, write_repo

ZIP_CONFIG: dict[str, Any] = {
    **BASE_CONFIG,
    "targets": {
        "etl": {
            "type": "lambda",
            "package": {"source": "src", "excludes": ["data/"], "handler": "app.handler"},
        },
    },
}
BUILT_IN = ", ".join(DEFAULT_EXCLUDES)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    world = World()
    monkeypatch.setattr(
        deploy_command, "default_ports", lambda app: fake_ports(world, outputs=OUTPUTS)
    )
    with mock_aws():
        put_secret(AwsContext("us-east-1"))
        yield world


def _repo(tmp_path: Path) -> str:
    config = write_repo(tmp_path / "repo", ZIP_CONFIG)
    (config.parent / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    return str(config)


def test_plan_text_names_the_built_in_and_the_target_excludes(
    fakes: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", _repo(tmp_path), "plan", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert f"  package etl: leaves out the built-in excludes ({BUILT_IN}) and its own (data/)" in (
        out
    )


def test_plan_json_lists_the_excludes(
    fakes: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "--config", _repo(tmp_path), "plan", "--env", "dev"]) == 0
    package = json.loads(capsys.readouterr().out)["plan"]["packages"]["etl"]
    assert package["builtin_excludes"] == list(DEFAULT_EXCLUDES)
    assert package["excludes"] == ["data/"]
    assert "tests/" in package["builtin_excludes"] and "training/" in package["builtin_excludes"]
