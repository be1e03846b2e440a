"""bench/bench_sandbox_deploy.py runs (tiny mode) against the real engine, registry and
Terraform; it prints timings, asserted by nothing but their shape."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import support

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "bench_sandbox_deploy.py"


def test_the_bench_runs_in_tiny_mode() -> None:
    support.require_docker()
    support.require_registry()
    support.requires("terraform")
    env = {**os.environ, "DOCKER_HOST": support.DOCKER_HOST}
    made = subprocess.run(
        ["bash", str(REPO / "scripts" / "base-images")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "example: prediction-api"
    number = r"\s+\d+\.\d\d s$"
    assert re.match(r"^sandbox up \(not in the deploys below\):" + number, lines[1])
    assert re.match(r"^first deploy:" + number, lines[2])
    assert re.match(r"^  of which starting workloads \(targets\):" + number, lines[3])
    assert re.match(r"^no-op redeploy, median of 1:" + number, lines[4])
    assert re.match(r"^  of which starting workloads \(targets\):" + number, lines[5])
    assert re.match(r"^no-op/first ratio: \d+\.\d{3}$", lines[6])
