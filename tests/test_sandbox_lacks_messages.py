"""Item 18 of issue 12: what the sandbox machine cannot provide is named, with the fix, in one
line: a base image the engine lacks and cannot pull, a Terraform provider missing from the
offline mirror, an AWS API moto lacks (EKS access
entries), a Lambda layer of an AWS-managed account; a provider crash is summarised (the first
error line and the resource), not its Go stack trace.

The base image case builds on the real Docker engine (one without a bridge network, as here:
the build stops before the engine is asked to pull). The provider and API cases run the real
`terraform` (the AWS provider from the mirror) against
moto's server through `deploy --sandbox`. The crash and the layer are Terraform's and the
provider's own text, fed to the summary: no provider here crashes on demand, and the layer
message is moto's answer, as the provider reports it.
"""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.steps.images.base_standin import Base, missing_base
from deploytools.steps.images.engine_network import sdk_network_mode
from deploytools.steps.terraform.known_failures import summarise
from tests.support.moto_sandbox import moto_sandbox

PROVIDER_CRASH = """\
aws_lambda_function.api: Creating...

Stack trace from the terraform-provider-aws_v5.100.0_x5 plugin:

panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x10 pc=0x5f0d2a1]

goroutine 412 [running]:
github.com/hashicorp/terraform-provider-aws/internal/service/lambda.resourceFunctionCreate(...)
\t/src/terraform-provider-aws/internal/service/lambda/function.go:571 +0x2a1
github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema.(*Resource).create(...)

Error: The terraform-provider-aws_v5.100.0_x5 plugin crashed!

This is always indicative of a bug within the plugin. It would be immensely
helpful if you could report the crash with the plugin's maintainers so that it
can be fixed. The output above should help diagnose the issue.

Error: Plugin did not respond

  with aws_lambda_function.api,
  on lambda.tf line 7, in resource "aws_lambda_function" "api":
   7: resource "aws_lambda_function" "api" {

The plugin encountered an error, and failed to respond to the
plugin.(*GRPCProvider).ApplyResourceChange call. The plugin logs may contain
more details.
"""

LAYER = """\
Error: creating Lambda Function (shop-dev-api): operation error Lambda: CreateFunction, https \
response error StatusCode: 404, RequestID: 3f1c, ResourceNotFoundException: One or more \
LayerVersion does not exist \
['arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:40']

  with aws_lambda_function.api,
  on lambda.tf line 7, in resource "aws_lambda_function" "api":
   7: resource "aws_lambda_function" "api" {
"""

