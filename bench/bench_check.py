"""`deploytools check` on generated repositories of 1k, 5k, 10k and 50k files, side by side with
checkov on the same tree.

Each tree is an app repository as teams write them: Python modules, Terraform folders (a
service, IAM policies, variables), Dockerfiles with .dockerignore, Markdown, JSON data and a
workflow, in that mix, in a git work tree (so check lists it with git ls-files). check runs in
a fresh process, as a user runs it (its bytecode compiled once, as an installed package has it),
in rounds side by side: a first run with an empty cache (a fresh CI checkout), a rerun on the
unchanged tree (python-hcl2's output cached), the rules that parse no HCL, and the walk, paths
and waivers alone (`--rule DT010`, which reads one workflow), and check on an empty repository
(start-up). Times are CPU seconds (user + system) of the process and its children (git),
medians of the rounds. Per 1k files: beyond start-up on each tree, and added from the smallest
tree to the largest (a slope, which start-up's noise does not reach). checkov runs with its own
default frameworks on the trees up to --checkov-max (about a minute of CPU per 1k files here).
Prints, and says pass or FAIL against each goal; asserts nothing.

Goals: issue #13's, under 2 s on 5,000 files, first run and rerun; issue #15's, at most 50 ms
per 1k files beyond the rules' own parsing (the walk, paths and waivers: the slope), linear
(the slope between the two largest trees within LINEAR times that between the two smallest).

    python bench/bench_check.py                  # 1k, 5k, 10k, 50k files; checkov up to 5k
    python bench/bench_check.py --rounds 5 --checkov-max 10000
    python bench/bench_check.py --sizes 5000 --checkov-max 1000   # one tree, no checkov
    python bench/bench_check.py --tiny           # 60 files, one round, to prove it runs
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = os.environ.get("DEPLOYTOOLS_CHECKOV", "checkov")

# A comment and a reference: python-hcl2 reads this file (checks.hcl_subset reads the plain ones).
SERVICE_TF = """\
# The service behind the load balancer.
resource "aws_ecs_service" "svc{n}" {{
  name                              = var.name{n}
  health_check_grace_period_seconds = 120
  load_balancer {{
    container_name = "api"
    container_port = 8080
  }}
}}
"""
POLICY_TF = """\
data "aws_iam_policy_document" "task{n}" {{
  statement {{
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::bucket-{n}/*"]
  }}
}}
"""
VARIABLES_TF = """\
variable "name{n}" {{
  description = "The service name."
  type        = string
  default     = "svc{n}"
}}
"""
PYTHON = """\
import os
import resource

TABLE = os.getenv("TABLE_{n}", "t{n}")


def handler(event, context):
    return {{"statusCode": 200, "body": TABLE}}
"""
DOCKERFILE = 'FROM python:3.11-slim\nCOPY app/ /app/\nCMD ["python", "/app/main.py"]\n'
WORKFLOW = """\
name: ci
on: push
permissions: {contents: read}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo test
"""
# One folder of 20 files: 10 Python, 3 Terraform, 1 Dockerfile + .dockerignore, 3 Markdown,
# 2 JSON; a repository of N files has N / 20 such folders and one workflow.
FOLDER_FILES = 20


def generate(root: Path, files: int) -> int:
    written = 0
    for folder in range(max(files // FOLDER_FILES, 1)):
        base = root / f"services/s{folder}"
        (base / "app").mkdir(parents=True)
        (base / "infra").mkdir()
        for i in range(10):
            (base / "app" / f"m{i}.py").write_text(PYTHON.format(n=f"{folder}_{i}"))
        (base / "infra/main.tf").write_text(SERVICE_TF.format(n=folder))
        (base / "infra/iam.tf").write_text(POLICY_TF.format(n=folder))
        (base / "infra/variables.tf").write_text(VARIABLES_TF.format(n=folder))
        (base / "Dockerfile").write_text(DOCKERFILE)
        (base / ".dockerignore").write_text("**/__pycache__\n.env\n")
        for i in range(3):
            (base / f"doc{i}.md").write_text(f"# Service {folder}\n\nHow to run part {i}.\n")
        for i in range(2):
            (base / f"data{i}.json").write_text(f'{{"service": {folder}, "part": {i}}}\n')
        written += FOLDER_FILES
    workflows = root / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return written + 1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path) -> tuple[float, int]:
    """CPU seconds of the command (user + system): on a shared machine wall time says little."""
    start = _children_cpu()
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    return _children_cpu() - start, result.returncode


# The rules that parse no HCL, and the one that reads a single workflow: with it, check costs
# its start-up, the one walk of the tree, each path made relative once, dispatch and waivers.
WITHOUT_HCL = ("DT001", "DT002", "DT003", "DT004", "DT005", "DT006")
FRAMEWORK = ("DT010",)
LINEAR = 1.5
GOAL_5K = 2.0
GOAL_PER_K = 50.0


def check_seconds(tree: Path, rules: tuple[str, ...] = ()) -> float:
    argv = [sys.executable, "-m", "deploytools", "check", "--format", "json"]
    seconds, code = timed([*argv, *(["--rule", *rules] if rules else [])], tree)
    if code not in (0, 3):
        raise SystemExit(f"check exited {code} on {tree}")
    return seconds


def checkov_seconds(tree: Path) -> float | None:
    argv = [CHECKOV, "-d", ".", "--quiet", "--compact", "-o", "json", "--skip-download"]
    try:
        seconds, _ = timed(argv, tree)
    except FileNotFoundError:
        return None
    return seconds


@dataclass
class Sizes:
    """One tree's medians, in CPU seconds; `startup` is check on an empty repository, run in
    the same rounds."""

    files: int
    startup: float
    first: float
    again: float
    light: float
    frame: float
    checkov: float | None = None

    def per_k(self, kind: str) -> float:
        """ms per 1k files beyond start-up."""
        return max(getattr(self, kind) - self.startup, 0.0) / self.files * 1_000_000


def slope(small: Sizes, large: Sizes, kind: str) -> float:
    """ms per 1k files added, from the smaller tree to the larger: start-up cancels out."""
    added = getattr(large, kind) - getattr(small, kind)
    return added / (large.files - small.files) * 1_000_000


def measure(tree: Path, empty: Path, files: int, rounds: int, cache: Path) -> Sizes:
    """Each round runs the five side by side, so the machine's load weighs on all alike."""
    runs: list[tuple[float, ...]] = []
    for _ in range(rounds):
        shutil.rmtree(cache / "deploytools", ignore_errors=True)  # a fresh checkout's cache
        first = check_seconds(tree)
        runs.append((check_seconds(empty), first, check_seconds(tree),
                     check_seconds(tree, WITHOUT_HCL), check_seconds(tree, FRAMEWORK)))  # fmt: skip
    startup, first, again, light, frame = (median(column) for column in zip(*runs, strict=True))
    return Sizes(files, startup, first, again, light, frame)


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="one 60-file tree, to prove it runs")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 5_000, 10_000, 50_000],
        help="files in each generated tree",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="runs of each figure (median)")
    parser.add_argument("--checkov-max", type=int, default=5_000, help="largest tree for checkov")
    parser.add_argument("--checkov-rounds", type=int, default=1, help="checkov runs per tree")
    args = parser.parse_args()
    sizes = [60] if args.tiny else sorted(args.sizes)
    rounds = 1 if args.tiny else max(args.rounds, 1)
    checkov_max = 0 if args.tiny else args.checkov_max
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    results: list[Sizes] = []
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        cache = Path(scratch, "cache")
        os.environ["XDG_CACHE_HOME"] = str(cache)  # cold at first, ours only
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(scratch, "pycache"))
        empty = Path(scratch, "empty")
        empty.mkdir()
        subprocess.run(["git", "init", "-q", str(empty)], check=True)
        check_seconds(empty)  # compiles the bytecode
        for size in sizes:
            tree = Path(scratch, f"tree{size}")
            sized = measure(tree, empty, generate(tree, size), rounds, cache)
            if size <= checkov_max:
                runs = [checkov_seconds(tree) for _ in range(max(args.checkov_rounds, 1))]
                found = [r for r in runs if r is not None]
                sized.checkov = median(found) if found else None
            print(describe(sized, checkov_max), flush=True)
            shutil.rmtree(tree)
            results.append(sized)
    for line in verdicts(results):
        print(line)
    return 0


