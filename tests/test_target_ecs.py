"""ECS target against moto's server behind the sandbox's ECS emulator (deployments that end).

The emulator's tasks run on a test double of the Docker engine (tests.support.fake_engine):
a task without a health check is healthy at once, an image the double calls never pushed
cannot be pulled, one it calls crashing exits 1.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.config.model import EcsTarget
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, Status, StepRecord
from deploytools.sandbox.emulators.ecs import Running, serve
from deploytools.steps.targets import refresher_for
from deploytools.steps.targets._container import SecretNotArn
from deploytools.steps.targets._wait import DEFAULT_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed
from deploytools.steps.targets.ecs import Refresher, ServiceNotFound
from deploytools.steps.targets.ecs_taskdef import ContainerNotFound
from tests.support.fake_engine import FakeEngine

FAST = Backoff(first=0.01, factor=1.5, cap=0.05, attempts=None)
ACCOUNT = "123456789012"
SECRET_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/shop/dev/API_KEY"
NEW_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop-api@sha256:{'b' * 64}"
BAD_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop-api@sha256:{'0' * 64}"  # never pushed
CRASHING_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop-api@sha256:{'e' * 64}"
CIRCUIT_BREAKER_ROLLBACK = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
CIRCUIT_BREAKER_ONLY = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}


@pytest.fixture
def ecs_sandbox(moto_endpoint: str) -> Iterator[Running]:
    # The ECS agent reads the task's secrets before it starts a container.
    ssm = AwsContext(region="us-east-1", endpoints={"ssm": moto_endpoint}).client("ssm")
    ssm.put_parameter(Name="/shop/dev/API_KEY", Value="from-ssm", Type="SecureString")
    engine = FakeEngine(missing=[BAD_IMAGE], exits={CRASHING_IMAGE: 1})
    running = serve(moto_endpoint, workloads=engine, stability_seconds=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def aws(ecs_sandbox: Running) -> AwsContext:
    return AwsContext(region="us-east-1", endpoints={"ecs": ecs_sandbox.url})


@pytest.fixture
def ecs(aws: AwsContext) -> Any:
    return aws.client("ecs")


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


def make_service(
    ecs: Any,
    *,
    breaker: dict[str, Any] | None = None,
    containers: list[dict[str, Any]] | None = None,
    desired: int = 2,
) -> str:
    """Cluster `shop`, service `shop-dev-api` settled on revision 1; returns that ARN."""
    ecs.create_cluster(clusterName="shop")
    containers = containers or [
        {
            "name": "api",
            "image": "shop-api:1",
            "memory": 512,
            "environment": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "API_KEY", "value": "plain-old-secret-value"},
            ],
        },
        {"name": "sidecar", "image": "envoy:1", "memory": 128, "essential": False},
    ]
    arn: str = ecs.register_task_definition(
        family="shop-dev-api",
        containerDefinitions=containers,
        tags=[{"key": "team", "value": "ml"}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="shop",
        serviceName="shop-dev-api",
        taskDefinition=arn,
        desiredCount=desired,
        deploymentConfiguration={"maximumPercent": 200, **(breaker or {})},
    )
    for _ in range(100):  # the emulator's scheduler starts the tasks in its own thread
        if primary(ecs)["rolloutState"] == "COMPLETED":
            break
        time.sleep(0.05)
    return arn


def target(**overrides: Any) -> EcsTarget:
    values: dict[str, Any] = {
        "type": "ecs",
        "cluster": "shop",
        "service": "shop-dev-api",
        "container": "api",
        "image": "api",
        "environment": {"MODEL_NAME": "distilbert"},
        "timeout": 60,
    }
    values.update(overrides)
    return EcsTarget(**values)


def refresher(aws: AwsContext, out: io.StringIO, **overrides: Any) -> Refresher:
    return Refresher("api", target(**overrides), aws=aws, reporter=Reporter(out=out), polling=FAST)


def primary(ecs: Any) -> dict[str, Any]:
    service = ecs.describe_services(cluster="shop", services=["shop-dev-api"])["services"][0]
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def revision(arn: str) -> int:
    return int(arn.rsplit(":", 1)[-1])


def test_refresh_registers_a_revision_and_waits_for_the_deployment(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)
    record = StepRecord("api")

    state = refresher(aws, out).refresh(
        RefreshInputs(image=NEW_IMAGE, environment={"STAGE": "dev"}), record
    )

    assert revision(state.revision) == 2
    assert state.image == NEW_IMAGE
    assert state.detail == {"cluster": "shop", "container": "api"}
    now = primary(ecs)
    assert now["taskDefinition"] == state.revision
    assert now["rolloutState"] == "COMPLETED"
    described = ecs.describe_task_definition(taskDefinition=state.revision, include=["TAGS"])
    api, sidecar = described["taskDefinition"]["containerDefinitions"]
    assert api["image"] == NEW_IMAGE
    assert sidecar["image"] == "envoy:1"  # only the target's container changes
    env = {e["name"]: e["value"] for e in api["environment"]}
    assert env["LOG_LEVEL"] == "info"  # live variables stay
    assert env["MODEL_NAME"] == "distilbert"  # config environment merged
    assert env["STAGE"] == "dev"  # pipeline environment merged
    assert described["tags"] == [{"key": "team", "value": "ml"}]
    assert record.changed[0] == "registered shop-dev-api:2"
    assert record.summary == "shop-dev-api → shop-dev-api:2"
    assert record.detail["deployment_id"] == now["id"]
    assert "IN_PROGRESS" in out.getvalue()  # progress was reported while waiting


def test_secrets_reach_the_task_definition_only_as_value_from(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)
    other = SECRET_ARN.replace("API_KEY", "DB_URL")

    state = refresher(aws, out, secrets=["API_KEY"]).refresh(
        RefreshInputs(image=NEW_IMAGE, secret_arns={"API_KEY": SECRET_ARN, "DB_URL": other}),
        StepRecord("api"),
    )

    definition = ecs.describe_task_definition(taskDefinition=state.revision)["taskDefinition"]
    api = definition["containerDefinitions"][0]
    assert api["secrets"] == [{"name": "API_KEY", "valueFrom": SECRET_ARN}]  # DB_URL not listed
    names = {e["name"] for e in api["environment"]}
    assert "API_KEY" not in names  # the old plain value is gone, not shadowed
    assert "plain-old-secret-value" not in json.dumps(definition)


def test_a_secret_that_is_not_an_arn_is_refused_and_not_echoed(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)

    with pytest.raises(SecretNotArn) as raised:
        refresher(aws, out).refresh(
            RefreshInputs(image=NEW_IMAGE, secret_arns={"API_KEY": "hunter2-the-value"}),
            StepRecord("api"),
        )

    assert "hunter2" not in str(raised.value)
    assert "secret API_KEY: expected an SSM parameter ARN" in str(raised.value)
    assert revision(primary(ecs)["taskDefinition"]) == 1  # nothing registered or deployed
    assert len(ecs.list_task_definitions(familyPrefix="shop-dev-api")["taskDefinitionArns"]) == 1


def test_a_failed_rollout_is_rolled_back_with_the_stopped_tasks_reasons(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    before = make_service(ecs, breaker=CIRCUIT_BREAKER_ONLY)
    record = StepRecord("api")

    with pytest.raises(RolledBack) as raised:
        refresher(aws, out).refresh(RefreshInputs(image=BAD_IMAGE), record)

    message = str(raised.value)
    assert message.splitlines()[0].startswith("ecs shop/shop-dev-api: deployment ecs-svc/")
    assert "failed: ECS deployment circuit breaker: tasks failed to start." in message
    assert "the service is back on shop-dev-api:1" in message
    assert "stopped task: 3 tasks: CannotPullContainerError" in message
    assert "failed to resolve ref" in message
    assert "event: (service shop-dev-api) (deployment ecs-svc/" in message
    assert raised.value.restored.revision == before
    assert raised.value.restored.image == "shop-api:1"
    now = primary(ecs)
    assert now["taskDefinition"] == before  # we put it back ourselves
    assert now["rolloutState"] == "COMPLETED"
    assert record.changed == [
        "registered shop-dev-api:2",
        "service shop-dev-api → shop-dev-api:2",
        "service shop-dev-api → shop-dev-api:1",
        "rolled back to shop-dev-api:1",
    ]


def test_a_deployment_the_circuit_breaker_rolled_back_is_a_failure_not_a_success(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    before = make_service(ecs, breaker=CIRCUIT_BREAKER_ROLLBACK)
    record = StepRecord("api")

    with pytest.raises(RolledBack) as raised:
        refresher(aws, out).refresh(RefreshInputs(image=CRASHING_IMAGE), record)

    message = str(raised.value)
    assert "disappeared from the service: rolled back by the circuit breaker to shop-dev-api:1" in (
        message
    )
    assert "Essential container in task exited" in message
    assert "(container api: exit 1)" in message
    assert "event: (service shop-dev-api) rolling back to deployment ecs-svc/" in message
    assert raised.value.restored.revision == before
    # ECS already rolled back: we did not issue a second UpdateService.
    assert "service shop-dev-api → shop-dev-api:1" not in record.changed
    # The trap we avoid: botocore's waiter calls this service stable (one deployment, all
    # tasks running) although the deploy failed.
    ecs.get_waiter("services_stable").wait(
        cluster="shop", services=["shop-dev-api"], WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )
    # Nothing was deregistered: the live revision and ours are both still ACTIVE.
    for number in (1, 2):
        described = ecs.describe_task_definition(taskDefinition=f"shop-dev-api:{number}")
        assert described["taskDefinition"]["status"] == "ACTIVE"


def test_without_a_circuit_breaker_failed_tasks_end_the_wait(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    before = make_service(ecs, desired=4)

    with pytest.raises(RolledBack) as raised:
        refresher(aws, out).refresh(RefreshInputs(image=BAD_IMAGE), StepRecord("api"))

    # All 4 tasks start and fail at once; deploytools stops at 3 or more.
    assert "4 tasks failed to start (the service has no circuit breaker" in str(raised.value)
    assert primary(ecs)["taskDefinition"] == before
    assert "stopped task: 4 tasks: CannotPullContainerError" in str(raised.value)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def test_a_timeout_fails_and_a_rollback_that_also_times_out_is_not_reported_as_restored(
    moto_endpoint: str, out: io.StringIO
) -> None:
    never = serve(moto_endpoint, workloads=FakeEngine(), stability_seconds=3600)
    try:
        aws = AwsContext(region="us-east-1", endpoints={"ecs": never.url})
        ecs = aws.client("ecs")
        ecs.create_cluster(clusterName="shop")
        arn = ecs.register_task_definition(
            family="shop-dev-api",
            containerDefinitions=[{"name": "api", "image": "a:1", "memory": 128}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster="shop", serviceName="shop-dev-api", taskDefinition=arn, desiredCount=1
        )
        clock = FakeClock()
        polling = replace(DEFAULT_POLLING, sleep=clock.sleep, clock=clock.monotonic)
        refresh = Refresher(
            "api", target(timeout=30), aws=aws, reporter=Reporter(out=out), polling=polling
        )

        with pytest.raises(TargetFailed) as raised:
            refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("api"))
    finally:
        never.stop()

    assert not isinstance(raised.value, RolledBack)
    message = str(raised.value)
    assert "did not complete within 30s" in message
    assert "and the rollback to shop-dev-api:1 failed too" in message
    assert clock.now == pytest.approx(60)  # two waits of 30 s, no more


def test_restore_puts_an_earlier_revision_back(aws: AwsContext, ecs: Any, out: io.StringIO) -> None:
    make_service(ecs)
    refresh = refresher(aws, out)
    first = refresh.current()
    assert first is not None
    refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("api"))
    refresh.refresh(RefreshInputs(image=NEW_IMAGE.replace("b" * 64, "c" * 64)), StepRecord("api"))
    record = StepRecord("rollback")

    restored = refresh.restore(first, record)

    assert restored == first
    assert primary(ecs)["taskDefinition"] == first.revision
    assert primary(ecs)["rolloutState"] == "COMPLETED"
    assert refresh.current() == first
    assert record.summary == "shop-dev-api → shop-dev-api:1"

    again = StepRecord("rollback")
    assert refresh.restore(first, again) == first
    assert again.status is Status.UNCHANGED


def test_restore_of_a_deregistered_revision_registers_a_copy(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)
    refresh = refresher(aws, out)
    first = refresh.current()
    assert first is not None
    refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("api"))
    ecs.deregister_task_definition(taskDefinition=first.revision)
    record = StepRecord("rollback")

    restored = refresh.restore(first, record)

    assert revision(restored.revision) == 3
    assert restored.image == "shop-api:1"
    assert record.changed[0] == "re-registered shop-dev-api:1 (it was INACTIVE)"
    assert primary(ecs)["taskDefinition"] == restored.revision


def test_current_and_describe_change_make_no_mutating_call(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)
    calls: list[str] = []
    ecs.meta.events.register("before-call.ecs", lambda model, **_: calls.append(model.name))
    refresh = refresher(aws, out)

    state = refresh.current()
    line = refresh.describe_change(NEW_IMAGE)

    assert state is not None and state.image == "shop-api:1" and revision(state.revision) == 1
    assert line == (
        f"ecs shop/shop-dev-api: api shop-api:1 → {NEW_IMAGE} (new revision after shop-dev-api:1)"
    )
    assert calls and all(name.startswith(("Describe", "List")) for name in calls), calls


def test_a_second_refresh_with_the_same_image_changes_nothing(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)
    refresh = refresher(aws, out)
    first = refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("api"))
    record = StepRecord("api")

    second = refresh.refresh(RefreshInputs(image=NEW_IMAGE), record)

    assert second == first
    assert record.status is Status.UNCHANGED
    assert record.changed == []
    assert len(ecs.list_task_definitions(familyPrefix="shop-dev-api")["taskDefinitionArns"]) == 2


def test_the_container_must_be_named_when_the_task_has_several(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs)

    with pytest.raises(ContainerNotFound) as raised:
        refresher(aws, out, container=None).refresh(
            RefreshInputs(image=NEW_IMAGE), StepRecord("api")
        )
    assert "has 2 containers (api, sidecar)" in str(raised.value)

    with pytest.raises(ContainerNotFound) as raised:
        refresher(aws, out, container="web").refresh(
            RefreshInputs(image=NEW_IMAGE), StepRecord("api")
        )
    assert "has no container 'web'; its containers: api, sidecar" in str(raised.value)


def test_the_only_container_is_taken_when_none_is_named(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    make_service(ecs, containers=[{"name": "web", "image": "web:1", "memory": 256}])

    state = refresher(aws, out, container=None).refresh(
        RefreshInputs(image=NEW_IMAGE), StepRecord("api")
    )

    assert state.detail["container"] == "web"
    assert state.image == NEW_IMAGE


def test_a_missing_service_is_none_for_status_and_an_error_for_deploy(
    aws: AwsContext, ecs: Any, out: io.StringIO
) -> None:
    ecs.create_cluster(clusterName="shop")
    refresh = refresher(aws, out)

    assert refresh.current() is None
    assert "service not found (Terraform creates it)" in refresh.describe_change(NEW_IMAGE)
    with pytest.raises(ServiceNotFound, match="shop-dev-api not found in cluster shop"):
        refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("api"))


def test_a_missing_cluster_is_none_for_status_and_plan(aws: AwsContext, out: io.StringIO) -> None:
    """Before the first terraform apply neither the cluster nor the service exists."""
    refresh = refresher(aws, out)

    assert refresh.current() is None
    assert refresh.describe_change(NEW_IMAGE) == (
        "ecs shop/shop-dev-api: service not found (Terraform creates it); nothing to refresh yet"
    )
    with pytest.raises(ServiceNotFound):
        refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("api"))


def test_refresher_for_builds_the_ecs_refresher(aws: AwsContext, out: io.StringIO) -> None:
    built = refresher_for("api", target(), aws=aws, reporter=Reporter(out=out))

    assert isinstance(built, Refresher)
