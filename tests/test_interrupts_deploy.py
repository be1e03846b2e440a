"""`deploytools deploy` signalled (as a CI cancel does, to its whole process group) during an
image push and during an ECS rollout poll: it stops promptly with one line and 128 + the
signal, the push stops in the engine, the attempt is recorded as `interrupted`, the lock is
released, and the next deploy works.

The real thing: the CLI in its own process, the private Docker engine builds and pushes (to the
loopback registry, through a proxy that slows the upload), moto's server holds ECR, SSM and
STS, and the sandbox's ECS emulator runs the deployments. The emulator's tasks run on its test
double of the Docker engine (tests/support/fake_engine.py), so that a rollout can be held in
progress (a stability window of an hour) and then let through (the window shortened).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml

from deploytools.sandbox import state
from deploytools.sandbox.emulators.ecs import Running, serve
from tests import support
from tests.support.fake_engine import FakeEngine
from tests.support.tcp_proxy import TcpProxy

ACCOUNT = "123456789012"
SERVICES = ("sts", "ssm", "ecr", "ecs", "lambda", "batch", "iam", "s3", "logs")
LAYER = 6 * 1024 * 1024  # random, so it neither compresses nor exists in the registry yet
SLOW = 192 * 1024.0  # bytes/s through the registry proxy: the push takes half a minute
HOUR = 3600.0


@dataclass
class World:
    root: Path
    project: str
    env: dict[str, str]
    moto: str
    ecs: Running
    registry: TcpProxy
    registry_upstream: str

    def command(self, *args: str) -> list[str]:
        config = str(self.root / "deploytools.yml")
        return [
            sys.executable,
            "-m",
            "deploytools",
            "--json",
            "--sandbox",
            "--config",
            config,
            *args,
        ]

    def deploy(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command("deploy", "--env", "dev"),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group, so killpg below is a CI cancel
        )

    def releases(self) -> list[dict[str, Any]]:
        done = subprocess.run(
            self.command("releases", "--env", "dev"),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        releases: list[dict[str, Any]] = json.loads(done.stdout)["releases"]
        return releases

    def lock_held(self) -> bool:
        ssm = boto3.client("ssm", endpoint_url=self.moto, region_name="us-east-1")
        try:
            ssm.get_parameter(Name=f"/deploytools/{self.project}/dev/lock")
        except ssm.exceptions.ParameterNotFound:
            return False
        return True

    def ecs_client(self) -> Any:
        return boto3.client("ecs", endpoint_url=self.ecs.url, region_name="us-east-1")

    def tags(self) -> list[str]:
        url = f"http://{self.registry_upstream}/v2/{self.project}-api/tags/list"
        answer = requests.get(url, timeout=10)
        if answer.status_code == 404:
            return []
        return list(answer.json().get("tags") or [])


@pytest.fixture
def world(
    tmp_path: Path, moto_endpoint: str, registry: str, busybox_image: str, docker_engine: Any
) -> Iterator[World]:
    project = f"intr{uuid.uuid4().hex[:8]}"
    root = tmp_path / "repo"
    root.mkdir()
    (root / "layer.bin").write_bytes(os.urandom(LAYER))
    (root / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY layer.bin /layer.bin\n")
    config = {
        "project": project,
        "environments": {"dev": {"account_id": ACCOUNT}},
        "images": {"api": {"context": ".", "dockerfile": "Dockerfile"}},
        "targets": {
            name: {"type": "ecs", "cluster": "c", "service": name, "image": "api"}
            for name in ("api", "web")
        },
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    ecs = serve(moto_endpoint, workloads=FakeEngine(), stability_seconds=0.2)
    host, port = registry.split(":")
    proxy = TcpProxy((host, int(port)))
    client = boto3.client("ecs", endpoint_url=ecs.url, region_name="us-east-1")
    client.create_cluster(clusterName="c")
    for name in ("api", "web"):
        first = client.register_task_definition(
            family=f"{project}-{name}",
            containerDefinitions=[{"name": "app", "image": "before:1", "memory": 128}],
        )["taskDefinition"]["taskDefinitionArn"]
        client.create_service(cluster="c", serviceName=name, taskDefinition=first, desiredCount=1)

    sandbox_dir = tmp_path / "sandbox"
    endpoints = {**dict.fromkeys(SERVICES, moto_endpoint), "ecs": ecs.url}
    env = {**os.environ, "DEPLOYTOOLS_SANDBOX_DIR": str(sandbox_dir)}
    env["DOCKER_HOST"] = support.DOCKER_HOST
    previous = os.environ.get("DEPLOYTOOLS_SANDBOX_DIR")
    os.environ["DEPLOYTOOLS_SANDBOX_DIR"] = str(sandbox_dir)
    try:
        # This process stands in for the sandbox's (the record names a live pid).
        state.write(state.SandboxState(os.getpid(), endpoints, proxy.address))
    finally:
        if previous is None:
            del os.environ["DEPLOYTOOLS_SANDBOX_DIR"]
        else:
            os.environ["DEPLOYTOOLS_SANDBOX_DIR"] = previous
    try:
        yield World(root, project, env, moto_endpoint, ecs, proxy, registry)
    finally:
        proxy.stop()
        ecs.stop()
        with_tags = f"http://{registry}/v2/{project}-api"
        for tag in World(root, project, env, moto_endpoint, ecs, proxy, registry).tags():
            head = requests.head(
                f"{with_tags}/manifests/{tag}",
                headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
                timeout=10,
            )
            digest = head.headers.get("Docker-Content-Digest")
            if digest:
                requests.delete(f"{with_tags}/manifests/{digest}", timeout=10)
        support.remove_images_tagged(docker_engine, project)


def _until(condition: Any, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _stopped(deploy: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    """Signal the deploy's group; its stdout and stderr once it exited 128 + signum."""
    started = time.monotonic()
    os.killpg(deploy.pid, signum)
    try:
        out, err = deploy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(deploy.pid, signal.SIGKILL)
        out, err = deploy.communicate()
        pytest.fail(f"the deploy did not stop within 60s of {signal.Signals(signum).name}")
    took = time.monotonic() - started
    assert deploy.returncode == 128 + signum, out + err
    assert took < 20, f"the deploy took {took:.0f}s to stop"
    assert "Traceback" not in out + err
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1] == f"error: interrupted ({name})"
    doc = json.loads(out)
    assert (doc["ok"], doc["exit_code"], doc["error"]) == (
        False,
        128 + signum,
        f"interrupted ({name})",
    )
    return out, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_an_image_push_stops_the_push_and_records_an_interrupted_release(
    world: World, signum: signal.Signals
) -> None:
    world.registry.rate = SLOW
    deploy = world.deploy()
    _until(lambda: world.registry.sent > 1024 * 1024 or deploy.poll() is not None, "the push")
    assert deploy.poll() is None, deploy.communicate()
    _stopped(deploy, signum)

    # The engine gave up the push when the client went away: at full speed now, a push that
    # went on would finish and write its tag; instead every upload connection is closed.
    world.registry.rate = None
    _until(lambda: world.registry.open == 0, "the engine to hang up", timeout=30)
    time.sleep(2)
    assert world.tags() == []
    assert not world.lock_held()
    [release] = world.releases()
    assert (release["status"], release["reason"]) == ("interrupted", f"interrupted ({signum.name})")
    assert release["changes"] == ["interrupted during images: nothing more was done"]
    described = world.ecs_client().describe_services(cluster="c", services=["api", "web"])
    assert {s["taskDefinition"].rsplit(":", 1)[1] for s in described["services"]} == {"1"}

    world.registry.rate = None
    again = world.deploy()
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    latest, interrupted = world.releases()
    assert latest["status"] == "ok" and interrupted["id"] == release["id"]
    assert len(world.tags()) == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_rollout_poll_stops_it_and_the_next_deploy_completes(
    world: World, signum: signal.Signals
) -> None:
    world.ecs.state.scheduler.stability_seconds = HOUR  # the new tasks never count as stable
    deploy = world.deploy()
    ecs = world.ecs_client()

    def both_rolling() -> bool:
        if deploy.poll() is not None:
            return True
        services = ecs.describe_services(cluster="c", services=["api", "web"])["services"]
        return all(s["taskDefinition"].endswith(":2") for s in services)

    _until(both_rolling, "both rollouts to start")
    assert deploy.poll() is None, deploy.communicate()
    time.sleep(2.5)  # past the first look: both targets sleep between polls
    _stopped(deploy, signum)

    assert not world.lock_held()
    [release] = world.releases()
    assert (release["status"], release["reason"]) == ("interrupted", f"interrupted ({signum.name})")
    assert release["changes"][-1] == "interrupted during targets: nothing more was done"

    world.ecs.state.scheduler.stability_seconds = 0.2
    again = world.deploy()
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    # The interrupted release recorded what the targets run (read back after the signal), so
    # the same image again changes nothing and records nothing.
    steps = {s["name"]: s["status"] for s in json.loads(out)["steps"]}
    assert (steps["lock"], steps["target api"], steps["target web"]) == ("unchanged",) * 3
    assert [r["id"] for r in world.releases()] == [release["id"]]


