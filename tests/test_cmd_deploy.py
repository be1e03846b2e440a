"""`deploytools deploy` from the command line: exit codes, the messages a user sees, --json,
and the GitHub Actions summary and output.

The step modules are injected (tests/fakes.py) through
`deploytools.commands.deploy.default_ports`; secrets, the account guard and the release
record run for real against moto (in-process).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.commands import deploy as deploy_command
from tests.fakes import OUTPUTS, World, fake_ports, put_secret, write_repo

RELEASE_ID = r"r-20251020T120001000Z-abcdef1-[0-9a-f]{6}"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, seeded_aws: AwsContext) -> World:
    state = World()
    steps = {"smoke_fails": False}
    monkeypatch.setattr(
        deploy_command,
        "default_ports",
        lambda app: fake_ports(state, outputs=OUTPUTS, smoke_fails=steps["smoke_fails"]),
    )
    state.options = steps  # type: ignore[attr-defined]
    put_secret(seeded_aws, env="prod")
    return state


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_repo(tmp_path / "repo"))


def test_json_prints_one_document_with_every_step(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--json", "--config", config, "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)  # the whole of stdout is one JSON document
    assert doc["ok"] is True and doc["exit_code"] == 0
    assert re.fullmatch(RELEASE_ID, doc["release"])
    steps = {s["name"]: s for s in doc["steps"]}
    assert list(steps)[:6] == ["check", "account", "lock", "secrets", "images", "terraform"]
    assert list(steps)[-3:] == ["amplify", "smoke", "release"]
    for step in doc["steps"]:
        assert set(step) == {"name", "status", "seconds", "summary", "changed", "detail"}
        assert isinstance(step["seconds"], float)
        # A step either lists what it changed or says it changed nothing.
        assert bool(step["changed"]) == (step["status"] == "ok"), step
    assert steps["images"]["changed"] == [
        "built api (c1)",
        f"pushed {doc['images']['api']['uri']}",
    ]
    assert (
        steps["target api"]["summary"]
        == f"(nothing) → arn:fake:api:1 ({doc['images']['api']['digest'][:19]})"
    )
    assert steps["release"]["changed"] == [f"release {doc['release']}"]
    assert steps["check"]["status"] == "unchanged"
    assert "✓ images" in err  # human lines go to stderr under --json


def test_text_output_one_line_per_step_with_duration(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    lines = capsys.readouterr().out.splitlines()
    step_lines = [line for line in lines if line[:2] in ("✓ ", "= ", "- ")]
    assert [line.split()[1] for line in step_lines][:5] == [
        "check",
        "account",
        "lock",
        "secrets",
        "images",
    ]
    assert all(line.split()[-1] != "" and "s" in line for line in step_lines)
    assert re.fullmatch(f"deployed dev: release {RELEASE_ID}", lines[-1])


def test_protected_environment_without_yes_exits_2(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "deploy", "--env", "prod"]) == 2
    assert capsys.readouterr().err == (
        "error: environment 'prod' is protected: deploy needs --yes "
        "(in GitHub Actions, behind an environment with required reviewers)\n"
    )
    assert world.mutations() == []
    assert main(["--config", config, "deploy", "--env", "prod", "--yes"]) == 0


def test_account_mismatch_exits_2_before_any_change(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "deploy", "--env", "other"]) == 2
    assert capsys.readouterr().err.endswith(
        "error: environment 'other' is account 210987654321, but the AWS credentials belong "
        "to account 123456789012; switch credentials (--profile, or the role your CI assumes)\n"
    )
    assert world.mutations() == []


def test_failed_smoke_exits_1_with_one_json_document(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world.options["smoke_fails"] = True  # type: ignore[attr-defined]
    assert main(["--json", "--config", config, "deploy", "--env", "dev"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["ok"] is False and doc["exit_code"] == 1
    assert doc["error"].startswith("smoke GET http://127.0.0.1:9/api/health: expected 200, got 503")
    assert {s["name"]: s["status"] for s in doc["steps"]}["smoke"] == "failed"
    assert "error: smoke GET" in err


def test_github_actions_summary_and_release_output(
    world: World,
    config: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    assert "::group::images" in capsys.readouterr().out
    table = summary.read_text()
    assert table.startswith("### deploytools deploy dev\n\n| step | result | time | summary |")
    assert "| target api | ok |" in table and "| release | ok |" in table
    text = output.read_text()
    assert text.startswith("url<<ghadelimiter_")
    assert "\nhttps://main.d123.amplifyapp.com\n" in text  # the frontend's: the environment's link
    assert "release<<ghadelimiter_" in text
    assert re.search(f"\n{RELEASE_ID}\n", text)


def test_verbose_shows_each_failed_targets_traceback(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fail["train"] = "error"
    assert main(["--config", config, "deploy", "--env", "dev"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--verbose", "--config", config, "deploy", "--env", "dev"]) == 1
    err = capsys.readouterr().err
    assert "target train:\nTraceback (most recent call last):" in err
    assert "RuntimeError: train: boom" in err
    assert "error: target train failed: train: boom" in err


def test_the_environment_link_is_the_first_smoke_url_whose_outputs_are_known(
    tmp_path: Path,
) -> None:
    from deploytools.config.loader import load_config
    from deploytools.pipeline.deploy_result import app_url
    from tests.support.config_repo import MINIMAL_CONFIG, write_config_repo

    smoke = (
        'smoke:\n  - {url: "{tf.api_url}/health"}\n  - {url: "https://shop.example.com/health"}\n'
    )
    config = MINIMAL_CONFIG + smoke
    loaded = load_config(write_config_repo(tmp_path, config))
    assert app_url(loaded.for_env("dev"), None) == "https://shop.example.com/health"
    known = loaded.for_env("dev", {"api_url": "https://api.example.com"})
    assert app_url(known, None) == "https://api.example.com/health"
