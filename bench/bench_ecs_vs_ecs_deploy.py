"""deploytools' ECS refresh vs fabfuel/ecs-deploy (`ecs deploy`), on the sandbox's emulated ECS.

Both tools update the same service through the same endpoint: moto's server behind the
sandbox's ECS emulator (deploytools/sandbox/emulators/ecs.py), whose deployments reach
COMPLETED (plain moto's never do, so `ecs deploy` would wait until its timeout there) once
their tasks have run for the settle time, or, for an image that was never pushed, fail and
are rolled back by the circuit breaker. The tasks run on a stand-in for the Docker engine
(`_BenchEngine`): the bench measures the pollers, not the workloads. A counting loopback
proxy in front of the emulator counts every AWS API call.

Scenario 1, a good image: API calls per operation, total, and wall time of each tool.
Scenario 2, a bad image on a service with circuit breaker + rollback: each tool's exit
code and verdict, and whether the revision the service runs afterwards is still ACTIVE.

Both tools run as subprocesses, so both wall times include starting Python and boto3.
Prints; asserts nothing. Installs nothing: `pip install -r bench/requirements.txt` first
(ecs-deploy coexists with the package's boto3; a venv at .venv-tools/ecs-deploy is used
instead when present).

    .venv/bin/python bench/bench_ecs_vs_ecs_deploy.py           # the sandbox's timings (settle 3 s)
    .venv/bin/python bench/bench_ecs_vs_ecs_deploy.py --tiny    # seconds, to prove it runs
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
CLUSTER = "bench"
SERVICE = "bench-api"
CONTAINER = "api"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
HOP = {"connection", "content-length", "transfer-encoding", "content-encoding", "host"}


# --- counting proxy ------------------------------------------------------------------------


class Counting:
    """A loopback proxy that counts requests by X-Amz-Target operation."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.session = requests.Session()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def take(self) -> Counter[str]:
        with self.lock:
            taken, self.counts = self.counts, Counter()
        return taken

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = str(self.headers.get("X-Amz-Target", "?")).rsplit(".", 1)[-1]
                with proxy.lock:
                    proxy.counts[operation] += 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                answer = proxy.session.post(
                    proxy.upstream + self.path, headers=headers, data=body, timeout=120
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler


# --- the two tools -------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    tool: str
    exit_code: int
    seconds: float
    calls: Counter[str]
    output: str

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def verdict(self) -> str:
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        keys = ("RolledBack", "Deployment successful", "Deployment failed", "Rollback", "ERROR")
        picked = [line for line in lines if any(k in line for k in keys)]
        return (picked or lines or ["(no output)"])[-1]


def ecs_deploy_command() -> list[str] | None:
    """How to run fabfuel/ecs-deploy here, or None when it is not installed."""
    venv = ROOT / ".venv-tools" / "ecs-deploy" / "bin" / "python"
    if venv.is_file():
        return [str(venv), "-m", "ecs_deploy.cli"]
    if importlib.util.find_spec("ecs_deploy") is not None:
        return [sys.executable, "-m", "ecs_deploy.cli"]
    return None


def run_tool(tool: str, command: list[str], proxy: Counting, env: dict[str, str]) -> Run:
    proxy.take()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    return Run(tool, done.returncode, seconds, proxy.take(), done.stdout + done.stderr)


def ours_command(image: str, endpoint: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        __file__,
        "_ours",
        "--endpoint",
        endpoint,
        "--image",
        image,
        "--poll-first",
        str(args.poll_first),
        "--timeout",
        str(args.timeout),
    ]


def ecs_deploy_args(base: list[str], image: str, args: argparse.Namespace) -> list[str]:
    return [
        *base,
        "deploy",
        CLUSTER,
        SERVICE,
        "--image",
        CONTAINER,
        image,
        "--region",
        REGION,
        "--timeout",
        str(args.timeout),
    ]


def refresh_once(args: argparse.Namespace) -> int:
    """The `_ours` mode: one deploytools refresh, as the pipeline runs it."""
    from deploytools.aws import AwsContext
    from deploytools.config.model import EcsTarget
    from deploytools.errors import DeployError
    from deploytools.output import Reporter, StepRecord
    from deploytools.steps.targets._wait import DEFAULT_POLLING
    from deploytools.steps.targets.base import RefreshInputs
    from deploytools.steps.targets.ecs import Refresher

    aws = AwsContext(region=REGION, endpoints={"ecs": args.endpoint})
    target = EcsTarget(
        type="ecs",
        cluster=CLUSTER,
        service=SERVICE,
        container=CONTAINER,
        image="api",
        timeout=args.timeout,
    )
    polling = dataclasses.replace(DEFAULT_POLLING, first=args.poll_first)
    refresher = Refresher("api", target, aws=aws, reporter=Reporter(), polling=polling)
    try:
        state = refresher.refresh(RefreshInputs(image=args.image), StepRecord("api"))
    except DeployError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"deployed {state.revision}")
    return 0


