"""The main job, end to end: `deploytools deploy --sandbox` of the example apps, as a user runs
it (the CLI in its own process), into a sandbox of its own.

Real parts: the Docker engine builds the images (from the local stand-in base images), the
sandbox's registry holds them, moto's ECR reports them, the real `terraform` applies the
example roots from terraform/examples/ against moto, the targets are refreshed by digest and
a release is recorded in SSM. Then a second deploy must be a no-op. The example trees are
copied, so no state or build output lands in the repository.

The workloads run: each example's containers (ECS tasks, EKS pods, Lambda execution
environments, for Zip packages that Terraform uploaded too) are asked for an answer, a broken
image fails its target with the workload's own reason and is rolled back to containers that
still serve, and `sandbox down` leaves nothing behind. The tests run in file order in one
sandbox; the last one stops it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import docker
import pytest
import requests

from deploytools.sandbox import apigateway, containers
from tests import support

pytestmark = [
    pytest.mark.docker,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.slow(minutes=10),
]

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")
SCORER = "engagement-dev-scorer"
NLP = "nlp-serving-dev"
# Generated per run, seeded in the sandbox's SSM before the deploy: it must reach the
# container's environment and nothing else (no output, no log, no file).
WAREHOUSE_KEY = f"wk-{secrets.token_hex(12)}"


class Sandbox:
    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.outputs: list[str] = []  # everything every command printed, for the secret check

    def deploytools(self, example: str, *args: str) -> subprocess.CompletedProcess[str]:
        config = self.work / "examples" / example / "deploytools.yml"
        done = subprocess.run(
            [sys.executable, "-m", "deploytools", "--config", str(config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.outputs.append(done.stdout + done.stderr)
        return done

    def deploy(self, example: str) -> str:
        done = self.deploytools(example, "deploy", "--env", "dev", "--sandbox")
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def client(self, service: str) -> Any:
        url = self.state()["endpoints"][service]
        assert url.startswith("http://127.0.0.1:")
        return boto3.client(service, endpoint_url=url, region_name="us-east-1")

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.work / "sandbox" / "state.json").read_text()))

    def containers(self, **labels: str) -> list[Any]:
        """This sandbox's running containers (with all of `labels`)."""
        sandbox = containers.sandbox_id(self.work / "sandbox")
        wanted = [f"{containers.SANDBOX_LABEL}={sandbox}", *(f"{k}={v}" for k, v in labels.items())]
        client = docker.DockerClient(base_url=support.DOCKER_HOST)
        try:
            return list(client.containers.list(filters={"label": wanted}, ignore_removed=True))
        finally:
            client.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    support.require_docker()
    support.require_registry()
    support.requires("terraform")
    support.require_base_images()
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
        # automl-lite's repository is on GitHub: its Amplify job builds the local copy.
        "DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE": str(work / "examples" / "automl-lite"),
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

    serving = json.loads((sandbox.work / "sandbox" / "state.json").read_text())["serving"]
    (api,) = sandbox.client("apigatewayv2").get_apis()["Items"]

    # The deploy's own warm-up and smoke check went through the API's loopback URL, said once:
    # the warm-up left the function's environment warm, the smoke check got the handler's 200.
    endpoint = api["ApiEndpoint"]
    host = endpoint.removeprefix("https://")
    assert first.count(f"sandbox: {endpoint} is served at {serving['apigateway']}/{host}\n") == 1
    assert f"GET {serving['apigateway']}/{host}/health → 200" in first
    assert "simulated:" not in first
    warm = sandbox.containers(**{containers.WORKLOAD_LABEL: "lambda:prediction-api-dev-predict"})
    assert warm, "the deploy's warm-up started no execution environment"

    # The function runs: its HTTP API answers on loopback with the handler's body.
    url = apigateway.loopback_url(api["ApiEndpoint"], serving["apigateway"])
    answer = requests.post(f"{url}/predict", data='{"date": "2025-10-20"}', timeout=60)
    assert (answer.status_code, answer.json()) == (200, {"date": "2025-10-20", "prediction": 55})
    health = requests.get(f"{url}/health", timeout=60)
    assert health.json() == {"ok": True, "model": "date-regressor"}

    # The whole point of content tags and digests: nothing to rebuild, apply or publish.
    second = sandbox.deploy("prediction-api")
    assert "(already in the registry)" in second
    assert "No changes: the infrastructure matches the configuration" in second
    # ... and the plan started with the process, from the recipe the first deploy recorded
    assert "(planned from the process's start: same inputs, same state)" in second
    assert "(already live)" in second
    assert "passed these 1 check(s); not run again" in second  # nothing new to check
    again = lam.get_alias(FunctionName="prediction-api-dev-predict", Name="live")
    assert again["FunctionVersion"] == alias["FunctionVersion"]

    # Sandbox state stays with the sandbox: the Terraform root holds no state of its own.
    root = sandbox.work / "terraform" / "examples" / "prediction-api"
    assert not list(root.glob("*.tfstate*"))
    assert not (root / "deploytools_sandbox_override.tf").exists()


