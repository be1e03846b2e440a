"""DT011 (callers bypassing the alias), DT012 (ignore_changes) and DT013 (pinned Batch
revisions) over small repositories written per test."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks import CheckContext, Finding, Severity, run_checks
from deploytools.config.loader import load_config

CONFIG = """\
project: automl
region: us-east-1
environments:
  dev: {account_id: "123456789012"}
terraform: {dir: infra}
targets:
  api: {type: lambda, function: "automl-{env}-api", package: {source: src}}
  trainer: {type: batch, job_definition: "automl-{env}-training", image: trainer}
images:
  trainer: {context: src}
"""


def findings(tmp_path: Path, main_tf: str, rules: set[str], **files: str) -> list[Finding]:
    (tmp_path / "infra").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "deploytools.yml").write_text(CONFIG)
    (tmp_path / "infra" / "main.tf").write_text(main_tf)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    ctx = CheckContext(root=tmp_path, config=load_config(tmp_path / "deploytools.yml"))
    return run_checks(ctx, only=rules)


def lines(found: list[Finding]) -> list[tuple[str, int, str, str]]:
    return [(f.file, f.line, f.rule, f.message) for f in found]


API_ON_FUNCTION = """\
resource "aws_apigatewayv2_integration" "api" {
  api_id           = aws_apigatewayv2_api.this.id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_function.api.invoke_arn
}

resource "aws_apigatewayv2_integration" "on_alias" {
  api_id           = aws_apigatewayv2_api.this.id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_alias.live.invoke_arn
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = "arn:aws:lambda:us-east-1:123456789012:function:automl-dev-api"
}

resource "aws_lambda_function_url" "api" {
  function_name = aws_lambda_function.api.function_name
}
"""


def test_item_02_dt011_names_each_caller_of_the_unqualified_function(tmp_path: Path) -> None:
    found = findings(tmp_path, API_ON_FUNCTION, {"DT011"})
    assert lines(found) == [
        (
            "infra/main.tf",
            4,
            "DT011",
            "aws_apigatewayv2_integration.api invokes the unqualified function "
            "(integration_uri = aws_lambda_function.api.invoke_arn): rolling back alias live "
            "changes nothing it serves",
        ),
        (
            "infra/main.tf",
            15,
            "DT011",
            "aws_lambda_event_source_mapping.jobs invokes the unqualified function (function_name"
            " = arn:aws:lambda:us-east-1:123456789012:function:automl-dev-api): rolling back "
            "alias live changes nothing it serves",
        ),
        (
            "infra/main.tf",
            18,
            "DT011",
            "aws_lambda_function_url.api has no qualifier: the URL invokes $LATEST, not alias live",
        ),
    ]
    assert all(f.severity is Severity.WARNING and f.fix for f in found)


LAMBDA_WITHOUT_IGNORE = """\
resource "aws_lambda_function" "api" {
  function_name    = "automl-dev-api"
  filename         = "${path.module}/build/api.zip"
  source_code_hash = filebase64sha256("${path.module}/build/api.zip")

  lifecycle {
    ignore_changes = [source_code_hash]
  }
}

resource "aws_batch_job_definition" "training" {
  name = "automl-dev-training"
  type = "container"
}

resource "aws_lambda_function" "owned" {
  function_name = "other"
  image_uri     = var.image
  lifecycle {
    ignore_changes = [image_uri, environment]
  }
}
"""


def test_item_04_dt012_names_the_attributes_terraform_would_undo(tmp_path: Path) -> None:
    found = findings(tmp_path, LAMBDA_WITHOUT_IGNORE, {"DT012"})
    assert lines(found) == [
        (
            "infra/main.tf",
            1,
            "DT012",
            "aws_lambda_function.api does not ignore filename, environment: the next terraform "
            "apply undoes what deploytools deployed",
        ),
        (
            "infra/main.tf",
            11,
            "DT012",
            "aws_batch_job_definition.training does not ignore container_properties: the next "
            "terraform apply undoes what deploytools deployed",
        ),
    ]
    assert found[0].fix == (
        "add `lifecycle { ignore_changes = [environment, filename, source_code_hash] }`"
    )


PINNED = """\
resource "aws_batch_job_definition" "training" {
  name = "automl-dev-training"
  type = "container"
  lifecycle {
    ignore_changes = [container_properties]
  }
}

resource "aws_lambda_function" "api" {
  function_name = "automl-dev-api"
  environment {
    variables = {
      JOB_DEFINITION = aws_batch_job_definition.training.arn
      BY_NAME        = aws_batch_job_definition.training.name
    }
  }
}
"""


def test_item_05_dt013_finds_pinned_revisions_in_terraform_and_code(tmp_path: Path) -> None:
    code = 'import boto3\nboto3.client("batch").submit_job(jobDefinition="automl-dev-training:3")\n'
    found = findings(tmp_path, PINNED, {"DT013"}, **{"submit.py": code})
    assert lines(found) == [
        (
            "infra/main.tf",
            13,
            "DT013",
            "aws_batch_job_definition.training.arn names one revision: callers never run what "
            "deploytools registers later",
        ),
        (
            "submit.py",
            2,
            "DT013",
            "job definition automl-dev-training:3 is pinned to revision 3: callers never run "
            "what deploytools registers later",
        ),
    ]


def test_dt011_to_dt013_are_quiet_on_terraform_that_agrees(tmp_path: Path) -> None:
    agreeing = """\
resource "aws_lambda_function" "api" {
  function_name = "automl-dev-api"
  filename      = "build/api.zip"
  lifecycle {
    ignore_changes = all
  }
}

resource "aws_apigatewayv2_integration" "api" {
  integration_uri = aws_lambda_alias.live.invoke_arn
}

resource "aws_lambda_function_url" "api" {
  function_name = aws_lambda_function.api.function_name
  qualifier     = "live"
}
"""
    assert findings(tmp_path, agreeing, {"DT011", "DT012", "DT013"}) == []
