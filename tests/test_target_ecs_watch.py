"""How an ECS deployment is judged, and the failure shapes of real ECS that moto cannot make.

The Stubber tests replay what real ECS answers when its circuit breaker rolls back: the
failed deployment stays listed as ACTIVE with rolloutState FAILED while a new PRIMARY
deployment of the previous revision takes over. Neither moto nor the sandbox's emulator
(which drops the failed deployment at once) produces that sequence.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from deploytools.aws import AwsContext
from deploytools.config.model import EcsTarget
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, StepRecord
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed
from deploytools.steps.targets.ecs import Refresher
from deploytools.steps.targets.ecs_watch import (
    Phase,
    describe_stop,
    failure_threshold,
    judge,
    recent_events,
)

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:{}"
SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/shop/api"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/shop"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def deployment(
    id_: str, revision: int, *, status: str = "PRIMARY", rollout: str = "IN_PROGRESS", **extra: Any
) -> dict[str, Any]:
    return {
        "id": id_,
        "status": status,
        "taskDefinition": TD.format(revision),
        "desiredCount": 2,
        "runningCount": 0,
        "failedTasks": 0,
        "rolloutState": rollout,
        "createdAt": T0,
        **extra,
    }


def service(*deployments: dict[str, Any], breaker: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "serviceArn": SERVICE_ARN,
        "serviceName": "api",
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": 2,
        "taskDefinition": deployments[0]["taskDefinition"],
        "deploymentController": {"type": "ECS"},
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker}
        },
        "deployments": list(deployments),
        "events": [],
        **extra,
    }


# --- judge ------------------------------------------------------------------------------


def test_completed_is_done() -> None:
    verdict = judge(
        service(deployment("ecs-svc/2", 2, rollout="COMPLETED")),
        deployment_id="ecs-svc/2",
        task_definition=TD.format(2),
    )
    assert verdict.phase is Phase.DONE


def test_in_progress_waits() -> None:
    verdict = judge(
        service(deployment("ecs-svc/2", 2), deployment("ecs-svc/1", 1, status="ACTIVE")),
        deployment_id="ecs-svc/2",
        task_definition=TD.format(2),
    )
    assert verdict.phase is Phase.WAITING


def test_a_vanished_deployment_is_a_circuit_breaker_rollback() -> None:
    """What botocore's services_stable waiter calls success: one deployment, all running."""
    stable_again = service(
        deployment("ecs-svc/1", 1, rollout="COMPLETED", runningCount=2, desiredCount=2)
    )
    verdict = judge(stable_again, deployment_id="ecs-svc/2", task_definition=TD.format(2))
    assert verdict.phase is Phase.FAILED
    assert verdict.rolled_back_by_ecs
    assert verdict.why == (
        "deployment ecs-svc/2 disappeared from the service: "
        "rolled back by the circuit breaker to api:1"
    )


def test_a_failed_deployment_that_is_no_longer_primary_is_being_rolled_back() -> None:
    verdict = judge(
        service(
            deployment("ecs-svc/3", 1),
            deployment("ecs-svc/2", 2, status="ACTIVE", rollout="FAILED"),
        ),
        deployment_id="ecs-svc/2",
        task_definition=TD.format(2),
    )
    assert verdict.phase is Phase.FAILED
    assert verdict.rolled_back_by_ecs
    assert verdict.why == "deployment ecs-svc/2 failed and is being rolled back to api:1"


def test_rollout_failed_carries_its_reason() -> None:
    verdict = judge(
        service(
            deployment(
                "ecs-svc/2", 2, rollout="FAILED", rolloutStateReason="tasks failed to start."
            )
        ),
        deployment_id="ecs-svc/2",
        task_definition=TD.format(2),
    )
    assert verdict.phase is Phase.FAILED
    assert not verdict.rolled_back_by_ecs
    assert verdict.why == "deployment ecs-svc/2 failed: tasks failed to start."


def test_without_a_breaker_the_breakers_threshold_applies() -> None:
    assert [failure_threshold(n) for n in (1, 6, 7, 100, 1000)] == [3, 3, 4, 50, 200]
    below = service(deployment("ecs-svc/2", 2, failedTasks=2), breaker=False)
    at = service(deployment("ecs-svc/2", 2, failedTasks=3), breaker=False)
    with_breaker = service(deployment("ecs-svc/2", 2, failedTasks=3), breaker=True)
    kwargs = {"deployment_id": "ecs-svc/2", "task_definition": TD.format(2)}
    assert judge(below, **kwargs).phase is Phase.WAITING
    assert judge(at, **kwargs).phase is Phase.FAILED
    assert judge(with_breaker, **kwargs).phase is Phase.WAITING  # ECS decides


def test_without_a_known_id_the_primary_on_our_revision_is_ours() -> None:
    ours = service(deployment("ecs-svc/9", 2, rollout="COMPLETED"))
    theirs = service(deployment("ecs-svc/9", 1, rollout="COMPLETED"))
    assert judge(ours, deployment_id=None, task_definition=TD.format(2)).phase is Phase.DONE
    assert judge(theirs, deployment_id=None, task_definition=TD.format(2)).phase is Phase.FAILED


def test_stop_descriptions_and_events() -> None:
    task = {
        "stoppedReason": "Essential container in task exited",
        "containers": [
            {"name": "api", "exitCode": 137, "reason": "OutOfMemoryError: Container killed"},
            {"name": "sidecar", "exitCode": 0},
        ],
    }
    assert describe_stop(task) == (
        "Essential container in task exited "
        "(container api: OutOfMemoryError: Container killed, exit 137)"
    )
    events = [
        {"createdAt": T0 + timedelta(seconds=5), "message": "new"},
        {"createdAt": T0 - timedelta(seconds=5), "message": "before our deployment"},
    ]
    assert recent_events({"events": events}, T0) == ["new"]


