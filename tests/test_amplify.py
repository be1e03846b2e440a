"""Step 5, Amplify: deploy_amplify and plan_amplify with boto3 against the Amplify emulator.

moto has no Amplify, so the control plane is deploytools' own emulator
(deploytools.sandbox.emulators.amplify) on loopback; SSM (the access token) is moto's server.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig, load_config
from deploytools.errors import DeployError
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, StepRecord, mask
from deploytools.sandbox.amplify_build import ContainerBuilder
from deploytools.sandbox.emulators import amplify as emulator_module
from deploytools.sandbox.emulators.amplify import AmplifyEmulator
from deploytools.steps.amplify import (
    AccessTokenMissing,
    AccessTokenUnreadable,
    AmbiguousApp,
    AmplifyJobFailed,
    AmplifyResult,
    AmplifyTimeout,
    BuildSpecProblem,
    DeployOptions,
    Polling,
    UnresolvedOutputs,
    deploy_amplify,
    plan_amplify,
)
from deploytools.steps.secrets import read_parameter

pytestmark = pytest.mark.usefixtures("clean_masks")

ROOT_SPEC = Path(__file__).resolve().parents[1] / "amplify.yml"
FAST = Polling(
    backoff=Backoff(first=0.02, factor=1.5, cap=0.1, attempts=None), timeout=20, progress_every=0.5
)
APP = "shop-dev-web"
TOKEN = "github-token-sentinel-7c1d"
CONFIG = """\
project: shop
environments:
  dev: {account_id: "123456789012"}
frontend:
  amplify:
    app: shop-{env}-web
    repository: https://github.com/acme/shop
    branch: main
    app_root: frontend
    environment:
      NEXT_PUBLIC_API_URL: "{tf.api_url}"
"""


@pytest.fixture
def emulator() -> Iterator[AmplifyEmulator]:
    running = emulator_module.serve(pending_seconds=0.05, job_seconds=0.3, page_size=2)
    yield running
    running.stop()


@pytest.fixture
def aws(emulator: AmplifyEmulator, moto_endpoint: str) -> AwsContext:
    return AwsContext("us-east-1", endpoints={"amplify": emulator.url, "ssm": moto_endpoint})


@pytest.fixture
def amplify(aws: AwsContext) -> Any:
    return aws.client("amplify")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An app repository: deploytools.yml, the project's own amplify.yml, a frontend/ app."""
    root = tmp_path / "repo"
    (root / "frontend").mkdir(parents=True)
    (root / "deploytools.yml").write_text(CONFIG)
    shutil.copy(ROOT_SPEC, root / "amplify.yml")
    (root / "frontend" / ".npmrc").write_text("node-linker=hoisted\n")
    return root


def env_for(repo: Path, api_url: str = "https://api-v1.shop.invalid") -> EnvConfig:
    return load_config(repo / "deploytools.yml").for_env("dev", {"api_url": api_url})


def with_config(repo: Path, old: str, new: str) -> None:
    config = repo / "deploytools.yml"
    config.write_text(config.read_text().replace(old, new))


def options(aws: AwsContext, polling: Polling) -> DeployOptions:
    """What the pipeline hands the step: the polling and the secrets step's reader."""
    return DeployOptions(polling=polling, access_token=lambda name: read_parameter(aws, name))


def deploy(
    aws: AwsContext, env: EnvConfig, repo: Path, polling: Polling = FAST
) -> tuple[AmplifyResult, StepRecord, str]:
    out = io.StringIO()
    reporter = Reporter(out=out, err=out)
    with reporter.step("amplify") as record:
        result = deploy_amplify(
            aws, env, root=repo, reporter=reporter, record=record, options=options(aws, polling)
        )
    return result, record, out.getvalue()


