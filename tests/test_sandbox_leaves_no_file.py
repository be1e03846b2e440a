"""Item 16 of issue 12 (first half): sandbox runs leave no `.terraform.lock.hcl`, override
file or state beside the user's Terraform code.

The real `terraform` with the AWS provider from the offline mirror, against moto's server;
`plan` and `deploy` through the command.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.lib.terraform_sandbox_backend import sandbox_backend
from tests.support.moto_sandbox import moto_sandbox

MAIN_TF = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {}
resource "aws_ssm_parameter" "flag" {
  name  = "/tidy/dev/flag"
  type  = "String"
  value = "on"
}
output "flag" { value = aws_ssm_parameter.flag.name }
"""


@pytest.fixture
def sandbox(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    return moto_sandbox(moto_endpoint, tmp_path, monkeypatch)


@pytest.fixture
def repo(tmp_path: Path, terraform_cli_config: Path) -> Path:
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(MAIN_TF)
    config = {
        "project": "tidy",
        "environments": {"dev": {"account_id": "123456789012"}},
        "terraform": {"dir": "infra"},
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    capsys.readouterr()
    code = main(["--sandbox", *args])
    out, err = capsys.readouterr()
    assert code == 0, out + err


def test_item_16_sandbox_plan_and_deploy_leave_no_file_beside_the_terraform_code(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    infra = repo.parent / "infra"
    _run(capsys, "--config", str(repo), "plan", "--env", "dev")
    assert sorted(p.name for p in infra.iterdir()) == ["main.tf"]
    _run(capsys, "--config", str(repo), "deploy", "--env", "dev")
    assert sorted(p.name for p in infra.iterdir()) == ["main.tf"]
    value = sandbox.client("ssm").get_parameter(Name="/tidy/dev/flag")["Parameter"]["Value"]
    assert value == "on"

    # The second deploy finds the providers it installed: init is skipped, still no file.
    capsys.readouterr()
    assert main(["--sandbox", "--config", str(repo), "deploy", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert "(providers, modules and backend up to date: skipped)" in out
    assert sorted(p.name for p in infra.iterdir()) == ["main.tf"]


def test_the_users_own_lock_file_is_left_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / ".terraform.lock.hcl").write_text("# the user's pins\n")
    with sandbox_backend(root, tmp_path / "state"):
        (root / ".terraform.lock.hcl").write_text("# rewritten by a sandbox init\n")
    assert (root / ".terraform.lock.hcl").read_text() == "# the user's pins\n"
    assert not (tmp_path / "state" / ".terraform.lock.hcl").exists()


def test_a_root_without_a_lock_file_gets_the_sandboxs_back_for_the_next_run(
    tmp_path: Path,
) -> None:
    root, state = tmp_path / "root", tmp_path / "state"
    root.mkdir()
    with sandbox_backend(root, state):
        (root / ".terraform.lock.hcl").write_text("# written by init\n")
    assert not (root / ".terraform.lock.hcl").exists()
    with sandbox_backend(root, state):
        assert (root / ".terraform.lock.hcl").read_text() == "# written by init\n"
    assert sorted(p.name for p in root.iterdir()) == []