# --- Stubber: real ECS's rollback sequence -------------------------------------------------


@pytest.fixture
def aws() -> AwsContext:
    return AwsContext(region="us-east-1", endpoints={"ecs": "http://127.0.0.1:9"})


def ecs_target() -> EcsTarget:
    return EcsTarget(type="ecs", cluster="shop", service="api", image="api", timeout=60)


def task_definition(revision: int, image: str) -> dict[str, Any]:
    return {
        "taskDefinition": {
            "taskDefinitionArn": TD.format(revision),
            "family": "api",
            "revision": revision,
            "status": "ACTIVE",
            "compatibilities": ["FARGATE"],
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "networkMode": "awsvpc",
            "containerDefinitions": [{"name": "api", "image": image, "essential": True}],
            "registeredAt": T0,
        },
        "tags": [],
    }


def test_real_ecs_rollback_sequence_is_reported_as_rolled_back(aws: AwsContext) -> None:
    client = aws.client("ecs")
    new_image = "repo/api@sha256:" + "a" * 64
    live = service(deployment("ecs-svc/1", 1, rollout="COMPLETED", runningCount=2))
    started = service(
        deployment("ecs-svc/2", 2), deployment("ecs-svc/1", 1, status="ACTIVE", runningCount=2)
    )
    tripped = service(
        deployment("ecs-svc/3", 1, runningCount=2),
        deployment(
            "ecs-svc/2",
            2,
            status="ACTIVE",
            rollout="FAILED",
            failedTasks=3,
            rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
        ),
        events=[
            {
                "id": "e2",
                "createdAt": T0 + timedelta(seconds=90),
                "message": "(service api) rolling back to deployment ecs-svc/1.",
            },
        ],
    )
    settled = service(deployment("ecs-svc/3", 1, rollout="COMPLETED", runningCount=2))
    stopped = {
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/shop/abc",
        "taskDefinitionArn": TD.format(2),
        "lastStatus": "STOPPED",
        "stoppedReason": "Task failed ELB health checks in (target-group tg-api)",
        "containers": [{"name": "api", "exitCode": 137}],
    }
    with Stubber(client) as stub:
        stub.add_response("describe_services", {"services": [live]})
        stub.add_response("describe_task_definition", task_definition(1, "repo/api:1"))
        stub.add_response(
            "register_task_definition",
            {"taskDefinition": task_definition(2, new_image)["taskDefinition"]},
        )
        stub.add_response(
            "update_service",
            {"service": started},
            {"cluster": "shop", "service": "api", "taskDefinition": TD.format(2)},
        )
        stub.add_response("describe_services", {"services": [tripped]})
        stub.add_response("list_tasks", {"taskArns": [stopped["taskArn"]]}, {
            "cluster": "shop", "serviceName": "api", "desiredStatus": "STOPPED"
        })  # fmt: skip
        stub.add_response("describe_tasks", {"tasks": [stopped]}, {"cluster": "shop", "tasks": ANY})
        stub.add_response("describe_services", {"services": [tripped]})  # the rollback's view
        stub.add_response("describe_services", {"services": [settled]})
        stub.add_response("describe_task_definition", task_definition(1, "repo/api:1"))
        record = StepRecord("api")
        refresh = Refresher(
            "api",
            ecs_target(),
            aws=aws,
            reporter=Reporter(out=io.StringIO()),
            polling=Backoff(first=0.001, factor=1.5, cap=0.002, attempts=None),
        )

        with pytest.raises(RolledBack) as raised:
            refresh.refresh(RefreshInputs(image=new_image), record)
        stub.assert_no_pending_responses()

    message = str(raised.value)
    assert message.splitlines()[0] == (
        "ecs shop/api: deployment ecs-svc/2 failed and is being rolled back to api:1; "
        "the service is back on api:1"
    )
    assert "  rollout: ECS deployment circuit breaker: tasks failed to start." in message
    assert "  failed tasks: 3" in message
    assert (
        "  stopped task: Task failed ELB health checks in (target-group tg-api) "
        "(container api: exit 137)"
    ) in message
    assert "  event: (service api) rolling back to deployment ecs-svc/1." in message
    assert raised.value.restored.revision == TD.format(1)
    # ECS rolled back by itself: no UpdateService of ours back to revision 1.
    assert record.changed == ["registered api:2", "service api → api:2", "rolled back to api:1"]


def test_an_update_service_error_changes_nothing_more(aws: AwsContext) -> None:
    client = aws.client("ecs")
    live = service(deployment("ecs-svc/1", 1, rollout="COMPLETED", runningCount=2))
    with Stubber(client) as stub:
        stub.add_response("describe_services", {"services": [live]})
        stub.add_response("describe_task_definition", task_definition(1, "repo/api:1"))
        stub.add_response(
            "register_task_definition",
            {"taskDefinition": task_definition(2, "x")["taskDefinition"]},
        )
        stub.add_client_error(
            "update_service",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: ecs:UpdateService",
        )
        refresh = Refresher("api", ecs_target(), aws=aws, reporter=Reporter(out=io.StringIO()))

        with pytest.raises(TargetFailed) as raised:
            refresh.refresh(RefreshInputs(image="repo/api@sha256:" + "b" * 64), StepRecord("api"))
        stub.assert_no_pending_responses()

    assert not isinstance(raised.value, RolledBack)
    assert str(raised.value) == (
        "ecs:update_service for shop/api: AccessDeniedException: "
        "not authorized to perform: ecs:UpdateService"
    )