def failing_deploy(
    aws: AwsContext, env: EnvConfig, repo: Path, polling: Polling = FAST
) -> tuple[DeployError, StepRecord, str]:
    out = io.StringIO()
    reporter = Reporter(out=out, err=out)
    with pytest.raises(DeployError) as error, reporter.step("amplify") as record:
        deploy_amplify(
            aws, env, root=repo, reporter=reporter, record=record, options=options(aws, polling)
        )
    return error.value, record, out.getvalue()


def all_apps(amplify: Any) -> list[dict[str, Any]]:
    return [a for page in amplify.get_paginator("list_apps").paginate() for a in page["apps"]]


def test_create_then_update_keeps_one_app(repo: Path, aws: AwsContext, amplify: Any) -> None:
    result, record, output = deploy(aws, env_for(repo), repo)
    assert result.created and not result.platform_fixed
    assert (result.app_name, result.branch, result.job_id, result.status) == (
        APP,
        "main",
        "1",
        "SUCCEED",
    )
    assert result.default_domain == f"{result.app_id}.amplifyapp.com"
    assert result.url == f"https://main.{result.app_id}.amplifyapp.com"
    app = amplify.get_app(appId=result.app_id)["app"]
    assert app["platform"] == "WEB_COMPUTE"
    assert app["environmentVariables"] == {
        "NEXT_PUBLIC_API_URL": "https://api-v1.shop.invalid",
        "AMPLIFY_MONOREPO_APP_ROOT": "frontend",
    }
    assert app["buildSpec"] == ROOT_SPEC.read_text()
    assert app["enableBranchAutoBuild"] is False
    branch = amplify.get_branch(appId=result.app_id, branchName="main")["branch"]
    assert (branch["framework"], branch["stage"], branch["enableAutoBuild"]) == (
        "Next.js - SSR", "DEVELOPMENT", False,
    )  # fmt: skip
    assert record.changed == [
        f"created Amplify app {APP} ({result.app_id}) on WEB_COMPUTE",
        "created branch main (Next.js - SSR, DEVELOPMENT)",
        "started RELEASE job 1",
    ]
    assert record.summary == f"{APP} job 1 SUCCEED"
    assert record.detail["amplify"]["app_id"] == result.app_id
    assert "  … amplify job 1: " in output  # a progress line while it runs

    again, record, _ = deploy(aws, env_for(repo, "https://api-v2.shop.invalid"), repo)
    assert (again.app_id, again.created, again.job_id) == (result.app_id, False, "2")
    assert [a["appId"] for a in all_apps(amplify)] == [result.app_id]
    variables = amplify.get_app(appId=result.app_id)["app"]["environmentVariables"]
    assert variables["NEXT_PUBLIC_API_URL"] == "https://api-v2.shop.invalid"
    assert record.changed == [
        f"app {APP}: environment: change NEXT_PUBLIC_API_URL",
        "started RELEASE job 2",
    ]

    _, record, _ = deploy(aws, env_for(repo, "https://api-v2.shop.invalid"), repo)
    assert record.changed == ["started RELEASE job 3"]


def test_a_failed_build_is_reported_with_its_failed_step(
    repo: Path, aws: AwsContext, emulator: AmplifyEmulator, docker_engine: Any, busybox_image: str
) -> None:
    # The build runs in a busybox image, which has no corepack: the first command fails there.
    emulator.state.builder = ContainerBuilder(docker_engine, busybox_image, repo, "test-amplify")
    error, record, _ = failing_deploy(aws, env_for(repo), repo)
    assert isinstance(error, AmplifyJobFailed)
    assert (error.job_id, error.step) == ("1", "BUILD")
    app_id = record.changed[0].split("(")[1].split(")")[0]
    assert str(error) == (
        f"Amplify job 1 on {app_id}/main failed at step BUILD: BUILD failed: command corepack "
        f"enable exited with code 127; log: {error.log_url}"
    )
    assert error.log_url.endswith(f"/logs/{app_id}/main/1/BUILD")
    assert "corepack: not found" in requests.get(error.log_url, timeout=5).text
    assert record.status.value == "failed"
    assert record.summary.startswith("Amplify job 1 on")