EKS_ROOT = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {}
resource "aws_eks_access_entry" "ci" {
  cluster_name  = "shop-dev"
  principal_arn = "arn:aws:iam::123456789012:role/ci"
}
"""

ARCHIVE_ROOT = """\
terraform {
  required_providers {
    archive = { source = "hashicorp/archive" }
  }
}
"""


@pytest.fixture
def sandbox(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    return moto_sandbox(moto_endpoint, tmp_path, monkeypatch)


def _repo(tmp_path: Path, main_tf: str) -> Path:
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(main_tf)
    config = {
        "project": "shop",
        "environments": {"dev": {"account_id": "123456789012"}},
        "terraform": {"dir": "infra"},
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def _error_lines(capsys: pytest.CaptureFixture[str], config: Path) -> list[str]:
    capsys.readouterr()
    code = main(["--sandbox", "--config", str(config), "deploy", "--env", "dev"])
    err = capsys.readouterr().err
    assert code == 1, err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_item_18_a_provider_missing_from_the_mirror_is_named_with_the_fix(
    sandbox: AwsContext,
    tmp_path: Path,
    terraform_cli_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    [line] = _error_lines(capsys, _repo(tmp_path, ARCHIVE_ROOT))
    assert line.startswith(
        "error: terraform init failed: provider hashicorp/archive is not in the Terraform "
        "provider mirror ("
    )
    assert "; it has hashicorp/aws 5." in line
    assert line.endswith(
        "and this machine cannot download providers: add it to the mirror from a machine that "
        "can (`terraform providers mirror DIR` in a root that requires it), or use a provider "
        "the mirror has"
    )


def test_item_18_an_aws_api_moto_lacks_names_the_resource_the_api_and_the_fix(
    sandbox: AwsContext,
    tmp_path: Path,
    terraform_cli_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    role = sandbox.client("iam").create_role(RoleName="eks", AssumeRolePolicyDocument="{}")
    sandbox.client("eks").create_cluster(
        name="shop-dev", roleArn=role["Role"]["Arn"], resourcesVpcConfig={"subnetIds": []}
    )
    [line] = _error_lines(capsys, _repo(tmp_path, EKS_ROOT))
    assert line == (
        "error: terraform apply failed: aws_eks_access_entry.ci (main.tf line 7) calls EKS "
        "CreateAccessEntry, which the sandbox's AWS (moto) does not implement; leave the "
        "resource out of sandbox runs (count = var.deploytools_sandbox ? 0 : 1, with variable "
        '"deploytools_sandbox" declared) or deploy it to AWS'
    )


def test_item_18_a_provider_crash_is_summarised_by_its_first_error_line_and_resource() -> None:
    assert summarise(PROVIDER_CRASH, emulated=True) == (
        "the Terraform provider terraform-provider-aws_v5.100.0_x5 crashed on "
        "aws_lambda_function.api (lambda.tf line 7): panic: runtime error: invalid memory "
        "address or nil pointer dereference; a bug in the provider, not the root (its stack "
        "trace is left out): retry, or pin another provider version"
    )


def test_item_18_an_aws_managed_layer_is_named_with_the_fix() -> None:
    assert summarise(LAYER, emulated=True) == (
        "aws_lambda_function.api (lambda.tf line 7) uses the Lambda layer "
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:40, which the "
        "sandbox does not hold (AWS-managed layers live in AWS's own accounts); publish a copy "
        "in the root (aws_lambda_layer_version from its zip) for sandbox runs, or leave the "
        "layer out when var.deploytools_sandbox is true"
    )
    # Against AWS a missing layer is just that: Terraform's own words are kept.
    assert summarise(LAYER, emulated=False) is None


def test_item_18_a_base_image_that_cannot_be_pulled_is_named_with_the_fix(
    docker_engine: docker.DockerClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if sdk_network_mode(docker_engine) is None:
        pytest.skip("this engine has a bridge network: it pulls bases itself")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM scratch AS empty\nFROM nodejs.invalid/node:20\n")
    config = {
        "project": "shop",
        "environments": {"dev": {"account_id": "123456789012"}},
        "images": {"web": {"context": ".", "dockerfile": "Dockerfile"}},
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    capsys.readouterr()
    code = main(["--config", str(root / "deploytools.yml"), "build", "--env", "dev"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert [line for line in err.splitlines() if line.startswith("error: ")] == [
        "error: image web: FROM nodejs.invalid/node:20 (line 2) is not on this engine, which "
        "cannot pull images here (no bridge network, no registry access); `docker load` it "
        "(saved with `docker save` where it can be pulled), or base the image on "
        "python:X.Y[-slim], which gets a stand-in"
    ]


def test_item_18_a_base_the_stand_in_script_makes_names_the_script() -> None:
    error = missing_base("api", Base("public.ecr.aws/lambda/python:3.12", 1))
    assert str(error) == (
        "image api: FROM public.ecr.aws/lambda/python:3.12 (line 1) is not on this engine, "
        "which cannot pull images here (no bridge network, no registry access); run "
        "`bash scripts/base-images` (it makes stand-ins for python:3.12-slim, "
        "public.ecr.aws/lambda/python:3.12), or base the image on python:X.Y[-slim], which "
        "gets a stand-in"
    )
