"""No-op deploys against `terraform plan` alone, 4 images against 1, and start-up, in one run.

Per example under examples/ (copied to a temporary git checkout, deployed into a sandbox of
its own first): a no-op `deploytools deploy --sandbox` (the CLI in its own process, as a user
runs it) and, side by side in the same rounds, `terraform plan` alone on the same root with the
same environment. That plan is the one the no-op deploy itself runs: a stand-in `terraform`
(DEPLOYTOOLS_TERRAFORM) passes every call through to the real binary and, after the deploy's
own plan, runs that command line again (its -out in a private folder) and times it; those
deploys are not timed, and run without a head start (DEPLOYTOOLS_HEAD_START=0), so the plan
alone is timed with nothing beside it. Overhead is the no-op deploy's median minus the plan's
median. "early plan k/n": in k of the n timed no-ops the plan was the head start's, started
with the process from the recipe the run before recorded (lib/head_start.py).

Then 4 images ÷ 1 image through build_images (the Docker engine, the loopback registry, moto's
ECR), each image a fresh 2 MB context so that nothing is cached, beside the engine's own bound:
the same contexts built by the Docker engine alone, 4 at once ÷ 1; `deploytools --help`
start-up against `python -c pass`. `check`'s figures come from bench/bench_check.py.

Medians of the rounds; prints, asserts nothing. Goals: no-op ÷ plan ≤ 1.10, overhead ≤ 0.5 s,
4 images ÷ 1 ≤ 1.6 on 2 cores.

    python bench/bench_noop.py                    # the five examples, 5 rounds
    python bench/bench_noop.py --tiny             # tastetrend-etl, 1 round: proves it runs
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine_cleanup import remove_images_tagged  # beside this script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLES = ("prediction-api", "tastetrend-etl", "engagement-platform", "nlp-serving", "automl-lite")
DOCKER_HOST = "unix:///run/deploytools/docker.sock"
REGISTRY = os.environ.get("DEPLOYTOOLS_REGISTRY", "127.0.0.1:5055")
IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

# What the plan step says when its plan was the head start's (lib/head_start.py).
EARLY_PLAN = "planned from the process's start"

# The stand-in terraform: times every call; after a plan, runs that plan again REPLAY times.
SHIM = """#!{python}
import json, os, subprocess, sys, tempfile, time
real, log = os.environ["BENCH_TF_REAL"], os.environ["BENCH_TF_LOG"]
args = sys.argv[1:]
start = time.perf_counter()
code = subprocess.call([real, *args])
calls = [{{"command": args[0] if args else "", "seconds": time.perf_counter() - start}}]
if args and args[0] == "plan" and code in (0, 2):
    for _ in range(int(os.environ.get("BENCH_TF_REPLAY", "0"))):
        with tempfile.TemporaryDirectory() as folder:
            again = [a if not a.startswith("-out=") else "-out=" + folder + "/plan" for a in args]
            start = time.perf_counter()
            subprocess.call([real, *again], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            calls.append({{"command": "plan alone", "seconds": time.perf_counter() - start}})
with open(log, "a") as out:
    out.writelines(json.dumps(c) + "\\n" for c in calls)
sys.exit(code)
"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Work:
    """A copy of examples/ and terraform/ in a git checkout, with a sandbox of its own."""

    def __init__(self, folder: Path, terraform: str) -> None:
        self.folder = folder
        self.last_output = ""
        shutil.copytree(ROOT / "examples", folder / "examples", ignore=IGNORED)
        shutil.copytree(ROOT / "terraform", folder / "terraform", ignore=IGNORED)
        # A checkout with a commit, as a user's: the release and the Amplify job name it.
        subprocess.run(["git", "init", "-q", str(folder)], check=True, timeout=60)
        for git in (["add", "-A"], ["-c", "user.email=bench@example.com", "-c",
                                    "user.name=bench", "commit", "-qm", "bench"]):  # fmt: skip
            subprocess.run(["git", "-C", str(folder), *git], check=True, timeout=60)
        (folder / "tmp").mkdir()
        self.log = folder / "terraform-calls.jsonl"
        self.shim = folder / "terraform-shim"
        self.shim.write_text(SHIM.format(python=sys.executable))
        self.shim.chmod(0o755)
        self.env = {
            **os.environ,
            "DOCKER_HOST": os.environ.get("DOCKER_HOST", DOCKER_HOST),
            "DEPLOYTOOLS_SANDBOX_DIR": str(folder / "sandbox"),
            "TMPDIR": str(folder / "tmp"),
            "PYTHONPATH": str(ROOT),
            "BENCH_TF_REAL": terraform,
            "BENCH_TF_LOG": str(self.log),
        }
        self.env.pop("DEPLOYTOOLS_TERRAFORM", None)

    def deploytools(self, example: str, *args: str, replay: int | None = None) -> float:
        env = dict(self.env)
        if replay is not None:
            env |= {"DEPLOYTOOLS_TERRAFORM": str(self.shim), "BENCH_TF_REPLAY": str(replay)}
            # The plan alone is timed on a machine at rest: no early plan beside this run's
            # start-up, and none recorded to start beside the next timed no-op.
            env["DEPLOYTOOLS_HEAD_START"] = "0"
        config = self.folder / "examples" / example / "deploytools.yml"
        command = [sys.executable, "-m", "deploytools", "--config", str(config), *args]
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - start
        self.last_output = done.stdout
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-12:]
            raise SystemExit(f"{example}: deploytools {' '.join(args)} failed:\n" + "\n".join(tail))
        return seconds

    def calls(self) -> list[dict[str, Any]]:
        """The terraform calls logged since the last look."""
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        self.log.unlink()
        return calls


