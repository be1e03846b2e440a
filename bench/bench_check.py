"""`deploytools check` on generated repositories of 1k, 10k and 50k files, side by side with
checkov on the same tree.

Each tree is an app repository as teams write them: Python modules, Terraform folders (a
service, IAM policies, variables), Dockerfiles with .dockerignore, Markdown, JSON data and a
workflow, in that mix, in a git work tree (so check lists it with git ls-files). check runs in
a fresh process, as a user runs it, twice: first with an empty cache (a fresh CI checkout),
then on the unchanged tree (python-hcl2's output cached); the time per 1k files leaves out its
start-up (measured on an empty repository). checkov runs with its own default frameworks (not
in --tiny). Prints; asserts nothing. Goals: issue #13's, under 2 s on 5,000 files; and at most
50 ms per 1k files beyond start-up without the HCL-parsing rules.

    python bench/bench_check.py                  # 1k, 5k, 10k, 50k files; checkov up to 10k
    python bench/bench_check.py --checkov-max 50000
    python bench/bench_check.py --tiny           # 60 files, to prove it runs
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

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


# The rules that parse no HCL: what check costs beyond python-hcl2's own parsing.
WITHOUT_HCL = ("DT001", "DT002", "DT003", "DT004", "DT005", "DT006")


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


def _per_k(seconds: float, *, startup: float, files: int) -> float:
    return max(seconds - startup, 0.0) / files * 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="one 60-file tree, to prove it runs")
    parser.add_argument(
        "--checkov-max", type=int, default=10_000, help="largest tree to run checkov on"
    )
    args = parser.parse_args()
    sizes = [60] if args.tiny else [1_000, 5_000, 10_000, 50_000]
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    checkov_max = 0 if args.tiny else args.checkov_max
    goal: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        os.environ["XDG_CACHE_HOME"] = str(Path(scratch, "cache"))  # cold at first, ours only
        empty = Path(scratch, "empty")
        empty.mkdir()
        subprocess.run(["git", "init", "-q", str(empty)], check=True)
        startup = min(check_seconds(empty) for _ in range(2))
        print(f"start-up (check on an empty repository): {startup:.2f} s CPU", flush=True)
        for size in sizes:
            tree = Path(scratch, f"tree{size}")
            count = generate(tree, size)
            per_k = partial(_per_k, startup=startup, files=count)
            first = check_seconds(tree)
            again = check_seconds(tree)
            light = check_seconds(tree, WITHOUT_HCL)
            if size == 5_000:
                goal = (first, again)
            line = (
                f"{count} files: check {first:.2f} s CPU first run, {again:.2f} s unchanged "
                f"({per_k(first):.0f} / {per_k(again):.0f} ms per 1k files; "
                f"{per_k(light):.0f} ms without the HCL-parsing rules)"
            )
            if size <= checkov_max:
                other = checkov_seconds(tree)
                if other is None:
                    line += f"; checkov not found ({CHECKOV})"
                else:
                    line += f"; checkov {other:.2f} s CPU; check / checkov {first / other:.2f}"
            else:
                line += f"; checkov not run (over --checkov-max {checkov_max})"
            print(line, flush=True)
    if goal is not None:
        print(
            f"goal (issue #13): under 2 s on 5,000 files: {goal[0]:.2f} s first run, "
            f"{goal[1]:.2f} s unchanged"
        )
    print("goal: at most 50 ms per 1k files without the HCL-parsing rules (beyond start-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
