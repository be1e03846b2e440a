"""`deploytools sandbox up|status|down`: a real background process on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from deploytools.cli import main
from deploytools.sandbox import containers
from tests import support


@pytest.fixture
def sandbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path))
    yield tmp_path
    main(["sandbox", "down"])  # never leave a process behind


def test_up_status_down(sandbox_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"running": False}

    assert main(["sandbox", "up", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["running"] is True
    sts_url = state["endpoints"]["sts"]
    assert sts_url.startswith("http://127.0.0.1:")  # loopback only

    # The AWS CLI or boto3 with the printed endpoint sees the same state.
    sts = boto3.client("sts", endpoint_url=sts_url, region_name="us-east-1")
    assert sts.get_caller_identity()["Account"] == "123456789012"

    assert main(["sandbox", "up", "--json"]) == 0  # idempotent: the same process
    assert json.loads(capsys.readouterr().out)["pid"] == state["pid"]

    assert main(["sandbox", "status"]) == 0
    assert f"export AWS_ENDPOINT_URL={sts_url}" in capsys.readouterr().out

    assert main(["sandbox", "down"]) == 0
    assert capsys.readouterr().out == f"sandbox: stopped (pid {state['pid']})\n"
    assert main(["sandbox", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"running": False}


def test_sandbox_flag_without_sandbox_is_bad_input(
    sandbox_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "deploytools.yml"
    config.write_text('project: p\nenvironments:\n  dev: {account_id: "123456789012"}\n')
    assert main(["--config", str(config), "plan", "--env", "dev", "--sandbox"]) == 2
    assert "the sandbox is not running; start it with: deploytools sandbox up" in (
        capsys.readouterr().err
    )


def test_down_removes_every_workload_container_of_the_sandbox(
    sandbox_dir: Path, docker_engine: Any, busybox_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = containers.sandbox_id(sandbox_dir)
    label = f"{containers.SANDBOX_LABEL}={sandbox}"
    # What a sandbox that died leaves behind: a task container still running.
    docker_engine.containers.run(
        busybox_image,
        ["sleep", "300"],
        labels={containers.SANDBOX_LABEL: sandbox},
        network_mode="none",
        detach=True,
    )

    assert main(["sandbox", "down"]) == 0

    assert capsys.readouterr().out == (
        "sandbox: not running\nsandbox: removed 1 workload container(s)\n"
    )
    assert support.containers_left(docker_engine, label) == []
