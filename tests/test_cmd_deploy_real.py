"""`deploytools --sandbox deploy --json` with the real steps, end to end.

The real thing wherever this machine has it: moto's server for the AWS APIs, the private
Docker engine builds the image, the loopback registry stands in for ECR's data plane,
the real `terraform` applies a root module (outputs only: no provider needed), Lambda and
Batch targets are refreshed by their modules, a real HTTP server on 127.0.0.1 answers the
smoke check. The sandbox record points at these (the command reads it as it would the
running sandbox's). Then `status` and `rollback` read and use the release record.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.sandbox import state

ACCOUNT = "123456789012"
SERVICES = ("sts", "ssm", "ecr", "ecs", "lambda", "batch", "iam", "s3", "logs")


@pytest.fixture
def health() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def sandbox(
    moto_endpoint: str, registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AwsContext:
    """A sandbox record naming moto's server and the registry; this process stands in."""
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path / "sandbox"))
    endpoints = dict.fromkeys(SERVICES, moto_endpoint)
    state.write(state.SandboxState(os.getpid(), endpoints, registry))
    return AwsContext("us-east-1", None, endpoints, credentials=("sandbox", "sandbox"))


@pytest.fixture
def repo(tmp_path: Path, busybox_image: str, health: str, terraform_cli_config: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY app/ /var/task/\n")
    # Terraform writes its state and plugins under infra/: not part of the image's inputs.
    (root / ".dockerignore").write_text("infra/\n")
    (root / "infra").mkdir()
    (root / "infra" / "main.tf").write_text(
        f'output "api_url" {{\n  value = "{health}"\n}}\n'
        'output "queue" {\n  value = "training"\n}\n'
    )
    config: dict[str, Any] = {
        "project": "shop",
        "environments": {"dev": {"account_id": ACCOUNT}},
        "secrets": {"ssm_path": "/shop/{env}/", "required": ["API_KEY"]},
        "images": {"api": {"context": ".", "dockerfile": "Dockerfile"}},
        "terraform": {"dir": "infra"},
        "targets": {
            "predict": {"type": "lambda", "image": "api", "alias": "live"},
            "train": {"type": "batch", "image": "api", "environment": {"Q": "{tf.queue}"}},
        },
        "smoke": [{"url": "{tf.api_url}/health", "timeout": 20}],
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def terraform_created(aws: AwsContext) -> None:
    """What the environment's Terraform would have created before deploytools runs."""
    role = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
    first = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop-api@sha256:{'0' * 64}"
    lam = aws.client("lambda")
    lam.create_function(
        FunctionName="shop-dev-predict",
        Role=role["Arn"],
        PackageType="Image",
        Code={"ImageUri": first},
    )
    lam.publish_version(FunctionName="shop-dev-predict")
    lam.create_alias(FunctionName="shop-dev-predict", Name="live", FunctionVersion="1")
    aws.client("batch").register_job_definition(
        jobDefinitionName="shop-dev-train",
        type="container",
        containerProperties={"image": first, "vcpus": 1, "memory": 512},
    )


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["--json", "--sandbox", *args])
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out)
    except ValueError:
        pytest.fail(f"stdout is not one JSON document (exit {code}):\n{out}\n{err}")


def test_deploy_status_rollback_with_the_real_steps(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    terraform_created(sandbox)
    config = str(repo)
    code, doc = run_json(capsys, "--config", config, "deploy", "--env", "dev")
    assert code == 0, doc
    steps = {s["name"]: s for s in doc["steps"]}
    assert list(steps)[:5] == ["check", "account", "lock", "secrets", "images"]
    assert {"terraform init", "terraform plan", "terraform apply", "terraform output"} <= set(steps)
    assert list(steps)[-3:] == ["amplify", "smoke", "release"]
    # The sandbox lacked the required secret: seeded, and said so.
    assert steps["secrets"]["changed"] == ["seeded /shop/dev/API_KEY (placeholder)"]
    image = doc["images"]["api"]
    assert image["built"] and image["uri"].startswith(
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop-api@sha256:"
    )
    assert steps["target predict"]["status"] == "ok"
    assert steps["target predict"]["summary"].startswith("1 (sha256:000000000000) → 2 (")
    assert steps["target train"]["status"] == "ok"
    assert steps["smoke"]["detail"]["results"][0]["status"] == 200
    for step in doc["steps"]:
        assert isinstance(step["seconds"], float) and isinstance(step["changed"], list)
        if not step["name"].startswith("terraform "):  # its steps report "ok" when reading
            assert step["changed"] or step["status"] in ("unchanged", "skipped"), step
    first = doc["release"]

    # The same commit again: images and targets have nothing to change.
    code, again = run_json(capsys, "--config", config, "deploy", "--env", "dev")
    assert code == 0, again
    steps = {s["name"]: s for s in again["steps"]}
    assert steps["images"]["status"] == "unchanged"
    assert again["images"]["api"]["uri"] == image["uri"]
    assert steps["target train"]["status"] == "unchanged"  # same image: same revision

    code, status = run_json(capsys, "--config", config, "status", "--env", "dev")
    assert code == 0 and status["drift"] is False
    assert status["release"]["id"] == again["release"]
    assert {t["name"]: t["sync"] for t in status["targets"]} == {
        "predict": "in_sync",
        "train": "in_sync",
    }

    code, back = run_json(capsys, "--config", config, "rollback", "--env", "dev", "--to", first)
    assert code == 0, back
    assert back["to"] == first
    assert {t["name"] for t in back["targets"]} == {"predict", "train"}
