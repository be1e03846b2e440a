"""The sandbox's ECS emulator: moto's server behind it, real boto3 clients in front, its tasks
on a test double of the Docker engine (what real containers do: test_sandbox_ecs_tasks.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from deploytools.sandbox import emulators
from deploytools.sandbox.emulators import ecs as emulator
from tests.support.fake_engine import FakeEngine

CRASHES = "registry/app:crashes"
NEVER_PUSHED = "registry/app:never-pushed"


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[emulator.Running]:
    engine = FakeEngine(missing=[NEVER_PUSHED], exits={CRASHES: 1})
    running = emulator.serve(moto_endpoint, workloads=engine, stability_seconds=0.5)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def ecs(proxy: emulator.Running) -> Any:
    return boto3.client("ecs", region_name="us-east-1", endpoint_url=proxy.url)


@pytest.fixture
def moto_ecs(moto_endpoint: str) -> Any:
    return boto3.client("ecs", region_name="us-east-1", endpoint_url=moto_endpoint)


def register(ecs: Any, image: str = "app:1", **env: str) -> str:
    environment = [{"name": k, "value": v} for k, v in env.items()]
    arn: str = ecs.register_task_definition(
        family="app",
        containerDefinitions=[
            {"name": "app", "image": image, "memory": 256, "environment": environment}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def create(ecs: Any, task_definition: str, *, breaker: dict[str, bool] | None = None) -> None:
    ecs.create_cluster(clusterName="c")
    config: dict[str, Any] = {"maximumPercent": 200, "minimumHealthyPercent": 100}
    if breaker is not None:
        config["deploymentCircuitBreaker"] = breaker
    ecs.create_service(
        cluster="c",
        serviceName="web",
        taskDefinition=task_definition,
        desiredCount=2,
        deploymentConfiguration=config,
    )


def describe(ecs: Any) -> dict[str, Any]:
    service: dict[str, Any] = ecs.describe_services(cluster="c", services=["web"])["services"][0]
    return service


def wait(ecs: Any, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    for _ in range(200):
        service = describe(ecs)
        if done(service):
            return service
        time.sleep(0.05)
    raise AssertionError(f"the service did not get there: {describe(ecs)}")


def settle(ecs: Any) -> dict[str, Any]:
    """The service once its primary deployment is no longer IN_PROGRESS."""
    return wait(ecs, lambda s: s["deployments"][0]["rolloutState"] != "IN_PROGRESS")


def test_a_new_service_settles_with_its_tasks_running(ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first)

    starting = describe(ecs)
    assert [(d["status"], d["rolloutState"]) for d in starting["deployments"]] == [
        ("PRIMARY", "IN_PROGRESS")
    ]
    assert starting["deployments"][0]["failedTasks"] == 0

    settled = settle(ecs)
    (only,) = settled["deployments"]
    assert only["rolloutState"] == "COMPLETED"
    assert (only["runningCount"], settled["runningCount"], settled["pendingCount"]) == (2, 2, 0)
    assert settled["deploymentConfiguration"]["maximumPercent"] == 200  # moto drops it
    assert settled["events"][0]["message"] == "(service web) has reached a steady state."
    running = ecs.list_tasks(cluster="c", serviceName="web")["taskArns"]
    tasks = ecs.describe_tasks(cluster="c", tasks=running)["tasks"]
    assert [(t["lastStatus"], t["taskDefinitionArn"]) for t in tasks] == [("RUNNING", first)] * 2


def test_an_update_starts_a_deployment_that_replaces_the_old_one(ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first)
    settle(ecs)
    second = register(ecs, "app:2")

    answer = ecs.update_service(cluster="c", service="web", taskDefinition="app:2")["service"]

    new, old = answer["deployments"]
    assert (new["status"], new["taskDefinition"], new["rolloutState"]) == (
        "PRIMARY",
        second,
        "IN_PROGRESS",
    )
    assert (old["status"], old["taskDefinition"], old["runningCount"]) == ("ACTIVE", first, 2)
    assert answer["taskDefinition"] == second  # an ARN, though the request said app:2

    settled = settle(ecs)
    assert [(d["id"], d["rolloutState"]) for d in settled["deployments"]] == [
        (new["id"], "COMPLETED")
    ]
    running = ecs.list_tasks(cluster="c", serviceName="web")["taskArns"]
    tasks = ecs.describe_tasks(cluster="c", tasks=running)["tasks"]
    assert {t["taskDefinitionArn"] for t in tasks} == {second}


def test_the_circuit_breaker_rolls_a_failing_deployment_back(ecs: Any, moto_ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first, breaker={"enable": True, "rollback": True})
    before = settle(ecs)["deployments"][0]
    failing = register(ecs, CRASHES)
    ours = ecs.update_service(cluster="c", service="web", taskDefinition=failing)["service"]

    after = wait(ecs, lambda s: "rolling back" in s["events"][0]["message"])

    assert [(d["id"], d["status"], d["taskDefinition"]) for d in after["deployments"]] == [
        (before["id"], "PRIMARY", first)
    ]
    assert after["taskDefinition"] == first
    messages = [e["message"] for e in after["events"]]
    assert messages[0] == f"(service web) rolling back to deployment {before['id']}."
    assert messages[1] == (
        f"(service web) (deployment {ours['deployments'][0]['id']}) deployment failed: "
        "tasks failed to start."
    )
    # moto's own record agrees, for clients that bypass the emulator.
    assert describe(moto_ecs)["taskDefinition"] == first
    stopped = ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster="c", tasks=stopped)["tasks"]
    assert len(tasks) == 3  # the breaker's threshold for 2 desired tasks
    assert {t["stoppedReason"] for t in tasks} == {"Essential container in task exited"}
    assert {t["taskDefinitionArn"] for t in tasks} == {failing}
    assert tasks[0]["containers"][0]["exitCode"] == 1
    # The trap: by the waiter's test this service is stable.
    ecs.get_waiter("services_stable").wait(
        cluster="c", services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 1}
    )


def test_a_breaker_without_rollback_leaves_the_rollout_failed(ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first, breaker={"enable": True, "rollback": False})
    settle(ecs)
    failing = register(ecs, NEVER_PUSHED)
    ecs.update_service(cluster="c", service="web", taskDefinition=failing)

    after = settle(ecs)

    new, old = after["deployments"]
    assert (new["status"], new["rolloutState"], new["failedTasks"]) == ("PRIMARY", "FAILED", 3)
    assert new["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert (old["status"], old["taskDefinition"], old["runningCount"]) == ("ACTIVE", first, 2)
    stopped = ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")["taskArns"]
    task = ecs.describe_tasks(cluster="c", tasks=stopped[:1])["tasks"][0]
    assert task["stoppedReason"].startswith("CannotPullContainerError:")
    assert task["containers"][0]["reason"] == "CannotPullContainerError"


def test_without_a_breaker_the_deployment_keeps_failing_tasks(ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first)
    settle(ecs)
    ecs.update_service(cluster="c", service="web", taskDefinition=register(ecs, CRASHES))

    failing = wait(ecs, lambda s: s["deployments"][0]["failedTasks"] >= 4)

    # Replaced for ever: well past the breaker's threshold of 3, still in progress.
    assert failing["deployments"][0]["rolloutState"] == "IN_PROGRESS"


def test_force_new_deployment_and_desired_count(ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first)
    old_id = settle(ecs)["deployments"][0]["id"]

    ecs.update_service(cluster="c", service="web", desiredCount=3)
    scaled = wait(ecs, lambda s: s["runningCount"] == 3)
    assert (scaled["deployments"][0]["id"], scaled["runningCount"]) == (old_id, 3)

    forced = ecs.update_service(cluster="c", service="web", forceNewDeployment=True)["service"]
    assert forced["deployments"][0]["id"] != old_id
    assert forced["deployments"][0]["taskDefinition"] == first


def test_other_operations_and_tasks_pass_through_to_moto(ecs: Any, moto_endpoint: str) -> None:
    first = register(ecs)
    create(ecs, first)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_endpoint)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    document = json.dumps({"instanceId": instance["InstanceId"], "region": "us-east-1"})
    ecs.register_container_instance(cluster="c", instanceIdentityDocument=document)

    assert ecs.list_clusters()["clusterArns"] == ["arn:aws:ecs:us-east-1:123456789012:cluster/c"]
    assert ecs.describe_task_definition(taskDefinition="app:1")["taskDefinition"]["family"] == "app"
    run = ecs.run_task(cluster="c", taskDefinition="app:1", count=1)["tasks"]
    listed = ecs.list_tasks(cluster="c")["taskArns"]  # no serviceName: moto answers
    assert [t["taskArn"] for t in run] == listed
    described = ecs.describe_tasks(cluster="c", tasks=listed)["tasks"]
    assert [t["taskArn"] for t in described] == listed


def test_services_created_before_the_emulator_are_taken_as_settled(
    moto_endpoint: str, moto_ecs: Any
) -> None:
    first = register(moto_ecs)
    create(moto_ecs, first)
    running = emulator.serve(moto_endpoint, workloads=FakeEngine())
    try:
        ecs = boto3.client("ecs", region_name="us-east-1", endpoint_url=running.url)
        adopted = describe(ecs)
        second = register(ecs, "app:2")
        update = ecs.update_service(cluster="c", service="web", taskDefinition=second)
    finally:
        running.stop()

    assert [(d["taskDefinition"], d["rolloutState"]) for d in adopted["deployments"]] == [
        (first, "COMPLETED")
    ]
    new, old = update["service"]["deployments"]
    assert (new["taskDefinition"], old["taskDefinition"]) == (second, first)


def test_the_sandbox_finds_and_starts_the_emulator(moto_endpoint: str) -> None:
    assert emulator in list(emulators.modules())
    started = emulator.start(emulators.EmulatorContext(moto_url=moto_endpoint))
    try:
        assert started.name == "ecs"
        url = started.services["ecs"]
        assert url.startswith("http://127.0.0.1:")
        client = boto3.client("ecs", region_name="us-east-1", endpoint_url=url)
        assert client.list_clusters()["clusterArns"] == []
    finally:
        started.stop()
