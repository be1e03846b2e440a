"""The main job, end to end: `deploytools deploy --sandbox` of the example apps, as a user runs
it (the CLI in its own process), into a sandbox of its own.

Real parts: the Docker engine builds the images (from the local stand-in base images), the
sandbox's registry holds them, moto's ECR reports them, the real `terraform` applies the
example roots from terraform/examples/ against moto, the targets are refreshed by digest and
a release is recorded in SSM. Then a second deploy must be a no-op. The example trees are
copied, so no state or build output lands in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from deploytools.sandbox import apigateway
from tests import support

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.terraform, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")


class Sandbox:
    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env

    def deploytools(self, example: str, *args: str) -> subprocess.CompletedProcess[str]:
        config = self.work / "examples" / example / "deploytools.yml"
        return subprocess.run(
            [sys.executable, "-m", "deploytools", "--config", str(config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def deploy(self, example: str) -> str:
        done = self.deploytools(example, "deploy", "--env", "dev", "--sandbox")
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def client(self, service: str) -> Any:
        state = json.loads((Path(self.env["DEPLOYTOOLS_SANDBOX_DIR"]) / "state.json").read_text())
        url = state["endpoints"][service]
        assert url.startswith("http://127.0.0.1:")
        return boto3.client(service, endpoint_url=url, region_name="us-east-1")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    support.require_docker()
    support.require_registry()
    support.requires("terraform")
    made = subprocess.run(
        ["bash", str(REPO / "scripts" / "base-images")],
        env={**os.environ, "DOCKER_HOST": support.DOCKER_HOST},
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        support.unavailable(f"scripts/base-images failed:\n{made.stderr[-2000:]}")
    work = tmp_path_factory.mktemp("e2e")
    shutil.copytree(REPO / "examples", work / "examples", ignore=IGNORED)
    shutil.copytree(REPO / "terraform", work / "terraform", ignore=IGNORED)
    # A checkout, as in the repository: the examples' Terraform two folders up stays inside it.
    subprocess.run(["git", "init", "-q", str(work)], check=True, timeout=60)
    env = {
        **os.environ,
        "DOCKER_HOST": support.DOCKER_HOST,
        "DEPLOYTOOLS_SANDBOX_DIR": str(work / "sandbox"),
        "TMPDIR": str(work / "tmp"),  # zip packages are built under the temp folder
    }
    (work / "tmp").mkdir()
    running = Sandbox(work, env)
    try:
        yield running
    finally:
        running.deploytools("prediction-api", "sandbox", "down")


def test_lambda_image_app_deploys_then_redeploys_as_a_no_op(sandbox: Sandbox) -> None:
    first = sandbox.deploy("prediction-api")
    assert "built and pushed prediction-api-predictor:ct-" in first
    assert "✓ terraform apply" in first

    # What the user asked for is live: the alias points at a version running the image by
    # the digest ECR holds, and the release record names it.
    ecr = sandbox.client("ecr").describe_images(repositoryName="prediction-api-predictor")
    digests = {d["imageDigest"] for d in ecr["imageDetails"]}
    lam = sandbox.client("lambda")
    alias = lam.get_alias(FunctionName="prediction-api-dev-predict", Name="live")
    live = lam.get_function(
        FunctionName="prediction-api-dev-predict", Qualifier=alias["FunctionVersion"]
    )
    assert live["Configuration"]["PackageType"] == "Image"
    assert live["Configuration"]["Environment"]["Variables"]["MODEL_NAME"] == "date-regressor"
    assert live["Configuration"]["Description"].rsplit("@", 1)[1] in digests
    status = sandbox.deploytools("prediction-api", "status", "--env", "dev", "--sandbox", "--json")
    assert status.returncode == 0, status.stderr
    release = json.loads(status.stdout)
    assert release["release"]["targets"]["predict"]["revision"] == alias["FunctionVersion"]

    # The function runs: its HTTP API answers on loopback with the handler's body.
    serving = json.loads((sandbox.work / "sandbox" / "state.json").read_text())["serving"]
    (api,) = sandbox.client("apigatewayv2").get_apis()["Items"]
    url = apigateway.loopback_url(api["ApiEndpoint"], serving["apigateway"])
    answer = requests.post(f"{url}/predict", data='{"date": "2025-10-20"}', timeout=60)
    assert (answer.status_code, answer.json()) == (200, {"date": "2025-10-20", "prediction": 55})
    health = requests.get(f"{url}/health", timeout=60)
    assert health.json() == {"ok": True, "model": "date-regressor"}

    # The whole point of content tags and digests: nothing to rebuild, apply or publish.
    second = sandbox.deploy("prediction-api")
    assert "(already in the registry)" in second
    assert "No changes: the infrastructure matches the configuration" in second
    assert "(already live)" in second
    again = lam.get_alias(FunctionName="prediction-api-dev-predict", Name="live")
    assert again["FunctionVersion"] == alias["FunctionVersion"]

    # Sandbox state stays with the sandbox: the Terraform root holds no state of its own.
    root = sandbox.work / "terraform" / "examples" / "prediction-api"
    assert not list(root.glob("*.tfstate*"))
    assert not (root / "deploytools_sandbox_override.tf").exists()


def test_ecs_app_deploys_to_a_new_task_definition_by_digest(sandbox: Sandbox) -> None:
    out = sandbox.deploy("engagement-platform")
    assert "built and pushed engagement-scorer:ct-" in out
    # service_url is null in the sandbox (no load balancer): its smoke check is skipped, said.
    assert "terraform output(s) service_url are null here" in out

    ecs = sandbox.client("ecs")
    service = ecs.describe_services(cluster="engagement-dev", services=["engagement-dev-scorer"])[
        "services"
    ][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    container = task["taskDefinition"]["containerDefinitions"][0]
    assert "@sha256:" in container["image"]
    assert {"name": "DATA_BUCKET", "value": "engagement-dev-processed"} in container["environment"]
    # The secret reaches the container by reference, never by value.
    assert [s["name"] for s in container.get("secrets", [])] == ["WAREHOUSE_API_KEY"]
    assert container["secrets"][0]["valueFrom"].startswith("arn:aws:ssm:")
