"""Issue #12's acceptance: an app shaped like the AutoML app deploys into the sandbox as it is.

The app (tests/fixtures/automl_shaped/) is written the way its team wrote it, with nothing for
the sandbox: its Terraform declares the trainer's ECR repository, creates the function from
the app's own zip (`filebase64sha256`, which holds the handler but none of its dependencies)
and points the HTTP API's integration at the unqualified function; the handler is FastAPI
behind Mangum with pydantic-settings, its dependencies named in requirements.txt.

Real parts: `deploytools` in its own process, the Docker engine (the trainer image and the
function's execution environment), the registry, `terraform` against moto, pip (PyPI) for the
function's dependencies, and the sandbox's API Gateway, which calls the function's container.
Every answer below is the handler's own. The tests run in file order in one sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from deploytools.sandbox import apigateway
from tests import support

pytestmark = [
    pytest.mark.docker,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.slow(minutes=3),
]

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "automl_shaped"
FUNCTION = "automl-shaped-dev-api"
TRAINING = "automl-shaped-dev-training"


class App:
    """The app's checkout in a temporary folder, and the sandbox it deploys into."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.config = root / "deploytools.yml"

    def deploytools(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "deploytools", "--config", str(self.config), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def ok(self, *args: str) -> str:
        done = self.deploytools(*args)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out
        return out

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.root.parent / "sandbox" / "state.json").read_text()))

    def client(self, service: str) -> Any:
        url = self.state()["endpoints"][service]
        assert url.startswith("http://127.0.0.1:")
        return boto3.client(service, endpoint_url=url, region_name="us-east-1")

    def health(self) -> dict[str, Any]:
        """What the HTTP API answers on /health, through its loopback URL."""
        (api,) = self.client("apigatewayv2").get_apis()["Items"]
        url = apigateway.loopback_url(api["ApiEndpoint"], self.state()["serving"]["apigateway"])
        answer = requests.get(f"{url}/health", timeout=120)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def package(self) -> None:
        """The app's own build step: the handler's folder zipped, no dependencies."""
        build = self.root / "terraform" / "build"
        build.mkdir(exist_ok=True)
        with zipfile.ZipFile(build / "api.zip", "w") as archive:
            archive.write(self.root / "backend" / "api" / "main.py", "main.py")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    support.require_docker()
    support.require_registry()
    support.requires("terraform")
    support.require_base_images()
    work = tmp_path_factory.mktemp("automl")
    root = work / "app"
    shutil.copytree(FIXTURE, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    env = {
        **os.environ,
        "DOCKER_HOST": support.DOCKER_HOST,
        "DEPLOYTOOLS_SANDBOX_DIR": str(work / "sandbox"),
        "TMPDIR": str(work / "tmp"),
    }
    (work / "tmp").mkdir()
    running = App(root, env)
    running.package()
    try:
        yield running
    finally:
        running.deploytools("sandbox", "down")


def test_the_app_deploys_as_it_is_and_its_api_answers(app: App) -> None:
    out = app.ok("deploy", "--env", "dev", "--sandbox")

    # `check` ran first and warned about the integration (DT011), which does not stop a deploy.
    assert (
        "warning: terraform/main.tf:81: DT011 aws_apigatewayv2_integration.api invokes the "
        "unqualified function (integration_uri = aws_lambda_function.api.invoke_arn): rolling "
        "back alias live changes nothing it serves\n"
    ) in out
    # Item 1: the zip holds the requirements, installed by pip for the function's runtime:
    # in the sandbox, the Python its python3.12 stand-in runs (pydantic-core is compiled).
    assert "3 requirement(s) from requirements.txt" in out
    assert (
        "sandbox: package api's requirements are installed for python3.11, the Python the "
        "sandbox's python3.12 stand-in runs (a deploy to AWS installs them for python3.12)\n"
    ) in out
    # Item 11: the repository the Terraform declares is applied first, never created twice.
    assert "built and pushed automl-shaped-trainer:ct-" in out
    (repository,) = app.client("ecr").describe_repositories()["repositories"]
    assert repository["repositoryName"] == "automl-shaped-trainer"
    # Item 2: the integration calls the unqualified function, and the deploy says what follows.
    assert (
        f"  api: $LATEST serves this code at once (API Gateway integration {FUNCTION}/"
    ) in out, out
    assert "the unqualified function); a rollback moves $LATEST back too\n" in out
    assert (
        "terraform declares the repositories of trainer: applying aws_ecr_repository.trainer "
        "first (-target), then the full plan"
    ) in out

    # Items 1 and 12: the API imports FastAPI, Mangum and pydantic-settings, which only the zip
    # deploytools built holds (the app's own zip has main.py alone), and reads its settings
    # from the function's environment: Terraform's MODEL_NAME and deploytools' job definition,
    # by name (item 5).
    assert app.health() == {
        "ok": True,
        "model": "automl-baseline",
        "version": 1,
        "training": TRAINING,
    }
    lam = app.client("lambda")
    code = lam.get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    own = app.root / "terraform" / "build" / "api.zip"
    assert code != _sha256_b64(own)

    # The Batch trainer's job definition runs the pushed image by digest.
    (definition,) = app.client("batch").describe_job_definitions(
        jobDefinitionName=TRAINING, status="ACTIVE"
    )["jobDefinitions"][-1:]
    assert "automl-shaped-trainer@sha256:" in definition["containerProperties"]["image"]

    # Item 16: nothing of the sandbox's lands beside the app's Terraform.
    leftovers = sorted(p.name for p in (app.root / "terraform").iterdir())
    assert leftovers == ["build", "main.tf", "outputs.tf", "variables.tf", "versions.tf"]


def test_a_code_change_redeploys_and_the_api_serves_it(app: App) -> None:
    main = app.root / "backend" / "api" / "main.py"
    main.write_text(main.read_text().replace("MODEL_VERSION = 1", "MODEL_VERSION = 2"))
    out = app.ok("deploy", "--env", "dev", "--sandbox")
    assert "No changes: the infrastructure matches the configuration" in out
    assert f"  api: $LATEST serves this code at once (API Gateway integration {FUNCTION}/" in out
    assert app.health()["version"] == 2


def test_rollback_puts_the_previous_answer_back_on_the_unqualified_function(app: App) -> None:
    out = app.ok("rollback", "--env", "dev", "--sandbox")
    # The alias moves back, and so does the code of the function the integration calls.
    assert "✓ restore api" in out and "  2 → 1\n" in out, out
    assert f"  ↺ api: $LATEST back on version 1's code (API Gateway integration {FUNCTION}/" in out
    assert app.health()["version"] == 1


def test_releases_lists_the_history_newest_first(app: App) -> None:
    done = app.deploytools("releases", "--env", "dev", "--sandbox", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["env"] == "dev"
    releases = doc["releases"]
    assert [(r["kind"], r["status"]) for r in releases] == [
        ("rollback", "ok"),
        ("deploy", "ok"),
        ("deploy", "ok"),
    ]
    # The rollback restored the first deploy.
    assert releases[0]["rollback_of"] == releases[2]["id"]
    assert [r["id"] for r in releases] == sorted((r["id"] for r in releases), reverse=True)
    assert f"lambda {FUNCTION}: published version 2" in releases[1]["changes"]
    first = releases[2]["changes"]
    assert first.count("create aws_ecr_repository.trainer") == 1  # applied once, said once
    assert first.count("create aws_lambda_function.api") == 1


def _sha256_b64(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