@pytest.fixture
def proxies(world: World, moto_endpoint: str) -> Iterator[tuple[TcpProxy, TcpProxy]]:
    """The sandbox's AWS endpoints (moto's server, and the ECS emulator) behind proxies that a
    test can stop: endpoints that die mid-deploy."""
    host, port = moto_endpoint.removeprefix("http://").split(":")
    aws = TcpProxy((host, int(port)))
    ecs_host, ecs_port = world.ecs.url.removeprefix("http://").split(":")
    ecs = TcpProxy((ecs_host, int(ecs_port)))
    _route(world, aws=f"http://{aws.address}", ecs=f"http://{ecs.address}")
    try:
        yield aws, ecs
    finally:
        aws.stop()
        ecs.stop()


def _route(world: World, *, aws: str, ecs: str) -> None:
    """Point the sandbox record (what the CLI reads) at these endpoints."""
    endpoints = {**dict.fromkeys(SERVICES, aws), "ecs": ecs}
    sandbox = state.SandboxState(os.getpid(), endpoints, world.registry.address)
    path = Path(world.env["DEPLOYTOOLS_SANDBOX_DIR"]) / "state.json"
    path.write_text(json.dumps(asdict(sandbox)))


def _dies_mid_rollout(world: World, *dying: TcpProxy) -> tuple[int, str, str]:
    world.ecs.state.scheduler.stability_seconds = HOUR
    deploy = world.deploy()
    ecs = world.ecs_client()

    def rolling() -> bool:
        services = ecs.describe_services(cluster="c", services=["api", "web"])["services"]
        return deploy.poll() is not None or all(
            s["taskDefinition"].endswith(":2") for s in services
        )

    _until(rolling, "both rollouts to start")
    assert deploy.poll() is None, deploy.communicate()
    for proxy in dying:
        proxy.stop()
    try:
        out, err = deploy.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(deploy.pid, signal.SIGKILL)
        deploy.communicate()
        pytest.fail("the deploy went on after its endpoint died")
    assert "Traceback" not in out + err
    return deploy.returncode, out, err


