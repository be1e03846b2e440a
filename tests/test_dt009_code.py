"""DT009's code half: boto3 calls in a target's code that its Terraform role does not allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytools.checks.iam.calls import api_calls
from deploytools.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "dt009" / "code"


def test_batch_trainer_missing_update_item_is_reported_at_the_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = FIXTURES / "missing" / "deploytools.yml"
    assert main(["--config", str(config), "check", "--rule", "DT009"]) == 3
    assert capsys.readouterr().out.splitlines() == [
        "backend/training/train.py:10: DT009 error: targets.trainer calls dynamodb.update_item "
        "(dynamodb:UpdateItem), but its role aws_iam_role.trainer (infra/main.tf) does not "
        "allow it",
        '    fix: add statement { actions = ["dynamodb:UpdateItem"], resources = [<the ARN it '
        "reaches>] } to data.aws_iam_policy_document.trainer",
        "1 error(s), 0 warning(s)",
    ]


def test_allowing_update_item_clears_it(capsys: pytest.CaptureFixture[str]) -> None:
    config = FIXTURES / "allowed" / "deploytools.yml"
    assert main(["--config", str(config), "check", "--rule", "DT009"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0 error(s), 0 warning(s)"]


SOURCE = """\
import boto3
from boto3 import client as make_client

table = boto3.resource("dynamodb").Table("runs")


class Store:
    def __init__(self):
        self.s3 = boto3.client("s3")

    def save(self):
        self.s3.put_object(Bucket="b", Key="k", Body=b"")
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket="b"):
            print(page)


table.update_item(Key={})
boto3.resource("s3").Object("b", "k").put(Body=b"")
make_client("batch").submit_job(jobName="j", jobQueue="q", jobDefinition="d")
boto3.client("sts").get_caller_identity()
boto3.client("lambda").invoke(FunctionName="f")
boto3.session.Session().client("sqs").send_message(QueueUrl="q", MessageBody="m")
boto3.client("s3").no_such_method()
"""


def test_calls_map_to_iam_actions() -> None:
    assert [(c.line, c.how, c.action) for c in api_calls(SOURCE)] == [
        (12, "self.s3.put_object", "s3:PutObject"),
        (13, "self.s3.get_paginator", "s3:ListBucket"),
        (17, "table.update_item", "dynamodb:UpdateItem"),
        (18, "boto3.resource('s3').Object('b', 'k').put", "s3:PutObject"),
        (19, "make_client('batch').submit_job", "batch:SubmitJob"),
        (21, "boto3.client('lambda').invoke", "lambda:InvokeFunction"),
        (22, "boto3.session.Session().client('sqs').send_message", "sqs:SendMessage"),
    ]