def test_ecs_app_deploys_to_a_new_task_definition_by_digest(sandbox: Sandbox) -> None:
    seed_warehouse_key(sandbox)  # before the tasks start: ECS reads secrets at task start
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


def seed_warehouse_key(sandbox: Sandbox) -> None:
    up = sandbox.deploytools("engagement-platform", "sandbox", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    sandbox.client("ssm").put_parameter(
        Name="/engagement/dev/WAREHOUSE_API_KEY",
        Value=WAREHOUSE_KEY,
        Type="SecureString",
        Overwrite=True,
    )


def test_ecs_tasks_run_healthy_with_the_ssm_secret_inside_the_container(sandbox: Sandbox) -> None:
    assert "(already live)" in sandbox.deploy("engagement-platform")
    ecs = sandbox.client("ecs")
    (service,) = ecs.describe_services(cluster="engagement-dev", services=[SCORER])["services"]
    assert service["runningCount"] == service["desiredCount"] >= 1
    (deployment,) = service["deployments"]
    assert deployment["rolloutState"] == "COMPLETED"
    running = sandbox.containers(**{containers.WORKLOAD_LABEL: f"ecs:{SCORER}"})
    assert len(running) == service["desiredCount"]
    for container in running:
        # The task's own process answers its health endpoint, inside its network namespace.
        health = container.exec_run(
            [
                "python3",
                "-c",
                "import urllib.request as u; "
                "print(u.urlopen('http://127.0.0.1:8080/health').read().decode())",
            ]
        )
        assert health.exit_code == 0, health.output
        assert json.loads(health.output) == {"ok": True, "bucket": "engagement-dev-processed"}
        seen = container.exec_run(["printenv", "WAREHOUSE_API_KEY"])
        assert (seen.exit_code, seen.output.decode().strip()) == (0, WAREHOUSE_KEY)
        assert WAREHOUSE_KEY not in container.logs().decode(errors="replace")


def test_a_broken_image_fails_its_target_and_the_previous_tasks_keep_serving(
    sandbox: Sandbox,
) -> None:
    ecs = sandbox.client("ecs")
    (before,) = ecs.describe_services(cluster="engagement-dev", services=[SCORER])["services"]
    serving = {c.id for c in sandbox.containers(**{containers.WORKLOAD_LABEL: f"ecs:{SCORER}"})}
    dockerfile = sandbox.work / "examples/engagement-platform/images/scorer/Dockerfile"
    good = dockerfile.read_text()
    # The way users break it: the process exits (here with a code of its own) at start.
    dockerfile.write_text(
        good.replace('CMD ["python", "app.py"]', 'CMD ["python", "-c", "raise SystemExit(3)"]')
    )
    try:
        done = sandbox.deploytools("engagement-platform", "deploy", "--env", "dev", "--sandbox")
    finally:
        dockerfile.write_text(good)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Essential container in task exited" in out
    assert "Exit code: 3" in out or "exit code 3" in out.lower(), out
    assert "target scorer rolled_back" in out

    (after,) = ecs.describe_services(cluster="engagement-dev", services=[SCORER])["services"]
    assert after["taskDefinition"] == before["taskDefinition"]
    running = sandbox.containers(**{containers.WORKLOAD_LABEL: f"ecs:{SCORER}"})
    assert len(running) == before["desiredCount"]
    for container in running:
        health = container.exec_run(
            [
                "python3",
                "-c",
                "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/health')",
            ]
        )
        assert health.exit_code == 0, health.output
    assert serving  # the earlier tasks existed; the ones serving now run the earlier revision

    status = sandbox.deploytools(
        "engagement-platform", "status", "--env", "dev", "--sandbox", "--json"
    )
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["release"]["status"] == "failed"
    assert doc["release"]["targets"]["scorer"]["revision"] == before["taskDefinition"]


def test_zip_lambda_is_invoked_and_answers(sandbox: Sandbox) -> None:
    sandbox.deploy("tastetrend-etl")
    lam = sandbox.client("lambda")
    (function,) = [
        f["FunctionName"]
        for f in lam.list_functions()["Functions"]
        if "tastetrend" in f["FunctionName"]
    ]
    answer = lam.invoke(
        FunctionName=function,
        Qualifier="live",
        Payload=json.dumps({"records": [{"name": " Noodle Bar ", "rating": "4"}]}).encode(),
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    body = json.loads(json.loads(answer["Payload"].read())["body"])
    assert body["records"] == [{"restaurant": "noodle bar", "stars": 4}]
    assert body["from"].startswith("tastetrend-dev-") and body["to"].startswith("tastetrend-dev-")


def test_batch_job_definition_is_registered_and_the_api_lambda_answers(sandbox: Sandbox) -> None:
    out = sandbox.deploy("automl-lite")
    batch = sandbox.client("batch")
    (definition,) = batch.describe_job_definitions(
        jobDefinitionName="automl-lite-dev-training", status="ACTIVE"
    )["jobDefinitions"][-1:]
    assert "@sha256:" in definition["containerProperties"]["image"]
    lam = sandbox.client("lambda")
    (function,) = [
        f["FunctionName"]
        for f in lam.list_functions()["Functions"]
        if "automl-lite" in f["FunctionName"]
    ]
    answer = lam.invoke(
        FunctionName=function, Qualifier="live", Payload=json.dumps({"rawPath": "/health"}).encode()
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {"statusCode": 200, "body": '{"ok": true}'}
    # The package Terraform uploaded answers through the HTTP API's loopback URL too.
    serving = sandbox.state()["serving"]
    (api,) = [
        a for a in sandbox.client("apigatewayv2").get_apis()["Items"] if a["Name"] == function
    ]
    url = apigateway.loopback_url(api["ApiEndpoint"], serving["apigateway"])
    health = requests.get(f"{url}/health", timeout=60)
    assert (health.status_code, health.json()) == (200, {"ok": True})
    for line in out.splitlines():
        if line.startswith("simulated:"):
            assert line.endswith(")") and " was not executed (" in line, line
    # The Amplify job's BUILD ran the build spec for real: next built the frontend's server.
    amplify = sandbox.client("amplify")
    (app,) = [a for a in amplify.list_apps()["apps"] if a["name"] == "automl-lite-dev-web"]
    (job, *_) = amplify.list_jobs(appId=app["appId"], branchName="main")["jobSummaries"]
    build = amplify.get_job(appId=app["appId"], branchName="main", jobId=job["jobId"])["job"]
    assert job["status"] == "SUCCEED"
    first = build["steps"][0]  # BUILD; its statusReason would say why it failed or was simulated
    assert (first["stepName"], first.get("statusReason")) == ("BUILD", None)
    built = sandbox.work / "sandbox" / "amplify-artifacts" / app["appId"] / "main" / job["jobId"]
    assert (built / "BUILD_ID").is_file() and (built / "server" / "app" / "page.js").is_file()


def test_eks_pods_serve_the_deployed_image_and_the_lambda_container_answers(
    sandbox: Sandbox,
) -> None:
    out = sandbox.deploy("nlp-serving")
    assert "built and pushed nlp-serving-api:ct-" in out
    assert "built and pushed nlp-serving-predictor:ct-" in out
    # The warm-up invoked the function's own container; nothing of either target was simulated.
    assert "simulated:" not in out, out

    # The rollout completed because the new pods passed their readiness probe: each pod is a
    # container running the image by the digest ECR holds, and answers inside its namespace.
    ecr = sandbox.client("ecr").describe_images(repositoryName="nlp-serving-api")
    digests = {d["imageDigest"] for d in ecr["imageDetails"]}
    pods = sandbox.containers(**{containers.WORKLOAD_LABEL: f"eks:{NLP}/default/sentiment-api"})
    assert len(pods) == 2  # the manifest's replicas
    for pod in pods:
        assert pod.attrs["Config"]["Image"].rsplit("@", 1)[1] in digests
        env = dict(e.split("=", 1) for e in pod.attrs["Config"]["Env"])
        assert env["MODEL_NAME"] == "distilbert-base-uncased-finetuned-sst-2-english"
        answer = pod.exec_run(
            [
                "python3",
                "-c",
                "import urllib.request as u; print(u.urlopen(u.Request("
                "'http://127.0.0.1:8080/predict', data=b'{\"text\": \"great\"}')).read().decode())",
            ]
        )
        assert answer.exit_code == 0, answer.output
        assert json.loads(answer.output) == {
            "label": "POSITIVE",
            "model": "distilbert-base-uncased-finetuned-sst-2-english",
        }

    lam = sandbox.client("lambda")
    got = lam.invoke(
        FunctionName=f"{NLP}-predict",
        Qualifier="live",
        Payload=json.dumps({"body": json.dumps({"text": "a bad day"})}).encode(),
    )
    assert "FunctionError" not in got, got["Payload"].read()
    assert json.loads(json.loads(got["Payload"].read())["body"]) == {
        "label": "NEGATIVE",
        "model": "distilbert-base-uncased-finetuned-sst-2-english",
    }

    # Applying the same manifests again moves nothing: a no-op, with no release written.
    again = sandbox.deploy("nlp-serving")
    web = next(line for line in again.splitlines() if "target web" in line)
    assert web.endswith("(already live)"), again
    assert "nothing changed: nothing recorded" in again, again
    assert sandbox.containers(**{containers.WORKLOAD_LABEL: f"eks:{NLP}/default/sentiment-api"})


def test_the_secret_is_in_no_output_and_no_file(sandbox: Sandbox) -> None:
    for text in sandbox.outputs:
        assert WAREHOUSE_KEY not in text
    needle = WAREHOUSE_KEY.encode()
    for path in sandbox.work.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 50_000_000:
            assert needle not in path.read_bytes(), path


def test_sandbox_down_leaves_no_container_and_no_process(sandbox: Sandbox) -> None:
    pid = int(sandbox.state()["pid"])
    assert sandbox.containers()
    down = sandbox.deploytools("prediction-api", "sandbox", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert sandbox.containers() == []
    assert not (sandbox.work / "sandbox" / "state.json").exists()
    assert gone(pid), f"the sandbox process {pid} is still running"


def gone(pid: int, seconds: float = 15.0) -> bool:
    """The process ended (a zombie not yet reaped by its adopter counts as ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.2)
    return False
