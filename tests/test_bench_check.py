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
    assert re.fullmatch(
        r"61 files: check \d+\.\d\d s CPU first run, \d+\.\d\d s unchanged, start-up \d+\.\d\d "
        r"s \(\d+ / \d+ ms per 1k files beyond start-up; \d+ ms without the HCL-parsing rules; "
        r"\d+ ms walk, paths and waivers\); checkov not run \(over --checkov-max 0\)",
        lines[0],
    )
    assert re.fullmatch(
        r"goal \(issue #15\) at most 50 ms per 1k files beyond the rules' own parsing \(walk, "
        r"paths and waivers\): \d+ ms per 1k files at 61 files: (pass|FAIL)",
        lines[1],
    )
    assert len(lines) == 2


def sizes(files: int, first: float, again: float, frame: float) -> bench_check.Sizes:
    return bench_check.Sizes(files, 0.5, first, again, light=frame + 0.1, frame=frame)


def test_each_goal_is_judged_on_its_figures() -> None:
    small = sizes(1_001, first=1.0, again=0.8, frame=0.52)
    small.checkov = 50.0
    five = sizes(5_001, first=2.5, again=1.5, frame=0.6)
    five.checkov = 250.0
    ten = sizes(10_001, first=4.0, again=2.5, frame=0.7)
    large = sizes(50_001, first=20.0, again=10.0, frame=1.5)
    assert bench_check.verdicts([small, five, ten, large]) == [
        "goal (issue #13) under 2 s on 5,000 files: 2.50 s first run, 1.50 s unchanged: FAIL",
        "ms per 1k files added, 1001 to 50001 files: 388 first run, 188 unchanged, 20 without "
        "the HCL-parsing rules, 20 walk, paths and waivers",
        "goal (issue #15) at most 50 ms per 1k files beyond the rules' own parsing (walk, "
        "paths and waivers): 20 ms per 1k files added: pass",
        "goal (issue #15) linear: ms per 1k files added from 10001 to 50001 ÷ from 1001 to "
        "5001 files: 1.07 first run, 1.07 unchanged (at most 1.5): pass",
        "check ÷ checkov on the same tree (first run): 1001 files 0.020, 5001 files 0.010",
    ]
