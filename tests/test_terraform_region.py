"""One region: the config's region reaches a root's `region` variable, and a provider whose
region still differs is refused before apply (real terraform, AWS provider from the mirror)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from deploytools.errors import BadInput
from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformRunner
from deploytools.steps.terraform.region import provider_region

pytestmark = pytest.mark.terraform

PROVIDER = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
variable "region" { type = string }
provider "aws" {
  region                      = %s
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
resource "terraform_data" "x" { input = "x" }
output "region" { value = var.region }
"""


def _plan(tmp_path: Path, region_expression: str, terraform_bin: Path) -> str:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(PROVIDER % region_expression)
    env = {"AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    out = io.StringIO()
    with TerraformRunner(
        root, env_vars=env, reporter=Reporter(out=out), binary=terraform_bin
    ) as tf:
        tf.init()
        summary = tf.plan()
        tf.apply(summary)
        return str(tf.outputs()["region"])


def test_item_07_the_roots_region_variable_gets_the_configs_region(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    assert _plan(tmp_path, "var.region", terraform_bin) == "eu-central-1"


def test_item_07_a_provider_in_another_region_is_refused_before_apply(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    with pytest.raises(BadInput) as caught:
        _plan(tmp_path, '"us-east-1"', terraform_bin)
    assert str(caught.value) == (
        f"{tmp_path / 'root'}: the AWS provider's region is us-east-1 but deploytools deploys "
        "to eu-central-1; set the provider's region from a `region` variable (deploytools "
        "passes TF_VAR_region) or change `region:` in deploytools.yml"
    )
    assert (
        not list((tmp_path / "root").glob("*.tfstate"))
        or "terraform_data" not in (tmp_path / "root" / "terraform.tfstate").read_text()
    )


def test_provider_region_reads_literals_and_variables() -> None:
    literal = {"configuration": {"provider_config": {"aws": {"expressions": {
        "region": {"constant_value": "us-west-2"}}}}}}  # fmt: skip
    variable = {
        "configuration": {"provider_config": {"aws": {"expressions": {
            "region": {"references": ["var.aws_region"]}}}}},
        "variables": {"aws_region": {"value": "eu-west-1"}},
    }  # fmt: skip
    assert provider_region(literal) == "us-west-2"
    assert provider_region(variable) == "eu-west-1"
    assert provider_region({}) is None
