"""Item 11 of issue 12: an `aws_ecr_repository` the app's Terraform declares is the root's.
deploytools applies it first (`-target`), so the push has somewhere to go, and never creates
it itself (which made the full apply fail on a repository that already existed).

`deploy --sandbox` through the command: the real Docker engine builds the image, the loopback
registry holds it, the real `terraform` with the AWS provider applies against moto's server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.config import load_config
from deploytools.lib.ecr_declared import declared_repositories
from deploytools.pipeline.plan import render
from tests.support.moto_sandbox import moto_sandbox

MAIN_TF = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {}
resource "aws_ecr_repository" "api" {
  name                 = "shop-api"
  image_tag_mutability = "IMMUTABLE"
}
output "repository_url" { value = aws_ecr_repository.api.repository_url }
"""


@pytest.fixture
def sandbox(
    moto_endpoint: str, registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AwsContext:
    return moto_sandbox(moto_endpoint, tmp_path, monkeypatch, registry=registry)


@pytest.fixture
def repo(tmp_path: Path, busybox_image: str, terraform_cli_config: Path) -> Path:
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(MAIN_TF)
    (root / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY app.txt /app.txt\n")
    (root / "app.txt").write_text("v1\n")
    (root / ".dockerignore").write_text("infra/\n")
    config = {
        "project": "shop",
        "environments": {"dev": {"account_id": "123456789012"}},
        "images": {"api": {"context": ".", "dockerfile": "Dockerfile"}},
        "terraform": {"dir": "infra"},
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def test_item_11_a_repository_terraform_declares_is_applied_first_and_not_created_by_deploytools(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(["--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert (
        "  terraform declares the repositories of api: applying aws_ecr_repository.api first "
        "(-target), then the full plan"
    ) in out.splitlines()
    ecr = sandbox.client("ecr")
    [repository] = ecr.describe_repositories(repositoryNames=["shop-api"])["repositories"]
    assert repository["imageTagMutability"] == "IMMUTABLE"  # Terraform's, not deploytools'
    assert ecr.list_images(repositoryName="shop-api")["imageIds"]

    # A change of the image: the repository stays Terraform's, the new image is pushed.
    (repo.parent / "app.txt").write_text("v2\n")
    capsys.readouterr()
    code = main(["--json", "--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert json.loads(out)["images"]["api"]["pushed"] is True


def _files(tmp_path: Path, image: dict[str, object]) -> Path:
    root = tmp_path / "app"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(MAIN_TF)
    (root / "Dockerfile").write_text("FROM scratch\n")
    config = {
        "project": "shop",
        "environments": {"dev": {"account_id": "123456789012"}},
        "images": {"api": image},
        "terraform": {"dir": "infra"},
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def test_item_11_create_repository_true_for_a_declared_repository_is_dt000_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _files(tmp_path, {"context": ".", "create_repository": True})
    capsys.readouterr()
    code = main(["--config", str(config), "check", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 3, out
    [finding] = [f for f in json.loads(out)["findings"] if f["rule"] == "DT000"]
    assert (finding["file"], finding["line"]) == ("deploytools.yml", 8)
    assert finding["message"] == (
        "images.api.create_repository: true, but infra declares the repository shop-api "
        "(aws_ecr_repository.api): one owner only"
    )


def test_item_11_plan_shows_the_declared_repository_applied_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _files(tmp_path, {"context": "."})
    loaded = load_config(config)
    assert declared_repositories(loaded.root / "infra") == {"shop-api": "aws_ecr_repository.api"}
    doc = {
        "images": [],
        "terraform": {"dir": "infra", "apply_first": ["aws_ecr_repository.api"]},
        "targets": {},
        "pending_outputs": [],
    }
    assert render(doc)[:2] == [
        "  terraform: apply aws_ecr_repository.api first (-target), before the push",
        "  terraform: plan and apply infra",
    ]
