"""Batch target against moto (in-process, its Docker-free Batch: jobs finish at once).

A failing smoke job uses moto's MOTO_SIMPLE_BATCH_FAIL_AFTER=0; the failure reason
fields real Batch fills (statusReason, the container's reason and exit code) come from a
Stubber, since moto leaves them empty.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.config.model import BatchTarget
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.targets import refresher_for
from deploytools.steps.targets.base import RefreshInputs, RolledBack
from deploytools.steps.targets.batch import (
    JobDefinitionNotFound,
    Refresher,
    SmokeJobFailed,
    job_reason,
)

FAST = Backoff(first=0.01, factor=1.5, cap=0.05, attempts=None)
ACCOUNT = "123456789012"
SECRET_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/automl/dev/DB_URL"
NEW_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/trainer@sha256:{'d' * 64}"


@pytest.fixture
def batch() -> Iterator[Any]:
    """A job queue `training` and job definition `automl-dev-trainer` revision 1."""
    with mock_aws(config={"batch": {"use_docker": False}}):
        iam = boto3.client("iam", region_name="us-east-1")
        client = boto3.client("batch", region_name="us-east-1")
        role = iam.create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        environment = client.create_compute_environment(
            computeEnvironmentName="training-ce", type="UNMANAGED", serviceRole=role
        )["computeEnvironmentArn"]
        client.create_job_queue(
            jobQueueName="training",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )
        client.register_job_definition(
            jobDefinitionName="automl-dev-trainer",
            type="container",
            containerProperties={
                "image": "trainer:1",
                "vcpus": 1,
                "memory": 2048,
                "command": ["python", "train.py"],
                "environment": [
                    {"name": "EPOCHS", "value": "3"},
                    {"name": "DB_URL", "value": "postgres://plain-old-value"},
                ],
            },
            retryStrategy={"attempts": 2},
            tags={"team": "ml"},
        )
        yield client


@pytest.fixture
def aws(batch: Any) -> AwsContext:
    return AwsContext(region="us-east-1")


def refresher(aws: AwsContext, **overrides: Any) -> Refresher:
    values: dict[str, Any] = {
        "type": "batch",
        "job_definition": "automl-dev-trainer",
        "image": "trainer",
        "environment": {"MODEL_BUCKET": "automl-dev-artifacts"},
        "timeout": 30,
    }
    values.update(overrides)
    return Refresher(
        "trainer",
        BatchTarget(**values),
        aws=aws,
        reporter=Reporter(out=io.StringIO()),
        polling=FAST,
    )


def latest(batch: Any) -> dict[str, Any]:
    found = batch.describe_job_definitions(jobDefinitionName="automl-dev-trainer", status="ACTIVE")[
        "jobDefinitions"
    ]
    return max(found, key=lambda d: d["revision"])  # type: ignore[no-any-return]


def test_refresh_registers_a_revision_with_the_new_image(aws: AwsContext, batch: Any) -> None:
    record = StepRecord("trainer")

    state = refresher(aws).refresh(
        RefreshInputs(
            image=NEW_IMAGE, secret_arns={"DB_URL": SECRET_ARN}, environment={"STAGE": "dev"}
        ),
        record,
    )

    now = latest(batch)
    assert state.revision == now["jobDefinitionArn"] and now["revision"] == 2
    assert state.image == NEW_IMAGE == now["containerProperties"]["image"]
    container = now["containerProperties"]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env == {"EPOCHS": "3", "MODEL_BUCKET": "automl-dev-artifacts", "STAGE": "dev"}
    assert container["secrets"] == [{"name": "DB_URL", "valueFrom": SECRET_ARN}]
    assert "plain-old-value" not in json.dumps(now)
    assert container["command"] == ["python", "train.py"]  # the rest is copied
    assert now["retryStrategy"] == {"attempts": 2}
    assert now["tags"] == {"team": "ml"}
    assert record.changed == ["registered automl-dev-trainer:2"]
    assert record.summary == (
        "automl-dev-trainer → automl-dev-trainer:2; callers submit with automl-dev-trainer or "
        f"{state.revision.rsplit(':', 1)[0]}"
    )


def test_a_smoke_job_runs_on_the_new_revision(aws: AwsContext, batch: Any) -> None:
    record = StepRecord("trainer")

    state = refresher(aws, job_queue="training").refresh(RefreshInputs(image=NEW_IMAGE), record)

    job = batch.describe_jobs(jobs=[record.detail["smoke_job"]])["jobs"][0]
    assert job["status"] == "SUCCEEDED"
    assert job["jobDefinition"] == state.revision
    assert job["jobName"] == "automl-dev-trainer-smoke-2"
    assert state.detail == {
        "revision": 2,
        "caller_arn": state.revision.rsplit(":", 1)[0],
        "job_queue": "training",
    }


def test_a_failed_smoke_job_puts_the_previous_properties_back(
    aws: AwsContext, batch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    record = StepRecord("trainer")

    with pytest.raises(RolledBack) as raised:
        refresher(aws, job_queue="training").refresh(RefreshInputs(image=NEW_IMAGE), record)

    message = str(raised.value)
    assert message.startswith("batch automl-dev-trainer: smoke job ")
    assert "FAILED" in message
    assert message.endswith("registered automl-dev-trainer:3 equal to automl-dev-trainer:1 again")
    now = latest(batch)
    assert now["revision"] == 3
    assert now["containerProperties"]["image"] == "trainer:1"
    restored = raised.value.restored
    assert restored.revision == now["jobDefinitionArn"]
    assert restored.detail["restored_from"].endswith("automl-dev-trainer:1")


def test_the_failure_reason_names_the_job_and_the_container() -> None:
    job = {
        "status": "FAILED",
        "statusReason": "Essential container in task exited",
        "container": {"exitCode": 1, "reason": "OutOfMemoryError: Container killed"},
        "attempts": [
            {"container": {"exitCode": 1, "reason": "OutOfMemoryError: Container killed"}}
        ],
    }
    assert job_reason(job) == (
        "Essential container in task exited; container: OutOfMemoryError: Container killed; "
        "exit code 1"
    )
    assert job_reason({}) == "no reason given"


def test_a_stubbed_failure_reaches_the_message(aws: AwsContext, batch: Any) -> None:
    refresh = refresher(aws, job_queue="training")
    with Stubber(refresh.client) as stub:
        stub.add_response("submit_job", {"jobName": "x", "jobId": "job-1"})
        stub.add_response(
            "describe_jobs",
            {
                "jobs": [
                    {
                        "jobName": "x",
                        "jobId": "job-1",
                        "jobQueue": "training",
                        "status": "FAILED",
                        "statusReason": "Essential container in task exited",
                        "startedAt": 1,
                        "jobDefinition": "automl-dev-trainer:2",
                        "container": {"exitCode": 2, "reason": "CannotPullContainerError"},
                    }
                ]
            },
        )
        with pytest.raises(SmokeJobFailed) as raised:
            refresh._smoke(
                "arn:aws:batch:us-east-1:123456789012:job-definition/x:2", StepRecord("t")
            )
    assert str(raised.value) == (
        "smoke job job-1 FAILED: Essential container in task exited; "
        "container: CannotPullContainerError; exit code 2"
    )


def test_restore_registers_the_recorded_revision_again(aws: AwsContext, batch: Any) -> None:
    refresh = refresher(aws)
    first = refresh.current()
    assert first is not None
    refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("trainer"))
    record = StepRecord("rollback")

    restored = refresh.restore(first, record)

    now = latest(batch)
    assert restored.revision == now["jobDefinitionArn"] and now["revision"] == 3
    assert restored.image == "trainer:1"
    assert restored.detail["restored_from"] == first.revision
    assert record.changed == ["registered automl-dev-trainer:3 equal to automl-dev-trainer:1"]
    assert refresh.current() == refresh._state(now)

    again = StepRecord("rollback")
    refresh.restore(first, again)
    assert again.status is Status.UNCHANGED
    assert latest(batch)["revision"] == 3


def test_a_second_refresh_with_the_same_image_changes_nothing(aws: AwsContext, batch: Any) -> None:
    refresh = refresher(aws)
    first = refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("trainer"))
    record = StepRecord("trainer")

    assert refresh.refresh(RefreshInputs(image=NEW_IMAGE), record) == first
    assert record.status is Status.UNCHANGED
    assert latest(batch)["revision"] == 2


def test_current_and_describe_change_make_no_mutating_call(aws: AwsContext) -> None:
    refresh = refresher(aws, job_queue="training")
    calls: list[str] = []
    refresh.client.meta.events.register(
        "before-call.batch", lambda model, **_: calls.append(model.name)
    )

    state = refresh.current()
    line = refresh.describe_change(NEW_IMAGE)

    assert state is not None and state.image == "trainer:1"
    assert line == (
        f"batch automl-dev-trainer: trainer:1 → {NEW_IMAGE} "
        "(new revision after automl-dev-trainer:1); smoke job on training"
    )
    assert calls and set(calls) == {"DescribeJobDefinitions"}


def test_a_missing_job_definition(aws: AwsContext) -> None:
    refresh = refresher(aws, job_definition="automl-dev-missing")

    assert refresh.current() is None
    with pytest.raises(JobDefinitionNotFound, match="automl-dev-missing has no ACTIVE revision"):
        refresh.refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("trainer"))


def test_refresher_for_builds_the_batch_refresher(aws: AwsContext) -> None:
    target = BatchTarget(type="batch", job_definition="automl-dev-trainer", image="trainer")

    built = refresher_for("trainer", target, aws=aws, reporter=Reporter(out=io.StringIO()))

    assert isinstance(built, Refresher)


def test_item_05_callers_get_the_revisionless_arn(aws: AwsContext, batch: Any) -> None:
    state = refresher(aws).refresh(RefreshInputs(image=NEW_IMAGE), StepRecord("trainer"))

    caller_arn = state.detail["caller_arn"]
    assert caller_arn == (f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/automl-dev-trainer")
    assert state.revision == f"{caller_arn}:2"
    # What a caller holding it runs is the newest revision deploytools registered.
    newest = batch.describe_job_definitions(jobDefinitionName="automl-dev-trainer")
    assert max(d["revision"] for d in newest["jobDefinitions"]) == 2
