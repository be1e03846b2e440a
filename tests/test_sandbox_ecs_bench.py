"""bench/bench_ecs_vs_ecs_deploy.py runs (tiny mode); its numbers are printed, not asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_ecs_vs_ecs_deploy.py"


@pytest.mark.slow
def test_the_benchmark_runs_in_tiny_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(BENCH.parents[1])},
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "## scenario 1: a good image" in out
    assert " deploytools: exit 0," in out
    assert "AWS API calls (counted at a loopback proxy in front of the endpoint):" in out
    assert "  UpdateService " in out
    assert " deploytools: exit 1 (reported FAILURE)" in out
    assert "rolled back by the circuit breaker" in out
