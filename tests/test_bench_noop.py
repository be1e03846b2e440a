"""bench/bench_noop.py runs (tiny mode) against the real sandbox, engine, registry and
Terraform; it prints timings, and nothing here asserts them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_noop.py"
pytestmark = [
    pytest.mark.docker,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.slow(minutes=5),
]


@pytest.mark.timeout(1500)
def test_the_bench_runs_in_tiny_mode(
    docker_engine: Any, registry: str, terraform_bin: Path
) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=1400
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"machine: \d+ cores, .+; medians of 1 round\(s\)", lines[0])
    assert re.fullmatch(
        r"tastetrend-etl +no-op +\d+\.\d\d s  plan +\d+\.\d\d s  ratio +\d+\.\d\d  "
        # early plan 1/1: the no-op's plan was the head start's (the first deploy recorded it)
        r"overhead +-?\d+\.\d\d s  early plan 1/1  terraform calls: plan  nothing written",
        lines[1],
    )
    assert lines[2] == "goals: no-op / plan <= 1.10, overhead <= 0.5 s"
    assert re.match(
        r"images: 1 image \d+\.\d\d s, 4 images \d+\.\d\d s, ratio \d+\.\d\d ", lines[3]
    )
    assert re.match(
        r"engine alone: 1 build \d+\.\d\d s, 4 builds at once \d+\.\d\d s, ratio \d+\.\d\d ",
        lines[4],
    )
    assert re.match(r"deploytools --help: \d+\.\d{3} s \(python -c pass: ", lines[5])
    assert lines[6].startswith("check: python bench/bench_check.py")
