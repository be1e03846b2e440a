"""Sandbox deploy of one example: the first deploy vs a no-op redeploy, and their ratio.

The example is copied into a temporary git checkout and deployed with the CLI, in its own
process, into a fresh sandbox (started first and timed apart). The time spent starting
workloads (the target steps: ECS tasks until healthy, Lambda until its warm-up answers) is
shown apart from the rest of each deploy. Needs the machine's Docker engine, registry and
Terraform (`scripts/services up`, `scripts/base-images`). Prints; asserts nothing.

    python bench/bench_sandbox_deploy.py                         # prediction-api, 3 no-ops
    python bench/bench_sandbox_deploy.py --example tastetrend-etl
    python bench/bench_sandbox_deploy.py --tiny                  # 1 no-op
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCKER_HOST = "unix:///run/deploytools/docker.sock"
IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")


class Timed:
    def __init__(self, seconds: float, document: dict[str, Any]) -> None:
        self.seconds = seconds
        steps = document.get("steps") or []
        self.workloads = sum(s["seconds"] for s in steps if s["name"].startswith("target "))


def deploytools(config: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deploytools", "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"deploytools {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def deploy(config: Path, env: dict[str, str]) -> Timed:
    seconds, stdout = deploytools(config, env, "deploy", "--env", "dev", "--sandbox", "--json")
    return Timed(seconds, json.loads(stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example", default="prediction-api", help="a folder under examples/")
    parser.add_argument("--tiny", action="store_true", help="one no-op redeploy instead of 3")
    args = parser.parse_args()
    noops = 1 if args.tiny else 3
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "examples", work / "examples", ignore=IGNORED)
        shutil.copytree(ROOT / "terraform", work / "terraform", ignore=IGNORED)
        subprocess.run(["git", "init", "-q", str(work)], check=True, timeout=60)
        (work / "tmp").mkdir()
        env = {
            **os.environ,
            "DOCKER_HOST": os.environ.get("DOCKER_HOST", DOCKER_HOST),
            "DEPLOYTOOLS_SANDBOX_DIR": str(work / "sandbox"),
            "TMPDIR": str(work / "tmp"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        config = work / "examples" / args.example / "deploytools.yml"
        try:
            up, _ = deploytools(config, env, "sandbox", "up")
            first = deploy(config, env)
            again = [deploy(config, env) for _ in range(noops)]
        finally:
            subprocess.run(
                [sys.executable, "-m", "deploytools", "--config", str(config), "sandbox", "down"],
                env=env,
                capture_output=True,
                timeout=300,
                check=False,
            )
    noop = statistics.median(t.seconds for t in again)
    noop_workloads = statistics.median(t.workloads for t in again)
    print(f"example: {args.example}")
    print(f"sandbox up (not in the deploys below):       {up:8.2f} s")
    print(f"first deploy:                                {first.seconds:8.2f} s")
    print(f"  of which starting workloads (targets):     {first.workloads:8.2f} s")
    print(f"no-op redeploy, median of {noops}:                {noop:8.2f} s")
    print(f"  of which starting workloads (targets):     {noop_workloads:8.2f} s")
    print(f"no-op/first ratio: {noop / first.seconds:.3f}")


if __name__ == "__main__":
    main()
