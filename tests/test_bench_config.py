"""bench/bench_config.py runs (tiny mode); it prints timings, and nothing here asserts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_config.py"


def test_the_bench_runs_in_tiny_mode() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "small valid config",
        "large config under the limit",
        "config over the size limit",
        "alias bomb (9 levels of 9 aliases)",
    ]
    assert lines[1].endswith(", loaded")
    assert "refused: deploytools.yml:1: the file is 1.1 MiB; the limit is 1 MiB" in lines[2]
    assert "refused: deploytools.yml:5: aliases expand to more than 10,000 values" in lines[3]
