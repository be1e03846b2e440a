"""bench/bench_check.py runs (tiny mode); it prints timings, and nothing here asserts them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_check.py"


def test_the_bench_runs_in_tiny_mode() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"start-up \(check on an empty repository\): \d+\.\d\d s CPU", lines[0])
    assert re.fullmatch(
        r"61 files: check \d+\.\d\d s CPU first run, \d+\.\d\d s unchanged \(\d+ / \d+ ms per "
        r"1k files; \d+ ms without the HCL-parsing rules\); checkov not run "
        r"\(over --checkov-max 0\)",
        lines[1],
    )
    assert lines[-1] == (
        "goal: at most 50 ms per 1k files without the HCL-parsing rules (beyond start-up)"
    )
