"""bench/bench_sandbox_lambda.py runs (tiny mode); it prints timings, asserted by nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests import support

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_sandbox_lambda.py"


def test_the_bench_runs_in_tiny_mode(docker_engine: Any, registry: str) -> None:
    support.require_base_images()
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cold invoke (new container + runtime), median of 1: ")
    assert lines[1].startswith("warm invoke (reused environment), median of 3: ")
    assert lines[-1].startswith("warm/cold ratio: ")
