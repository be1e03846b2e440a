"""Issue #12's items that no other module's test covers by name.

Every numbered item 1-18 has a test named `test_item_NN_…`; most live beside the code they
exercise (`grep -rn "def test_item_" tests/`). The ones here: item 4's plan summary, which
names per changing resource the attributes that change (real `terraform` against moto's
server, on a function whose environment deploytools changed), and item 16's `scripts/setup`,
which installs into virtual environments of the checkout only.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import boto3
import pytest

from deploytools.aws import AwsContext
from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformRunner, terraform_env

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("sts", "iam", "lambda")

ROOT = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_iam_role" "api" {
  name = "item4-api"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow", Action = "sts:AssumeRole",
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

# The app's own function, with no ignore_changes: the next apply undoes what deploytools set.
resource "aws_lambda_function" "api" {
  function_name    = "item4-api"
  role             = aws_iam_role.api.arn
  filename         = "${path.module}/api.zip"
  source_code_hash = filebase64sha256("${path.module}/api.zip")
  handler          = "main.handler"
  runtime          = "python3.12"

  environment {
    variables = { STAGE = "dev" }
  }
}
"""


@pytest.mark.terraform
def test_item_04_the_plan_summary_names_the_attributes_terraform_would_undo(
    tmp_path: Path, moto_endpoint: str, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(ROOT)
    with zipfile.ZipFile(root / "api.zip", "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return 1\n")
    aws = AwsContext(region="us-east-1", endpoints=dict.fromkeys(SERVICES, moto_endpoint))
    out = io.StringIO()
    with TerraformRunner(
        root,
        env_vars=terraform_env(aws, env="dev", images={}),
        reporter=Reporter(out=out),
        binary=terraform_bin,
    ) as tf:
        tf.init()
        tf.apply(tf.plan())
        # What a deploy does to the function: its environment gets the target's variables.
        lam = boto3.client("lambda", endpoint_url=moto_endpoint, region_name="us-east-1")
        lam.update_function_configuration(
            FunctionName="item4-api",
            Environment={"Variables": {"STAGE": "dev", "QUEUE_URL": "item4-queue-value"}},
        )
        again = tf.plan()

    assert again.text.splitlines() == [
        "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.",
        "  aws_lambda_function  1 to change",
        "Changed in place:",
        "  ~ aws_lambda_function.api  (environment)",
    ]
    assert "item4-queue-value" not in out.getvalue()  # attribute names, never their values
    assert "    Changed in place:\n      ~ aws_lambda_function.api  (environment)\n" in (
        out.getvalue()
    )


def test_item_16_scripts_setup_installs_only_into_the_checkouts_own_venvs() -> None:
    """Two checkouts never repoint each other: pip runs only with a venv's Python, and the
    machine's Python ($PYTHON) only creates venvs."""
    setup = (REPO / "scripts" / "setup").read_text()
    assert re.search(r'^VENV="\$ROOT/\.venv"', setup, re.MULTILINE)
    assert re.search(r'^VENV_TOOLS="\$ROOT/\.venv-tools"', setup, re.MULTILINE)
    code = [line.split("#", 1)[0] for line in setup.splitlines()]
    pip_runs = [line for line in code if "-m pip" in line or re.match(r"\s*pip3? ", line)]
    assert pip_runs == [
        '  if ! "$python" -m pip install -q --disable-pip-version-check '
        '--root-user-action=ignore "$@" \\'
    ]  # inside pip_quiet, whose first argument is the Python to use
    callers = [line.split("pip_quiet", 1)[1].split()[0] for line in code if "pip_quiet " in line]
    assert callers and set(callers) <= {'"$VENV_PY"', '"$venv/bin/python"'}, callers
    assert re.search(r'^VENV_PY="\$VENV/bin/python"', setup, re.MULTILINE)
    machine = [line.strip() for line in code if '"$PYTHON"' in line]
    assert machine and all(' -m venv "$' in line for line in machine), machine