def test_an_app_on_platform_web_is_moved_to_web_compute(
    repo: Path, aws: AwsContext, amplify: Any
) -> None:
    existing = amplify.create_app(
        name=APP,
        platform="WEB",
        repository="https://github.com/acme/shop",
        enableBranchAutoBuild=True,
        customRules=[
            {"source": "/old", "target": "/new", "status": "301"},
            {"source": "/<*>", "target": "/index.html", "status": "404-200"},
        ],
    )["app"]
    result, record, output = deploy(aws, env_for(repo), repo)
    assert result.app_id == existing["appId"] and not result.created
    assert result.platform_fixed
    app = amplify.get_app(appId=existing["appId"])["app"]
    assert app["platform"] == "WEB_COMPUTE"
    assert app["customRules"] == [{"source": "/old", "target": "/new", "status": "301"}]
    assert app["enableBranchAutoBuild"] is False
    assert (
        f"warning: Amplify app {APP} ({existing['appId']}) was on platform WEB, which serves "
        "static files only (SSR routes return 404); updated it to WEB_COMPUTE"
    ) in output
    assert record.changed[0] == f"app {APP}: platform WEB → WEB_COMPUTE"
    assert f"app {APP}: remove 1 static-site rewrite(s) to /index.html" in record.changed
    assert record.summary == f"{APP} job 1 SUCCEED (platform fixed to WEB_COMPUTE)"


def test_an_existing_branch_is_brought_in_line(repo: Path, aws: AwsContext, amplify: Any) -> None:
    app = amplify.create_app(name=APP, platform="WEB_COMPUTE")["app"]
    amplify.create_branch(appId=app["appId"], branchName="main", framework="Next.js - SSG")
    _, record, _ = deploy(aws, env_for(repo), repo)
    branch = amplify.get_branch(appId=app["appId"], branchName="main")["branch"]
    assert (branch["framework"], branch["enableAutoBuild"]) == ("Next.js - SSR", False)
    assert "branch main: framework=Next.js - SSR, stage=DEVELOPMENT, enableAutoBuild=False" in (
        record.changed
    )


def test_the_app_is_found_on_any_page(repo: Path, aws: AwsContext, amplify: Any) -> None:
    for index in range(5):
        amplify.create_app(name=f"other-{index}")
    app = amplify.create_app(name=APP, platform="WEB_COMPUTE")["app"]
    assert len(amplify.list_apps()["apps"]) == 2  # the emulator pages by 2 here
    result, _, _ = deploy(aws, env_for(repo), repo)
    assert result.app_id == app["appId"]
    assert len(all_apps(amplify)) == 6


def test_two_apps_with_the_name_are_refused(repo: Path, aws: AwsContext, amplify: Any) -> None:
    first = amplify.create_app(name=APP)["app"]["appId"]
    second = amplify.create_app(name=APP)["app"]["appId"]
    error, _, _ = failing_deploy(aws, env_for(repo), repo)
    assert isinstance(error, AmbiguousApp)
    assert str(error) == (
        f"2 Amplify apps are named {APP} ({first}, {second}); delete the extra ones or rename "
        "frontend.amplify.app"
    )


def test_a_build_spec_for_another_app_root_changes_nothing(
    repo: Path, aws: AwsContext, amplify: Any
) -> None:
    spec = repo / "amplify.yml"
    spec.write_text(spec.read_text().replace("appRoot: frontend", "appRoot: web"))
    error, _, _ = failing_deploy(aws, env_for(repo), repo)
    assert isinstance(error, BuildSpecProblem) and error.exit_code == 2
    assert str(error) == (
        "amplify.yml: no application has appRoot frontend (found: web); "
        "frontend.amplify.app_root, appRoot and AMPLIFY_MONOREPO_APP_ROOT must be equal"
    )
    assert all_apps(amplify) == []