# --- the bench -----------------------------------------------------------------------------


class _BenchEngine:
    """Containers that keep running, except those of never-pushed images, which cannot be
    pulled."""

    def start(self, spec: Any) -> str:
        from deploytools.sandbox.containers import PullFailed

        if ":never-pushed" in spec.image:
            raise PullFailed(f"failed to resolve ref {spec.image}: not found")
        return spec.image  # type: ignore[no-any-return]

    def state(self, container_id: str) -> Any:
        from deploytools.sandbox.containers import ContainerState

        return ContainerState(True)

    def exec(self, container_id: str, command: Any, timeout: float) -> int | None:
        return 0

    def remove(self, container_id: str) -> None:
        pass


@contextmanager
def sandbox(settle_seconds: float) -> Iterator[tuple[Any, Counting]]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    from deploytools.sandbox.emulators import ecs as emulator

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    ecs = emulator.serve(
        f"http://{host}:{port}", workloads=_BenchEngine(), stability_seconds=settle_seconds
    )
    proxy = Counting(ecs.url)
    try:
        yield ecs, proxy
    finally:
        proxy.stop()
        ecs.stop()
        moto.stop()


def client(url: str) -> Any:
    import boto3

    return boto3.client("ecs", region_name=REGION, endpoint_url=url)


