"""`deploytools plan`: the deploy's steps walked read-only.

The first test runs the real step modules (secrets, images, ECS, Lambda and Batch targets)
against moto (in-process) with a botocore `before-call` hook that fails on any mutating
operation. The others inject port fakes (tests/fakes.py) to pin the output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.checks.base import Finding
from deploytools.cli import main
from deploytools.commands import deploy as deploy_command
from deploytools.config import load_config
from deploytools.errors import Unavailable
from deploytools.output import Reporter
from deploytools.pipeline import Options, Run, plan, real_ports
from tests.fakes import OUTPUTS, World, fake_ports, put_secret, write_repo

MUTATING = ("Create", "Update", "Put", "Register", "Publish", "Delete", "Start", "Submit", "Tag")
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"

REAL_CONFIG: dict[str, Any] = {
    "project": "shop",
    "environments": {"dev": {"account_id": ACCOUNT}},
    "secrets": {"ssm_path": "/shop/{env}/", "required": ["API_KEY"]},
    "images": {"api": {"context": ".", "dockerfile": "Dockerfile"}},
    "targets": {
        "api": {"type": "ecs", "cluster": "shop", "container": "api", "image": "api"},
        "predict": {"type": "lambda", "image": "api", "alias": "live"},
        "train": {"type": "batch", "image": "api"},
    },
}


class Forbidden(AssertionError):
    pass


def moto_resources(aws: AwsContext) -> None:
    """What Terraform would have created: a service, an image function, a job definition."""
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="shop-api")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 100,
            "digest": "sha256:" + hashlib.sha256(b"v1").hexdigest(),
        },
        "layers": [],
    }
    image = ecr.put_image(repositoryName="shop-api", imageManifest=json.dumps(manifest))
    uri = f"{REGISTRY}/shop-api@{image['image']['imageId']['imageDigest']}"
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="shop")
    arn = ecs.register_task_definition(
        family="shop-dev-api", containerDefinitions=[{"name": "api", "image": uri, "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="shop", serviceName="shop-dev-api", taskDefinition=arn, desiredCount=1
    )
    role = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
    lam = aws.client("lambda")
    lam.create_function(
        FunctionName="shop-dev-predict",
        Role=role["Arn"],
        PackageType="Image",
        Code={"ImageUri": uri},
    )
    lam.publish_version(FunctionName="shop-dev-predict")
    lam.create_alias(FunctionName="shop-dev-predict", Name="live", FunctionVersion="1")
    aws.client("batch").register_job_definition(
        jobDefinitionName="shop-dev-train",
        type="container",
        containerProperties={"image": uri, "vcpus": 1, "memory": 512},
    )


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Run]:
    with mock_aws(config={"batch": {"use_docker": False}}):
        setup = AwsContext("us-east-1")
        put_secret(setup)
        moto_resources(setup)
        config = load_config(write_repo(tmp_path / "repo", REAL_CONFIG))
        yield Run(
            config=config,
            aws=AwsContext("us-east-1"),  # a fresh session: the hook sees every client
            reporter=Reporter(),
            ports=real_ports(),
            options=Options(env="dev"),
        )


def test_plan_makes_no_mutating_aws_call(real: Run) -> None:
    for module in ("images", "targets.ecs", "targets.lambda_", "targets.batch"):
        pytest.importorskip(f"deploytools.steps.{module}")
    calls: list[str] = []

    def refuse_mutations(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}:{model.name}")
        if model.name.startswith(MUTATING):
            raise Forbidden(f"plan called {model.service_model.service_name}:{model.name}")

    real.aws.session().events.register("before-call.*.*", refuse_mutations)
    result = plan(real)
    doc = result.document

    services = {c.split(":")[0] for c in calls}
    assert {"sts", "ssm", "ecr", "ecs", "lambda", "batch"} <= services, calls
    assert not [c for c in calls if c.split(":")[1].startswith(MUTATING)]
    for name in ("api", "predict", "train"):
        assert doc["targets"][name].get("change"), doc["targets"][name]
        assert "error" not in doc["targets"][name]
    assert doc["secrets"]["missing"] == []
    assert doc["images"][0]["action"] == "build, push"
    assert doc["images"][0]["repository"] == "shop-api"


@pytest.fixture
def injected(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    world = World()
    steps = {"findings": []}
    monkeypatch.setattr(
        deploy_command,
        "default_ports",
        lambda app: fake_ports(world, outputs=OUTPUTS, findings=steps["findings"]),
    )
    world.options = steps  # type: ignore[attr-defined]
    with mock_aws():
        put_secret(AwsContext("us-east-1"))
        yield world


def test_plan_text_output(
    injected: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_repo(tmp_path / "repo"))
    assert main(["--config", config, "plan", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert "  image api: build, push → shop-api (linux/amd64)" in out
    assert "  terraform: plan and apply infra" in out
    assert (
        "  target predict (lambda): refresh shop-dev-predict to image api: "
        "(new) → ecr/api@sha256:" in out
    )
    # With Terraform's current outputs, {tf.cluster} resolves and the ECS target is planned.
    assert "  target api (ecs): refresh shop-dev-api to image api: (new) → ecr/api@" in out
    assert [c[0] for c in injected.calls if c[0].startswith("terraform")] == ["terraform_plan"]
    assert injected.mutations() == []


def test_plan_json_is_one_document(
    injected: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_repo(tmp_path / "repo"))
    assert main(["--json", "--config", config, "plan", "--env", "dev"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["plan"]["env"] == "dev" and doc["plan"]["secrets"]["missing"] == []
    assert doc["plan"]["amplify"]["action"] == "create"
    assert doc["plan"]["amplify"]["summary"] == (
        "amplify shop-dev-web: create app; branch main: create; start a RELEASE job and wait"
    )
    assert doc["plan"]["smoke"][0]["url"] == "http://127.0.0.1:9/api/health"
    names = [s["name"] for s in doc["steps"]]
    assert names[:4] == ["check", "account", "secrets", "images"]
    assert all(s["status"] in ("unchanged", "skipped") for s in doc["steps"]), doc["steps"]


def test_plan_exits_3_on_check_errors(
    injected: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    injected.options["findings"] = [Finding("Dockerfile", 3, "DT001", "COPY x is ignored")]  # type: ignore[attr-defined]
    config = str(write_repo(tmp_path / "repo"))
    assert main(["--config", config, "plan", "--env", "dev"]) == 3
    assert "  Dockerfile:3: DT001 COPY x is ignored" in capsys.readouterr().out


def test_a_step_that_cannot_plan_is_skipped_with_the_reason(
    injected: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoImages:
        def plan(self, *args: Any, **kwargs: Any) -> list[Any]:
            raise Unavailable("a Docker engine", "install one")

        def build(self, *args: Any, **kwargs: Any) -> list[Any]:
            raise AssertionError("plan never builds")

    ports = replace(fake_ports(injected), images=NoImages())
    reporter = Reporter()
    config = load_config(write_repo(tmp_path / "repo"))
    run = Run(config, AwsContext("us-east-1"), reporter, ports, Options(env="dev"))
    doc = plan(run).document
    images = next(s for s in reporter.steps if s.name == "images")
    assert (images.status.value, images.summary) == (
        "skipped",
        "a Docker engine is not available: install one",
    )
    assert (
        doc["images"][0]["action"] == "build, push (not planned: the images step is not available)"
    )