def noop_rows(work: Work, examples: tuple[str, ...], rounds: int) -> Iterator[str]:
    """One line per example, as each is done."""
    deploy = ("deploy", "--env", "dev", "--sandbox")
    for example in examples:
        work.deploytools(example, *deploy)  # the first deploy: what the no-ops redeploy
        work.calls()
        noops: list[float] = []
        plans: list[float] = []
        made: list[str] = []
        wrote: list[str] = []
        early = 0
        for _ in range(rounds):  # side by side: a timed no-op, then a plan alone
            noops.append(work.deploytools(example, *deploy))
            early += EARLY_PLAN in work.last_output
            if "deployed dev: nothing changed" not in work.last_output:
                wrote.append(work.last_output.strip().splitlines()[-1])
            work.deploytools(example, *deploy, replay=1)
            calls = work.calls()
            plans += [c["seconds"] for c in calls if c["command"] == "plan alone"]
            made = [c["command"] for c in calls if c["command"] != "plan alone"]
        noop, plan = median(noops), median(plans)
        yield (
            f"{example:<20} no-op {noop:6.2f} s  plan {plan:6.2f} s  ratio {noop / plan:5.2f}  "
            f"overhead {noop - plan:5.2f} s  early plan {early}/{rounds}  "
            f"terraform calls: {' '.join(made) or 'none'}  "
            + (f"CHANGED something: {wrote[0]}" if wrote else "nothing written")
        )