def test_a_missing_terraform_output_changes_nothing(
    repo: Path, aws: AwsContext, amplify: Any
) -> None:
    env = load_config(repo / "deploytools.yml").for_env("dev", {})
    error, _, _ = failing_deploy(aws, env, repo)
    assert isinstance(error, UnresolvedOutputs)
    assert str(error) == (
        "frontend.amplify.environment NEXT_PUBLIC_API_URL use {tf.api_url}, which Terraform "
        "did not output; add the output or change the value"
    )
    assert all_apps(amplify) == []


def test_the_access_token_comes_from_ssm_as_a_secret(
    repo: Path, aws: AwsContext, amplify: Any, emulator: AmplifyEmulator
) -> None:
    token_line = "    access_token_parameter: /shop/{env}/amplify/GITHUB_TOKEN\n"
    with_config(repo, "    app_root: frontend\n", "    app_root: frontend\n" + token_line)
    error, _, _ = failing_deploy(aws, env_for(repo), repo)
    assert isinstance(error, AccessTokenMissing)
    assert "aws ssm put-parameter --name /shop/dev/amplify/GITHUB_TOKEN" in str(error)
    assert all_apps(amplify) == []
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/shop/dev/amplify/GITHUB_TOKEN", Value=TOKEN, Type="SecureString")
    result, _, output = deploy(aws, env_for(repo), repo)
    assert emulator.state.apps[result.app_id].access_token == TOKEN
    assert mask.redact(f"token {TOKEN}") == "token ***"
    assert TOKEN not in output


def test_a_token_parameter_without_a_reader_stops_before_any_change(
    repo: Path, aws: AwsContext, amplify: Any
) -> None:
    token_line = "    access_token_parameter: /shop/{env}/amplify/GITHUB_TOKEN\n"
    with_config(repo, "    app_root: frontend\n", "    app_root: frontend\n" + token_line)
    reporter = Reporter(out=io.StringIO(), err=io.StringIO())
    with pytest.raises(AccessTokenUnreadable) as error, reporter.step("amplify") as record:
        deploy_amplify(aws, env_for(repo), root=repo, reporter=reporter, record=record)
    assert str(error.value) == (
        "frontend.amplify.access_token_parameter /shop/dev/amplify/GITHUB_TOKEN: this Amplify "
        "deploy was given no reader for it (DeployOptions.access_token)"
    )
    assert all_apps(amplify) == []


def test_a_build_spec_that_is_not_yaml_names_its_line(
    repo: Path, aws: AwsContext, amplify: Any
) -> None:
    (repo / "amplify.yml").write_text("version: 1\napplications:\n  - appRoot: [frontend\n")
    error, _, _ = failing_deploy(aws, env_for(repo), repo)
    assert isinstance(error, BuildSpecProblem) and error.exit_code == 2
    assert str(error).startswith("amplify.yml: line 4: invalid YAML: ")
    assert all_apps(amplify) == []


def test_a_job_that_takes_too_long_times_out(repo: Path, aws: AwsContext) -> None:
    slow = Polling(
        backoff=Backoff(first=0.02, factor=1.5, cap=0.05, attempts=None),
        timeout=0.15,
        progress_every=10,
    )
    error, _, output = failing_deploy(aws, env_for(repo), repo, polling=slow)
    assert isinstance(error, AmplifyTimeout)
    assert "is still" in str(error) and "after 0s; it keeps running in Amplify" in str(error)
    assert "  … amplify job 1: " in output


