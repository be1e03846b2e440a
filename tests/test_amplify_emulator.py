"""The Amplify control-plane emulator: boto3 and Terraform's aws_amplify_app talk to it.

It stands in for Amplify Hosting because moto has none; these tests hold it to the real
REST-JSON protocol (botocore's own serializer and parser) and to the real provider.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from deploytools.sandbox import emulators, node_image
from deploytools.sandbox.amplify_build import BuildOutcome, BuildRequest, ContainerBuilder
from deploytools.sandbox.emulators import amplify as emulator_module
from deploytools.sandbox.emulators.amplify import AmplifyEmulator

ROOT_SPEC = Path(__file__).resolve().parents[1] / "amplify.yml"


@pytest.fixture
def emulator() -> Iterator[AmplifyEmulator]:
    running = emulator_module.serve(pending_seconds=0.05, job_seconds=0.3, page_size=3)
    yield running
    running.stop()


@pytest.fixture
def amplify(emulator: AmplifyEmulator) -> Any:
    return boto3.client("amplify", region_name="us-east-1", endpoint_url=emulator.url)


def wait_job(amplify: Any, app_id: str, branch: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job: dict[str, Any] = amplify.get_job(appId=app_id, branchName=branch, jobId=job_id)["job"]
        if job["summary"]["status"] not in ("PENDING", "RUNNING"):
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_the_sandbox_starts_it_as_the_amplify_endpoint() -> None:
    module = next(m for m in emulators.modules() if m.__name__.endswith(".amplify"))
    running = module.start(emulators.EmulatorContext(moto_url="http://127.0.0.1:1"))
    try:
        assert running.name == "amplify"
        assert list(running.services) == ["amplify"]
        assert running.services["amplify"].startswith("http://127.0.0.1:")
        url = running.services["amplify"]
        client = boto3.client("amplify", region_name="us-east-1", endpoint_url=url)
        assert client.list_apps()["apps"] == []
    finally:
        running.stop()


def test_apps_crud_and_pages(amplify: Any) -> None:
    created = amplify.create_app(
        name="web", platform="WEB_COMPUTE", environmentVariables={"A": "1"}, tags={"t": "1"}
    )["app"]
    assert created["appArn"] == f"arn:aws:amplify:us-east-1:123456789012:apps/{created['appId']}"
    assert created["defaultDomain"] == f"{created['appId']}.amplifyapp.com"
    updated = amplify.update_app(appId=created["appId"], environmentVariables={"A": "2"})["app"]
    assert updated["environmentVariables"] == {"A": "2"} and updated["platform"] == "WEB_COMPUTE"
    for index in range(6):
        amplify.create_app(name=f"other-{index}")
    first = amplify.list_apps()
    assert len(first["apps"]) == 3 and first["nextToken"]
    names = [a["name"] for p in amplify.get_paginator("list_apps").paginate() for a in p["apps"]]
    assert names == ["web", *(f"other-{i}" for i in range(6))]
    assert amplify.delete_app(appId=created["appId"])["app"]["name"] == "web"
    with pytest.raises(amplify.exceptions.NotFoundException, match="not found"):
        amplify.get_app(appId=created["appId"])


def test_errors_are_the_real_exception_codes(amplify: Any) -> None:
    with pytest.raises(amplify.exceptions.BadRequestException, match="platform must be one of"):
        amplify.create_app(name="web", platform="STATIC")
    app_id = amplify.create_app(name="web")["app"]["appId"]
    amplify.create_branch(appId=app_id, branchName="main")
    with pytest.raises(amplify.exceptions.BadRequestException, match="already exists"):
        amplify.create_branch(appId=app_id, branchName="main")
    with pytest.raises(amplify.exceptions.NotFoundException):
        amplify.start_job(appId=app_id, branchName="nope", jobType="RELEASE")
    with pytest.raises(ClientError) as error:
        amplify.get_job(appId=app_id, branchName="main", jobId="42")
    assert error.value.response["Error"]["Code"] == "NotFoundException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_branches_with_a_slash_in_the_name(amplify: Any) -> None:
    app_id = amplify.create_app(name="web")["app"]["appId"]
    branch = amplify.create_branch(appId=app_id, branchName="feature/login", stage="BETA")["branch"]
    assert branch["displayName"] == "feature-login"
    got = amplify.get_branch(appId=app_id, branchName="feature/login")["branch"]
    assert got["stage"] == "BETA" and got["enableAutoBuild"] is True
    amplify.update_branch(appId=app_id, branchName="feature/login", framework="Next.js - SSR")
    branches = amplify.list_branches(appId=app_id)["branches"]
    assert [(b["branchName"], b["framework"]) for b in branches] == [
        ("feature/login", "Next.js - SSR")
    ]


def test_a_job_goes_pending_running_succeed(amplify: Any) -> None:
    app_id = amplify.create_app(name="web", platform="WEB_COMPUTE")["app"]["appId"]
    amplify.create_branch(appId=app_id, branchName="main", stage="PRODUCTION")
    summary = amplify.start_job(appId=app_id, branchName="main", jobType="RELEASE")["jobSummary"]
    assert (summary["jobId"], summary["status"], summary["jobType"]) == ("1", "PENDING", "RELEASE")
    job = wait_job(amplify, app_id, "main", "1")
    assert job["summary"]["status"] == "SUCCEED"
    assert [(s["stepName"], s["status"]) for s in job["steps"]] == [
        ("BUILD", "SUCCEED"), ("DEPLOY", "SUCCEED"), ("VERIFY", "SUCCEED"),
    ]  # fmt: skip
    assert job["summary"]["endTime"] >= job["summary"]["startTime"]
    production = amplify.get_app(appId=app_id)["app"]["productionBranch"]
    assert (production["branchName"], production["status"]) == ("main", "SUCCEED")
    retry = amplify.start_job(appId=app_id, branchName="main", jobType="RETRY", jobId="1")
    assert retry["jobSummary"]["jobId"] == "2"
    listed = amplify.list_jobs(appId=app_id, branchName="main", maxResults=1)
    assert [j["jobId"] for j in listed["jobSummaries"]] == ["2"] and listed["nextToken"]


def test_a_job_passes_through_running() -> None:
    running = emulator_module.serve(pending_seconds=0.0, job_seconds=1.5)
    try:
        client = boto3.client("amplify", region_name="us-east-1", endpoint_url=running.url)
        app_id = client.create_app(name="web")["app"]["appId"]
        client.create_branch(appId=app_id, branchName="main")
        client.start_job(appId=app_id, branchName="main", jobType="RELEASE")
        job = client.get_job(appId=app_id, branchName="main", jobId="1")["job"]
        assert job["summary"]["status"] == "RUNNING"
        assert job["steps"][-1]["status"] == "RUNNING"
    finally:
        running.stop()


class FailingBuilder:
    """A builder whose build command fails, as a broken `npm run build` does."""

    def __init__(self) -> None:
        self.requests: list[BuildRequest] = []

    def build(self, request: BuildRequest) -> BuildOutcome:
        self.requests.append(request)
        return BuildOutcome(
            False, "BUILD failed: command npm run build exited with code 1", "Error: boom\n"
        )


def test_a_failed_build_fails_the_job_with_its_reason_and_log() -> None:
    builder = FailingBuilder()
    running = emulator_module.serve(pending_seconds=0.0, job_seconds=0.1, builder=builder)
    try:
        client = boto3.client("amplify", region_name="us-east-1", endpoint_url=running.url)
        variables = {"AMPLIFY_MONOREPO_APP_ROOT": "frontend", "API_URL": "http://x"}
        app_id = client.create_app(
            name="web", platform="WEB_COMPUTE", buildSpec="version: 1\n",
            environmentVariables=variables, repository="https://github.com/acme/web",
        )["app"]["appId"]  # fmt: skip
        client.create_branch(appId=app_id, branchName="main", environmentVariables={"B": "1"})
        client.start_job(appId=app_id, branchName="main", jobType="RELEASE")
        job = wait_job(client, app_id, "main", "1")
        log = requests.get(job["steps"][0]["logUrl"], timeout=5).text
    finally:
        running.stop()
    assert job["summary"]["status"] == "FAILED"
    (build,) = job["steps"]
    assert (build["stepName"], build["status"]) == ("BUILD", "FAILED")
    assert build["statusReason"] == "BUILD failed: command npm run build exited with code 1"
    assert "Error: boom" in log
    assert builder.requests == [
        BuildRequest(
            build_spec="version: 1\n",
            app_root="frontend",
            repository="https://github.com/acme/web",
            platform="WEB_COMPUTE",
            environment={**variables, "B": "1"},
            job=f"{app_id}/main/1",  # where a build that passed leaves its artifacts
        )
    ]


def test_without_a_builder_the_build_is_simulated_and_says_why(amplify: Any) -> None:
    app_id = amplify.create_app(name="web")["app"]["appId"]
    amplify.create_branch(appId=app_id, branchName="main")
    amplify.start_job(appId=app_id, branchName="main", jobType="RELEASE")
    job = wait_job(amplify, app_id, "main", "1")
    assert job["summary"]["status"] == "SUCCEED"
    assert job["steps"][0]["statusReason"] == (
        "simulated: the build commands were not run (no builder was given to the emulator)"
    )
    deploy_log = requests.get(job["steps"][1]["logUrl"], timeout=5).text
    assert "simulated: DEPLOY (the sandbox hosts nothing)" in deploy_log


def test_stop_job_cancels(amplify: Any, emulator: AmplifyEmulator) -> None:
    emulator.state.job_seconds = 5
    app_id = amplify.create_app(name="web")["app"]["appId"]
    amplify.create_branch(appId=app_id, branchName="main")
    amplify.start_job(appId=app_id, branchName="main", jobType="RELEASE")
    stopped = amplify.stop_job(appId=app_id, branchName="main", jobId="1")["jobSummary"]
    assert stopped["status"] == "CANCELLED"


def test_tags_for_terraform(amplify: Any) -> None:
    app = amplify.create_app(name="web", tags={"project": "shop"})["app"]
    assert amplify.list_tags_for_resource(resourceArn=app["appArn"])["tags"] == {"project": "shop"}
    amplify.tag_resource(resourceArn=app["appArn"], tags={"env": "dev"})
    amplify.untag_resource(resourceArn=app["appArn"], tagKeys=["project"])
    assert amplify.list_tags_for_resource(resourceArn=app["appArn"])["tags"] == {"env": "dev"}


def test_secrets_sent_to_it_are_never_returned(amplify: Any, emulator: AmplifyEmulator) -> None:
    app = amplify.create_app(name="web", accessToken="tok-123456", basicAuthCredentials="dXNlcg==")
    assert "accessToken" not in app["app"] and "basicAuthCredentials" not in app["app"]
    assert emulator.state.apps[app["app"]["appId"]].access_token == "tok-123456"


@pytest.mark.slow
def test_terraform_aws_amplify_app_round_trip(
    emulator: AmplifyEmulator,
    amplify: Any,
    terraform_bin: Path,
    terraform_cli_config: Path,
    tmp_path: Path,
) -> None:
    """The real hashicorp/aws provider creates, reads (no drift) and destroys through it."""
    (tmp_path / "main.tf").write_text(
        TERRAFORM.replace("ENDPOINT", emulator.url).replace("SPEC", str(ROOT_SPEC))
    )

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(terraform_bin), *args, "-no-color", "-input=false"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    assert terraform("init").returncode == 0
    applied = terraform("apply", "-auto-approve")
    assert applied.returncode == 0, applied.stderr
    [app] = amplify.list_apps()["apps"]
    assert (app["name"], app["platform"]) == ("shop-dev-web", "WEB_COMPUTE")
    assert app["environmentVariables"] == {"AMPLIFY_MONOREPO_APP_ROOT": "frontend"}
    assert app["tags"] == {"project": "shop"}
    branch = amplify.get_branch(appId=app["appId"], branchName="main")["branch"]
    assert (branch["framework"], branch["enableAutoBuild"]) == ("Next.js - SSR", False)
    plan = terraform("plan", "-detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr  # 0: no drift after a read
    destroyed = terraform("destroy", "-auto-approve")
    assert destroyed.returncode == 0, destroyed.stderr
    assert amplify.list_apps()["apps"] == []


TERRAFORM = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    amplify = "ENDPOINT"
  }
}
resource "aws_amplify_app" "this" {
  name                  = "shop-dev-web"
  platform              = "WEB_COMPUTE"
  build_spec            = file("SPEC")
  environment_variables = { AMPLIFY_MONOREPO_APP_ROOT = "frontend" }
  custom_rule {
    source = "/old"
    target = "/new"
    status = "301"
  }
  tags = { project = "shop" }
}
resource "aws_amplify_branch" "main" {
  app_id            = aws_amplify_app.this.id
  branch_name       = "main"
  framework         = "Next.js - SSR"
  stage             = "PRODUCTION"
  enable_auto_build = false
}
"""


def test_the_sandbox_builds_with_its_cache_and_keeps_artifacts_in_its_folder(
    docker_engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_BUILD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE", str(tmp_path / "checkout"))

    builder = emulator_module.sandbox_builder()

    assert isinstance(builder, ContainerBuilder)
    assert (builder.image, builder.source) == (node_image.NODE_IMAGE, tmp_path / "checkout")
    assert builder.cache == tmp_path / "cache"
    assert builder.artifacts == tmp_path / "sandbox" / "amplify-artifacts"