def describe(sized: Sizes, checkov_max: int) -> str:
    line = (
        f"{sized.files} files: check {sized.first:.2f} s CPU first run, {sized.again:.2f} s "
        f"unchanged, start-up {sized.startup:.2f} s ({sized.per_k('first'):.0f} / "
        f"{sized.per_k('again'):.0f} ms per 1k files beyond start-up; "
        f"{sized.per_k('light'):.0f} ms without the HCL-parsing rules; "
        f"{sized.per_k('frame'):.0f} ms walk, paths and waivers)"
    )
    if sized.checkov is not None:
        return line + (
            f"; checkov {sized.checkov:.2f} s CPU; check / checkov "
            f"{sized.first / sized.checkov:.3f} first run, "
            f"{sized.again / sized.checkov:.3f} unchanged"
        )
    if sized.files > checkov_max + 1:
        return line + f"; checkov not run (over --checkov-max {checkov_max})"
    return line + f"; checkov not found ({CHECKOV})"


def verdicts(results: list[Sizes]) -> list[str]:
    """One line per goal, with the figures it is judged on."""
    lines = []
    five = next((r for r in results if r.files // 1_000 == 5), None)
    if five is not None:
        ok = max(five.first, five.again) < GOAL_5K
        lines.append(
            f"goal (issue #13) under {GOAL_5K:.0f} s on 5,000 files: {five.first:.2f} s first "
            f"run, {five.again:.2f} s unchanged: {_verdict(ok)}"
        )
    small, large = results[0], results[-1]
    if len(results) > 1:
        kinds = ("first", "again", "light", "frame")
        first, again, light, frame = (slope(small, large, kind) for kind in kinds)
        lines.append(
            f"ms per 1k files added, {small.files} to {large.files} files: {first:.0f} first "
            f"run, {again:.0f} unchanged, {light:.0f} without the HCL-parsing rules, "
            f"{frame:.0f} walk, paths and waivers"
        )
        shown = f"{frame:.0f} ms per 1k files added"
    else:
        frame = small.per_k("frame")
        shown = f"{frame:.0f} ms per 1k files at {small.files} files"
    lines.append(
        f"goal (issue #15) at most {GOAL_PER_K:.0f} ms per 1k files beyond the rules' own "
        f"parsing (walk, paths and waivers): {shown}: {_verdict(frame <= GOAL_PER_K)}"
    )
    if len(results) > 2:
        ratios = [
            slope(results[-2], large, kind) / max(slope(small, results[1], kind), 1e-9)
            for kind in ("first", "again")
        ]
        lines.append(
            f"goal (issue #15) linear: ms per 1k files added from {results[-2].files} to "
            f"{large.files} ÷ from {small.files} to {results[1].files} files: "
            f"{ratios[0]:.2f} first run, {ratios[1]:.2f} unchanged (at most {LINEAR}): "
            f"{_verdict(all(r <= LINEAR for r in ratios))}"
        )
    against = [r for r in results if r.checkov]
    if against:
        shown = ", ".join(f"{r.files} files {r.first / (r.checkov or 1):.3f}" for r in against)
        lines.append(f"check ÷ checkov on the same tree (first run): {shown}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