def test_a_job_already_running_is_waited_for_first(
    repo: Path, aws: AwsContext, amplify: Any, emulator: AmplifyEmulator
) -> None:
    app = amplify.create_app(name=APP, platform="WEB_COMPUTE", environmentVariables={
        "NEXT_PUBLIC_API_URL": "https://api-v1.shop.invalid",
        "AMPLIFY_MONOREPO_APP_ROOT": "frontend",
    })["app"]  # fmt: skip
    app_id, state = app["appId"], emulator.state
    amplify.create_branch(appId=app_id, branchName="main", enableAutoBuild=True)
    amplify.start_job(appId=app_id, branchName="main", jobType="RELEASE")
    # Job 1 runs until the deploy has looked at the branch's jobs and seen it unfinished, however
    # long the deploy takes to get there on a busy machine; then it ends as it would have.
    state.hold(app_id, "main", "1")
    job_1_when_2_started: list[str] = []

    def watch(operation: str, answer: Any) -> None:
        if operation == "list_jobs" and any(
            job["jobId"] == "1" and job["status"] in ("PENDING", "RUNNING")
            for job in answer["jobSummaries"]
        ):
            state.release(app_id, "main", "1")
        elif operation == "start_job":
            with state.lock:
                job_1 = state.get_job(app_id, "main", "1")["job"]["summary"]["status"]
            job_1_when_2_started.append(job_1)

    state.observers.append(watch)
    result, _, output = deploy(aws, env_for(repo), repo)
    assert "  … amplify: job 1 is already running on main; waiting for it" in output
    assert job_1_when_2_started == ["SUCCEED"]  # waited for, first
    assert result.job_id == "2"
    jobs = amplify.list_jobs(appId=app["appId"], branchName="main")["jobSummaries"]
    assert [j["status"] for j in jobs] == ["SUCCEED", "SUCCEED"]


def test_the_job_builds_the_commit_of_this_workflow(
    repo: Path, aws: AwsContext, amplify: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    result, _, _ = deploy(aws, env_for(repo), repo)
    job = amplify.get_job(appId=result.app_id, branchName="main", jobId=result.job_id)["job"]
    assert job["summary"]["commitId"] == "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/other-repo")
    result, _, _ = deploy(aws, env_for(repo), repo)
    job = amplify.get_job(appId=result.app_id, branchName="main", jobId=result.job_id)["job"]
    assert job["summary"]["commitId"] == "HEAD"


def test_plan_is_read_only_and_says_what_deploy_would_do(
    repo: Path, aws: AwsContext, amplify: Any
) -> None:
    pending = load_config(repo / "deploytools.yml").for_env("dev")
    plan = plan_amplify(aws, pending, root=repo)
    assert (plan.action, plan.branch_action, plan.app_id) == ("create", "create", None)
    assert plan.pending == ("{tf.api_url}",)
    assert plan.line() == (
        f"amplify {APP}: create app (platform WEB_COMPUTE; AMPLIFY_MONOREPO_APP_ROOT=frontend); "
        "branch main: create; start a RELEASE job and wait"
    )
    assert all_apps(amplify) == []

    result, _, _ = deploy(aws, env_for(repo), repo)
    plan = plan_amplify(aws, env_for(repo), root=repo)
    assert (plan.action, plan.branch_action, plan.changes) == ("unchanged", "unchanged", ())
    plan = plan_amplify(aws, env_for(repo, "https://api-v3.shop.invalid"), root=repo)
    assert plan.action == "update"
    assert plan.changes == ("environment: change NEXT_PUBLIC_API_URL",)
    assert plan.as_dict()["app_id"] == result.app_id

    amplify.update_app(appId=result.app_id, platform="WEB")
    plan = plan_amplify(aws, env_for(repo), root=repo)
    assert plan.platform_fix and plan.changes == ("platform WEB → WEB_COMPUTE",)
    assert amplify.get_app(appId=result.app_id)["app"]["platform"] == "WEB"  # read-only


def test_deploy_from_another_process_with_the_endpoint_variable(
    repo: Path, emulator: AmplifyEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ENDPOINT_URL_AMPLIFY (what Terraform and the AWS CLI use) reaches the emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFY", emulator.url)
    aws = AwsContext("us-east-1")
    result, _, _ = deploy(aws, env_for(repo), repo)
    client = boto3.client("amplify", region_name="us-east-1")  # endpoint from the variable
    assert client.get_app(appId=result.app_id)["app"]["name"] == APP