def create_service(ecs: Any, settle_seconds: float) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    arn = ecs.register_task_definition(
        family=SERVICE,
        containerDefinitions=[
            {"name": CONTAINER, "image": "bench/api:0", "memory": 512, "essential": True}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=arn,
        desiredCount=2,
        deploymentConfiguration={
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )
    wait_settled(ecs, settle_seconds)


def wait_settled(ecs: Any, settle_seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + settle_seconds * 4 + 10
    while True:
        service: dict[str, Any] = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])[
            "services"
        ][0]
        deployments = service["deployments"]
        if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED":
            return service
        if time.monotonic() > deadline:
            raise SystemExit(f"the service did not settle: {json.dumps(deployments, default=str)}")
        time.sleep(0.1)


def live_revision(ecs: Any) -> tuple[str, str]:
    """(family:revision the service runs, that revision's status)."""
    service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    arn = service["taskDefinition"]
    status = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"]
    return arn.rsplit("/", 1)[-1], status


def calls_table(runs: list[Run]) -> list[str]:
    operations = sorted({op for run in runs for op in run.calls})
    width = max([len(op) for op in operations] + [9])
    lines = [f"  {'operation':<{width}}  " + "  ".join(f"{r.tool:>12}" for r in runs)]
    for op in operations:
        lines.append(f"  {op:<{width}}  " + "  ".join(f"{r.calls[op]:>12}" for r in runs))
    lines.append(f"  {'total':<{width}}  " + "  ".join(f"{r.total:>12}" for r in runs))
    return lines


def bench(args: argparse.Namespace) -> int:
    env = {**os.environ, **FAKE_ENV}
    env.pop("AWS_PROFILE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    ecs_deploy = ecs_deploy_command()
    mode = "tiny" if args.tiny else "sandbox"
    print(f"# deploytools ECS refresh vs fabfuel/ecs-deploy ({mode} mode)")
    print(
        f"emulated ECS: a deployment settles {args.settle:g} s after it starts; "
        f"deploytools polls after {args.poll_first:g} s, then x1.5 up to 15 s; "
        "ecs-deploy polls every 1 s (its default)"
    )
    if ecs_deploy is None:
        print("ecs-deploy is not installed: pip install -r bench/requirements.txt")
        print("(only deploytools' side runs)")
    with sandbox(args.settle) as (emulated, proxy):
        ecs = client(emulated.url)
        create_service(ecs, args.settle)
        env["AWS_ENDPOINT_URL_ECS"] = proxy.url

        print("\n## scenario 1: a good image")
        runs = [run_tool("deploytools", ours_command(image("1"), proxy.url, args), proxy, env)]
        wait_settled(ecs, args.settle)
        if ecs_deploy is not None:
            command = ecs_deploy_args(ecs_deploy, image("2"), args)
            runs.append(run_tool("ecs-deploy", command, proxy, env))
            wait_settled(ecs, args.settle)
        for run in runs:
            print(f"{run.tool:>12}: exit {run.exit_code}, {run.seconds:5.2f} s — {run.verdict()}")
        print("AWS API calls (counted at a loopback proxy in front of the endpoint):")
        print("\n".join(calls_table(runs)))
        if len(runs) == 2 and runs[0].total and runs[0].seconds:
            ours, theirs = runs
            print(
                f"calls: ecs-deploy / deploytools = {theirs.total}/{ours.total} = "
                f"{theirs.total / ours.total:.2f}"
            )
            print(
                f"wall time: ecs-deploy / deploytools = {theirs.seconds:.2f}/{ours.seconds:.2f} "
                f"= {theirs.seconds / ours.seconds:.2f}"
            )
        print(
            "note: on real ECS a rollout takes minutes, so wall time is the deployment's, "
            "not the poller's; the call count is what grows with it."
        )

        print("\n## scenario 2: a bad image, circuit breaker with rollback")
        failures = [
            run_tool(
                "deploytools", ours_command(image("never-pushed-1"), proxy.url, args), proxy, env
            )
        ]
        after = [live_revision(ecs)]
        if ecs_deploy is not None:
            command = ecs_deploy_args(ecs_deploy, image("never-pushed-2"), args)
            failures.append(run_tool("ecs-deploy", command, proxy, env))
            after.append(live_revision(ecs))
        for run, (revision, status) in zip(failures, after, strict=True):
            outcome = "reported FAILURE" if run.exit_code else "reported SUCCESS"
            print(
                f"{run.tool:>12}: exit {run.exit_code} ({outcome}) in {run.seconds:5.2f} s, "
                f"{run.total} calls; the service runs {revision}, which is {status}"
            )
            print(f"{'':>14}{run.verdict()}")
    return 0


def image(tag: str) -> str:
    if tag.startswith("never-pushed"):
        return f"bench/api:{tag}"
    return f"bench/api@sha256:{tag * 64}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    ours = sub.add_parser("_ours", help=argparse.SUPPRESS)
    ours.add_argument("--endpoint", required=True)
    ours.add_argument("--image", required=True)
    ours.add_argument("--poll-first", type=float, default=2.0)
    ours.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--tiny", action="store_true", help="fast settings, to prove it runs")
    args = parser.parse_args()
    if args.mode == "_ours":
        return refresh_once(args)
    args.settle = 0.3 if args.tiny else 3.0
    args.poll_first = 0.2 if args.tiny else 2.0
    args.timeout = 60 if args.tiny else 300
    return bench(args)


if __name__ == "__main__":
    for name, value in FAKE_ENV.items():
        os.environ.setdefault(name, value)
    sys.exit(main())
