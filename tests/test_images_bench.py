"""bench/bench_images.py runs (tiny mode); it prints timings, and nothing here asserts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_images.py"


def test_the_bench_runs_in_tiny_mode(docker_engine: Any, registry: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("context: 53 files sent")
    assert any(line.startswith("content tag time: ") for line in lines)
    assert any(line.startswith("first build step (build, push, verify): ") for line in lines)
    assert lines[-1].startswith("ratio no-op / first: ")
