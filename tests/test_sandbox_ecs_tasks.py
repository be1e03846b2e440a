"""ECS tasks as containers: the sandbox's ECS emulator on the real Docker engine and registry.

Each test pushes small busybox images and lets the workload decide: a process that exits, a
health check that never passes, an image that was never pushed. Health-check intervals are
scaled down (health_scale) so that ECS's 5 s minimum interval takes one second here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from deploytools.sandbox import containers
from deploytools.sandbox.emulators import ecs as emulator
from tests import support
from tests.support import workload_images
from tests.support.workload_images import PushedImage

SECRET = "s3cr3t-value-7f1c"  # a test value that must never be printed
PARAMETER = "/shop/dev/API_KEY"
SECRET_ARN = f"arn:aws:ssm:us-east-1:{workload_images.ACCOUNT}:parameter{PARAMETER}"
HEALTHY = {"command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health"],
           "interval": 5, "timeout": 2, "retries": 2}  # fmt: skip
NEVER_HEALTHY = {**HEALTHY, "command": ["CMD", "wget", "-q", "http://127.0.0.1:8080/missing"]}
SANDBOX = support.run_sandbox_id("test-ecs-tasks")


@pytest.fixture
def images(docker_engine: Any, registry: str, busybox_image: str) -> dict[str, PushedImage]:
    return {
        "httpd": workload_images.push(
            docker_engine, registry, busybox_image, workload_images.HTTPD
        ),
        "exits": workload_images.push(
            docker_engine, registry, busybox_image, workload_images.EXITS
        ),
    }


@pytest.fixture
def proxy(moto_endpoint: str, docker_engine: Any, registry: str) -> Iterator[emulator.Running]:
    workloads = containers.DockerWorkloads(docker_engine, registry, SANDBOX)
    running = emulator.serve(
        moto_endpoint, workloads=workloads, stability_seconds=1, health_scale=0.2
    )
    try:
        yield running
    finally:
        running.stop()
        workloads.remove_all()


@pytest.fixture
def ecs(proxy: emulator.Running) -> Any:
    return boto3.client("ecs", region_name="us-east-1", endpoint_url=proxy.url)


@pytest.fixture
def ssm(moto_endpoint: str) -> Any:
    client = boto3.client("ssm", region_name="us-east-1", endpoint_url=moto_endpoint)
    client.put_parameter(Name=PARAMETER, Value=SECRET, Type="SecureString")
    return client


def register(ecs: Any, image: PushedImage, health: dict[str, Any] | None = HEALTHY) -> str:
    container: dict[str, Any] = {
        "name": "api",
        "image": image.ecr_uri,
        "memory": 128,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        "secrets": [{"name": "API_KEY", "valueFrom": SECRET_ARN}],
    }
    if health:
        container["healthCheck"] = health
    arn: str = ecs.register_task_definition(family="api", containerDefinitions=[container])[
        "taskDefinition"
    ]["taskDefinitionArn"]
    return arn


def create(ecs: Any, task_definition: str) -> None:
    ecs.create_cluster(clusterName="c")
    ecs.create_service(
        cluster="c",
        serviceName="web",
        taskDefinition=task_definition,
        desiredCount=2,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )


def describe(ecs: Any) -> dict[str, Any]:
    service: dict[str, Any] = ecs.describe_services(cluster="c", services=["web"])["services"][0]
    return service


def wait(ecs: Any, done: Callable[[dict[str, Any]], bool], timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service = describe(ecs)
        if done(service):
            return service
        time.sleep(0.3)
    raise AssertionError(f"the service did not get there: {json.dumps(describe(ecs))[:2000]}")


def completed_on(task_definition: str) -> Callable[[dict[str, Any]], bool]:
    def done(service: dict[str, Any]) -> bool:
        return [(d["taskDefinition"], d["rolloutState"]) for d in service["deployments"]] == [
            (task_definition, "COMPLETED")
        ]

    return done


def tasks(ecs: Any, status: str = "RUNNING") -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster="c", serviceName="web", desiredStatus=status)["taskArns"]
    return list(ecs.describe_tasks(cluster="c", tasks=arns)["tasks"]) if arns else []


def running_containers(docker_engine: Any, found: list[dict[str, Any]]) -> list[bool]:
    return [
        docker_engine.containers.get(t["containers"][0]["runtimeId"]).status == "running"
        for t in found
    ]


def test_a_healthy_service_completes_with_its_secret_inside_the_container_only(
    ecs: Any, ssm: Any, images: dict[str, PushedImage], docker_engine: Any
) -> None:
    first = register(ecs, images["httpd"])
    create(ecs, first)

    service = wait(ecs, completed_on(first))

    assert service["runningCount"] == 2
    assert service["events"][0]["message"] == "(service web) has reached a steady state."
    running = tasks(ecs)
    assert [(t["lastStatus"], t["healthStatus"]) for t in running] == [("RUNNING", "HEALTHY")] * 2
    container = docker_engine.containers.get(running[0]["containers"][0]["runtimeId"])
    env = container.exec_run(["env"]).output.decode()
    assert f"API_KEY={SECRET}" in env.splitlines()
    assert "LOG_LEVEL=info" in env.splitlines()
    assert container.labels[containers.SANDBOX_LABEL] == SANDBOX
    assert docker_engine.api.inspect_container(container.id)["HostConfig"]["NetworkMode"] == "none"
    everything_said = json.dumps([describe(ecs), running, container.logs().decode()], default=str)
    assert SECRET not in everything_said


def test_an_image_whose_process_exits_fails_and_the_previous_tasks_keep_serving(
    ecs: Any, ssm: Any, images: dict[str, PushedImage], docker_engine: Any
) -> None:
    first = register(ecs, images["httpd"])
    create(ecs, first)
    before = wait(ecs, completed_on(first))["deployments"][0]
    broken = register(ecs, images["exits"], health=None)
    ours = ecs.update_service(cluster="c", service="web", taskDefinition=broken)["service"]

    after = wait(ecs, lambda s: "rolling back" in s["events"][0]["message"])

    assert [(d["id"], d["status"], d["taskDefinition"]) for d in after["deployments"]] == [
        (before["id"], "PRIMARY", first)
    ]
    messages = [e["message"] for e in after["events"]]
    assert messages[:2] == [
        f"(service web) rolling back to deployment {before['id']}.",
        f"(service web) (deployment {ours['deployments'][0]['id']}) deployment failed: "
        "tasks failed to start.",
    ]
    stopped = tasks(ecs, "STOPPED")
    assert len(stopped) == 3  # the breaker's threshold for 2 desired tasks
    assert {(t["stoppedReason"], t["stopCode"]) for t in stopped} == {
        ("Essential container in task exited", "EssentialContainerExited")
    }
    assert {t["containers"][0]["exitCode"] for t in stopped} == {3}
    serving = tasks(ecs)
    assert {t["taskDefinitionArn"] for t in serving} == {first}
    assert running_containers(docker_engine, serving) == [True, True]


def test_a_health_check_that_never_passes_fails_the_deployment(
    ecs: Any, ssm: Any, images: dict[str, PushedImage], docker_engine: Any
) -> None:
    first = register(ecs, images["httpd"])
    create(ecs, first)
    wait(ecs, completed_on(first))
    sick = register(ecs, images["httpd"], health=NEVER_HEALTHY)
    ecs.update_service(cluster="c", service="web", taskDefinition=sick)

    wait(ecs, lambda s: "rolling back" in s["events"][0]["message"])

    stopped = tasks(ecs, "STOPPED")
    sick_tasks = [t for t in stopped if t["stoppedReason"] == "Task failed container health checks"]
    assert [t["healthStatus"] for t in sick_tasks] == ["UNHEALTHY"] * 3
    # A task of the failed deployment still in its health checks is stopped by the rollback.
    assert {t["stoppedReason"] for t in stopped if t not in sick_tasks} <= {
        "Scaling activity initiated by deployment"
    }
    assert running_containers(docker_engine, tasks(ecs)) == [True, True]


def test_an_image_that_was_never_pushed_cannot_be_pulled(
    ecs: Any, ssm: Any, images: dict[str, PushedImage]
) -> None:
    first = register(ecs, images["httpd"])
    create(ecs, first)
    wait(ecs, completed_on(first))
    missing = workload_images.never_pushed()
    ecs.update_service(cluster="c", service="web", taskDefinition=register(ecs, missing))

    wait(ecs, lambda s: "rolling back" in s["events"][0]["message"])

    stopped = tasks(ecs, "STOPPED")
    assert {t["stoppedReason"] for t in stopped} == {
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): "
        f"failed to resolve ref {missing.ecr_uri}: not found"
    }
    assert {t["containers"][0]["reason"] for t in stopped} == {"CannotPullContainerError"}


def test_a_secret_missing_from_ssm_stops_the_task_before_it_starts(
    ecs: Any, images: dict[str, PushedImage]
) -> None:
    create(ecs, register(ecs, images["httpd"]))

    wait(ecs, lambda s: s["deployments"][0]["failedTasks"] >= 1)

    reasons = {t["stoppedReason"] for t in tasks(ecs, "STOPPED")}
    assert reasons == {
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secrets from ssm: service call has been "
        f"retried 1 time(s): invalid ssm parameters: {PARAMETER}"
    }


def test_stopping_the_emulator_removes_its_containers(
    moto_endpoint: str, docker_engine: Any, registry: str, ssm: Any, images: dict[str, PushedImage]
) -> None:
    workloads = containers.DockerWorkloads(docker_engine, registry, SANDBOX + "-stop")
    running = emulator.serve(moto_endpoint, workloads=workloads, stability_seconds=1)
    client = boto3.client("ecs", region_name="us-east-1", endpoint_url=running.url)
    first = register(client, images["httpd"], health=None)
    create(client, first)
    wait(client, completed_on(first))
    label = {"label": f"{containers.SANDBOX_LABEL}={SANDBOX}-stop"}
    assert len(docker_engine.containers.list(all=True, filters=label, ignore_removed=True)) == 2

    running.stop()

    assert support.containers_left(docker_engine, label["label"]) == []