def one_and_four(
    build: Callable[[Path, int], float], rounds: int, prefix: str
) -> tuple[float, float]:
    """Median seconds of `build` for 1 and for 4 images, side by side in each round, each
    from fresh contexts in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        ones, fours = [], []
        for _ in range(rounds):
            ones.append(build(Path(name), 1))
            fours.append(build(Path(name), 4))
    return median(ones), median(fours)


def images_ratio(rounds: int, files: int) -> str:
    """Median seconds of building and pushing 1 image, then 4, each from a fresh context."""
    import docker
    from moto.server import ThreadedMotoServer

    from deploytools.aws import AwsContext
    from deploytools.config import load_config
    from deploytools.output import Reporter
    from deploytools.steps.images import BuildImages, build_images

    for key, value in FAKE_AWS.items():
        os.environ.setdefault(key, value)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws = AwsContext("us-east-1", endpoints=dict.fromkeys(("ecr", "sts"), f"http://{host}:{port}"))
    projects: list[str] = []

    def build(folder: Path, count: int) -> float:
        project = f"benchimg{uuid.uuid4().hex[:8]}"
        projects.append(project)
        root = folder / project
        images = ""
        for index in range(count):
            context = root / f"img{index}"
            for number in range(files):
                path = context / "data" / f"part{number}.bin"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(os.urandom(10_000))
            (context / "Dockerfile").write_text("FROM scratch\nCOPY data/ /data/\n")
            images += f"  img{index}: {{context: img{index}, dockerfile: img{index}/Dockerfile}}\n"
        (root / "deploytools.yml").write_text(
            f"project: {project}\nregion: us-east-1\n"
            "environments:\n  dev:\n    account_id: '123456789012'\n"
            f"images:\n{images}"
        )
        env = load_config(root / "deploytools.yml").for_env("dev")
        reporter = Reporter(out=io.StringIO(), err=io.StringIO())
        request = BuildImages(root=root, registry_override=REGISTRY)
        start = time.perf_counter()
        build_images(aws, env, request, reporter=reporter)
        return time.perf_counter() - start

    try:
        one, four = one_and_four(build, rounds, prefix="bench-noop-images-")
    finally:
        server.stop()
        client = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST", DOCKER_HOST))
        remove_images_tagged(client, *projects)
    return (
        f"images: 1 image {one:.2f} s, 4 images {four:.2f} s, ratio {four / one:.2f} "
        f"(goal <= 1.6 on 2 cores; {os.cpu_count()} cores here; {files} files of 10 kB each)"
    )


def engine_ratio(rounds: int, files: int) -> str:
    """The engine's own bound for the figure above: the same contexts built straight by the
    Docker engine (no deploytools, no push), 4 at once against 1, medians of the rounds."""
    import threading

    import docker

    client = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST", DOCKER_HOST))
    tags: list[str] = []

    def build(folder: Path, count: int) -> float:
        contexts = []
        for index in range(count):
            context = folder / uuid.uuid4().hex[:8]
            for number in range(files):
                path = context / "data" / f"part{number}.bin"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(os.urandom(10_000))
            (context / "Dockerfile").write_text("FROM scratch\nCOPY data/ /data/\n")
            contexts.append(context)
            tags.append(f"bench-engine-{context.name}:{index}")
        names = tags[-count:]
        threads = [
            threading.Thread(
                target=client.images.build,
                kwargs={"path": str(c), "tag": t, "nocache": True, "network_mode": "host"},
            )
            for c, t in zip(contexts, names, strict=True)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start

    try:
        one, four = one_and_four(build, rounds, prefix="bench-noop-engine-")
    finally:
        for tag in tags:
            with contextlib.suppress(docker.errors.DockerException):
                client.images.remove(tag, force=True)
    return (
        f"engine alone: 1 build {one:.2f} s, 4 builds at once {four:.2f} s, ratio "
        f"{four / one:.2f} (the same contexts through the Docker engine, no push: the bound "
        "the images figure can reach on this machine)"
    )


def startup(runs: int) -> str:
    def timed(command: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, timeout=120)
        return time.perf_counter() - start

    env_python = [sys.executable, "-c", "pass"]
    help_times = [timed([sys.executable, "-m", "deploytools", "--help"]) for _ in range(runs)]
    bare = [timed(env_python) for _ in range(runs)]
    return (
        f"deploytools --help: {median(help_times):.3f} s (python -c pass: {median(bare):.3f} s; "
        f"median of {runs})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tastetrend-etl, 1 round")
    parser.add_argument("--rounds", type=int, default=5, help="side-by-side rounds per figure")
    parser.add_argument("--only", nargs="*", choices=EXAMPLES, help="these examples only")
    args = parser.parse_args()
    rounds = 1 if args.tiny else args.rounds
    examples = ("tastetrend-etl",) if args.tiny else tuple(args.only or EXAMPLES)
    terraform = shutil.which(os.environ.get("DEPLOYTOOLS_TERRAFORM") or "terraform")
    if terraform is None:
        print("no-op deploys: terraform is not installed (scripts/setup installs it)")
        return 1
    os.environ["DOCKER_HOST"] = os.environ.get("DOCKER_HOST", DOCKER_HOST)
    # Measured as installed: with byte code cached, not compiled again on every start.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    made = subprocess.run(
        ["bash", str(ROOT / "scripts" / "base-images")], capture_output=True, text=True
    )
    if made.returncode != 0:
        print(f"no-op deploys: scripts/base-images failed: {made.stderr.strip()[-400:]}")
        return 1
    print(f"machine: {os.cpu_count()} cores, {platform_line()}; medians of {rounds} round(s)")
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as name:
        work = Work(Path(name), terraform)
        try:
            for row in noop_rows(work, examples, rounds):
                print(row, flush=True)
        finally:
            work.deploytools(examples[0], "sandbox", "down")
    print("goals: no-op / plan <= 1.10, overhead <= 0.5 s")
    print(images_ratio(rounds, files=20 if args.tiny else 200))
    print(engine_ratio(rounds, files=20 if args.tiny else 200))
    print(startup(3 if args.tiny else 10))
    print("check: python bench/bench_check.py (seconds per 1k files at 1k/10k/50k, vs checkov)")
    return 0


def platform_line() -> str:
    import platform

    return f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
