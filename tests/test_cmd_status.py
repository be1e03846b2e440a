"""`deploytools status`: the release record against the live state, and drift.

Targets are fake refreshers (tests/fakes.py) whose live state the test can
change behind the release's back; the release record is real, in moto's SSM (in-process).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from deploytools.cli import main
from tests.fakes import World, write_repo


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_repo(tmp_path / "repo"))


def status_json(config: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    assert main(["--json", "--config", config, "status", "--env", "dev", *extra]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_before_any_release(
    cli_world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "status", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert "dev: no release recorded yet (deploytools deploy records one)" in out
    # {tf.cluster} is unknown without a release: said, not guessed.
    assert (
        "target api (ecs) shop-dev-api: (nothing), needs Terraform output(s) cluster "
        "(no release records them)"
    ) in out
    assert "target predict (lambda) shop-dev-predict: (nothing), not deployed yet" in out


def test_in_sync_after_a_deploy(
    cli_world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    doc = status_json(config, capsys)
    assert doc["drift"] is False
    assert re.fullmatch(r"r-20251020T120001000Z-abcdef1-[0-9a-f]{6}", doc["release"]["id"])
    assert {t["name"]: t["sync"] for t in doc["targets"]} == {
        "api": "in_sync",
        "predict": "in_sync",
        "train": "in_sync",
    }
    api = next(t for t in doc["targets"] if t["name"] == "api")
    assert api["live"] == api["recorded"] and api["live"]["revision"] == "arn:fake:api:1"
    assert [s["name"] for s in doc["steps"]] == ["account", "release"]


def test_drift_is_flagged(
    cli_world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    cli_world.live["predict"] = replace(cli_world.live["predict"], revision="arn:fake:predict:9")
    del cli_world.live["train"]
    doc = status_json(config, capsys)
    assert doc["drift"] is True
    sync = {t["name"]: t["sync"] for t in doc["targets"]}
    assert sync == {"api": "in_sync", "predict": "drift", "train": "missing"}

    capsys.readouterr()
    assert main(["--config", config, "status", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    digest = cli_world.live["predict"].image.rsplit("@", 1)[1][:19]  # type: ignore[union-attr]
    assert (
        f"target predict (lambda) shop-dev-predict: arn:fake:predict:9 ({digest}), "
        f"DRIFT: the release recorded arn:fake:predict:1 ({digest})"
    ) in out
    assert "drift: live differs from the release record (deploy or rollback to fix)" in out


def test_only_limits_the_targets(
    cli_world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    doc = status_json(config, capsys, "--only", "api")
    assert [t["name"] for t in doc["targets"]] == ["api"]