def _endpoint_line(url: str) -> tuple[str, ...]:
    # The line ends "(during <the call in flight>": mostly the rollout's DescribeServices; on
    # a busy machine the last UpdateService's answer can still be on its way when it dies.
    return tuple(
        f"error: targets api, web failed: the AWS endpoint {url}/ stopped answering; check that "
        "it is running (the sandbox: deploytools sandbox status; AWS: this machine's network "
        f"and any AWS_ENDPOINT_URL setting), then run deploy again (during ecs:{call} "
        for call in ("DescribeServices", "UpdateService")
    )


def test_the_ecs_endpoint_dying_mid_rollout_fails_the_deploy_in_one_line_and_records_it(
    world: World, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    aws, ecs = proxies
    code, out, err = _dies_mid_rollout(world, ecs)
    assert code == 1, out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith(_endpoint_line(f"http://{ecs.address}")), last
    assert last.endswith((" c/api)", " c/web)")), last
    assert "warning: " not in err  # the release and the lock live in SSM, which still answers

    assert not world.lock_held()
    [release] = world.releases()
    assert release["status"] == "failed"
    assert release["reason"] == last.removeprefix("error: ")

    _route(world, aws=f"http://{aws.address}", ecs=world.ecs.url)  # the endpoint is back
    world.ecs.state.scheduler.stability_seconds = 0.2
    again = world.deploy()
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err


def test_every_endpoint_dying_mid_deploy_says_so_and_what_is_left_to_unlock(
    world: World, proxies: tuple[TcpProxy, TcpProxy], moto_endpoint: str
) -> None:
    aws, ecs = proxies
    code, out, err = _dies_mid_rollout(world, aws, ecs)
    assert code == 1, out + err
    lines = err.strip().splitlines()
    assert lines[-1].startswith(_endpoint_line(f"http://{ecs.address}")), lines[-1]
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert warnings[0].startswith("warning: the release record was not written: ")
    assert warnings[1].startswith(
        f"warning: cannot read the deploy lock /deploytools/{world.project}"
    )
    lock_id = warnings[1].rsplit("--force-unlock ", 1)[1]

    # Back again: the lock the dead run left names itself, and --force-unlock clears it.
    _route(world, aws=moto_endpoint, ecs=world.ecs.url)
    world.ecs.state.scheduler.stability_seconds = 0.2
    locked = subprocess.run(
        world.command("deploy", "--env", "dev"), env=world.env, capture_output=True, text=True
    )
    assert locked.returncode == 1
    assert f"--force-unlock {lock_id}" in locked.stderr.strip().splitlines()[-1]
    unlocked = subprocess.run(
        world.command("deploy", "--env", "dev", "--force-unlock", lock_id),
        env=world.env,
        capture_output=True,
        text=True,
    )
    assert unlocked.returncode == 0, unlocked.stdout + unlocked.stderr
    assert not world.lock_held()
