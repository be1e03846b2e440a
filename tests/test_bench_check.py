"""bench/bench_check.py runs (tiny mode); it prints timings and verdicts, nothing here asserts
them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_check.py"
sys.path.insert(0, str(BENCH.parent))
import bench_check  # noqa: E402


def test_the_bench_runs_in_tiny_mode() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"start-up \(check on an empty repository\): \d+\.\d\d s CPU", lines[0])
    assert re.fullmatch(
        r"61 files: check \d+\.\d\d s CPU first run, \d+\.\d\d s unchanged \(\d+ / \d+ ms per "
        r"1k files; \d+ ms without the HCL-parsing rules; \d+ ms walk, paths and waivers\); "
        r"checkov not run \(over --checkov-max 0\)",
        lines[1],
    )
    assert re.fullmatch(
        r"goal \(issue #15\) at most 50 ms per 1k files beyond the rules' own parsing \(walk, "
        r"paths and waivers\): 61 files \d+ ms: (pass|FAIL)",
        lines[-1],
    )


def test_each_goal_is_judged_on_its_figures() -> None:
    small = bench_check.Sizes(1001, first=1.0, again=0.8, light=0.7, frame=0.52, checkov=50.0)
    large = bench_check.Sizes(5001, first=2.5, again=1.5, light=1.0, frame=0.7, checkov=250.0)
    assert bench_check.verdicts([small, large], startup=0.5) == [
        "goal (issue #13) under 2 s on 5,000 files: 2.50 s first run, 1.50 s unchanged: FAIL",
        "goal (issue #15) at most 50 ms per 1k files beyond the rules' own parsing (walk, "
        "paths and waivers): 1001 files 20 ms, 5001 files 40 ms: pass",
        "goal (issue #15) linear: ms per 1k files at 5001 ÷ at 1001 files 0.80 first run, "
        "0.67 unchanged (at most 1.5): pass",
        "check ÷ checkov on the same tree (first run): 1001 files 0.020, 5001 files 0.010",
    ]
