"""DT009's code half: boto3 calls in a target's code that its Terraform role does not allow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploytools.checks.iam.calls import api_calls
from deploytools.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "dt009" / "code"


def test_batch_trainer_missing_update_item_is_reported_at_the_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "missing", tmp_path, dirs_exist_ok=True)  # out of this repository
    config = tmp_path / "deploytools.yml"
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


LAMBDA_TF = """\
resource "aws_iam_role" "fn" {
  name               = "predict"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.fn.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "read" {
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "arn:aws:s3:::m/*" }]
  })
}

resource "aws_lambda_function" "predict" {
  function_name = "shop-${var.env}-predict"
  role          = aws_iam_role.fn.arn
}
"""
LAMBDA_CODE = """\
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    model = s3.get_object(Bucket="m", Key="model.bin")
    s3.put_object(Bucket="m", Key="out.json", Body=b"{}")
    return model
"""


def _lambda_repo(root: Path, attachment: str) -> Path:
    (root / "infra").mkdir()
    (root / "src").mkdir()
    tf = LAMBDA_TF.replace("service-role/AWSLambdaBasicExecutionRole", attachment)
    (root / "infra" / "main.tf").write_text(tf)
    (root / "src" / "app.py").write_text(LAMBDA_CODE)
    (root / "deploytools.yml").write_text(
        'project: shop\nenvironments:\n  dev: {account_id: "123456789012"}\n'
        "terraform: {dir: infra}\ntargets:\n  predict:\n    type: lambda\n"
        "    package: {source: src, handler: app.handler}\n"
    )
    return root / "deploytools.yml"


def test_lambda_role_missing_put_object_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _lambda_repo(tmp_path, "service-role/AWSLambdaBasicExecutionRole")
    args = ["--config", str(config), "check", "--rule", "DT009"]
    assert main(args) == 3
    assert capsys.readouterr().out.splitlines()[0] == (
        "src/app.py:8: DT009 error: targets.predict calls s3.put_object (s3:PutObject), but its "
        "role aws_iam_role.fn (infra/main.tf) does not allow it"
    )


def test_a_role_with_a_policy_we_cannot_read_is_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _lambda_repo(tmp_path, "SomeTeamPolicy")
    assert main(["--config", str(config), "check", "--rule", "DT009"]) == 0
    capsys.readouterr()
