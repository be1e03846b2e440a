"""Item 14 of issue 12: the sandbox acts in each environment's own `account_id` (moto serves
any account; deploytools assumes a role there), so a real account id in the config is not
refused, and two environments' resources stay apart.

`deploy --sandbox` through the command against moto's server (in this process, as in the
sandbox's); the sandbox's API Gateway front finds an API in another account and invokes its
function with keys of that account. The Lambda endpoint behind it is a stand-in here (a
loopback server that answers with the account the caller's keys act in), since running the
function's container is the Lambda front's business, tested on its own.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.sandbox import apigateway
from tests.support.moto_sandbox import moto_sandbox

DEFAULT, PROD = "123456789012", "210987654321"
FUNCTION = "shop-prod-api"


def in_account(base: AwsContext, account: str) -> AwsContext:
    """A client context whose keys act in `account` (how a test looks there)."""
    role = f"arn:aws:iam::{account}:role/test"
    keys = base.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    return AwsContext(
        base.region,
        None,
        base.endpoints,
        credentials=(keys["AccessKeyId"], keys["SecretAccessKey"]),
    )


def create_function(aws: AwsContext, name: str) -> None:
    role = aws.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName=name,
        Role=role["Role"]["Arn"],
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )


@pytest.fixture
def sandbox(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    return moto_sandbox(moto_endpoint, tmp_path, monkeypatch)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    config: dict[str, Any] = {
        "project": "shop",
        "environments": {"dev": {"account_id": DEFAULT}, "prod": {"account_id": PROD}},
        "targets": {"api": {"type": "lambda", "alias": None, "package": {"source": "src"}}},
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def test_item_14_sandbox_deploys_into_the_environments_own_account(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = in_account(sandbox, PROD)
    create_function(prod, FUNCTION)  # what the prod account's Terraform made
    create_function(sandbox, FUNCTION)  # a function of the same name in the default account
    before = sandbox.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]

    capsys.readouterr()
    code = main(["--json", "--sandbox", "--config", str(repo), "deploy", "--env", "prod"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    doc = json.loads(out)
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["account"]["summary"] == f"account {PROD} is environment prod's"

    live = prod.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    assert live["FunctionArn"].split(":")[4] == PROD
    assert live["CodeSha256"] == steps["package api"]["summary"].rsplit("CodeSha256 ", 1)[1]
    untouched = sandbox.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    assert untouched["CodeSha256"] == before["CodeSha256"]
    # The release is recorded in the prod account's SSM, not the default account's.
    assert prod.client("ssm").get_parameters_by_path(
        Path="/deploytools/shop/prod/", Recursive=True
    )["Parameters"]
    assert not sandbox.client("ssm").get_parameters_by_path(
        Path="/deploytools/shop/prod/", Recursive=True
    )["Parameters"]

    capsys.readouterr()
    assert main(["--sandbox", "--config", str(repo), "status", "--env", "prod"]) == 0


@pytest.fixture
def lambda_stand_in(moto_endpoint: str) -> Iterator[str]:
    """Answers an Invoke with the account the caller's key id acts in (asked of moto's STS)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers["Authorization"].split("Credential=", 1)[1].split("/", 1)[0]
            sts = boto3.client(
                "sts",
                endpoint_url=moto_endpoint,
                region_name="us-east-1",
                aws_access_key_id=key,
                aws_secret_access_key="x",
            )
            account = sts.get_caller_identity()["Account"]
            body = json.dumps({"statusCode": 200, "body": f"{self.path} in {account}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_api_gateway_front_serves_an_api_of_another_account(
    sandbox: AwsContext, moto_endpoint: str, lambda_stand_in: str
) -> None:
    prod = in_account(sandbox, PROD)
    apis = prod.client("apigatewayv2")
    api = apis.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]
    function = f"arn:aws:lambda:us-east-1:{PROD}:function:{FUNCTION}"
    integration = apis.create_integration(
        ApiId=api,
        IntegrationType="AWS_PROXY",
        IntegrationUri=function,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    apis.create_route(ApiId=api, RouteKey="GET /hello", Target=f"integrations/{integration}")
    apis.create_stage(ApiId=api, StageName="$default")

    running = apigateway.serve(moto_endpoint, lambda_stand_in)
    try:
        url = apigateway.loopback_url(
            f"https://{api}.execute-api.us-east-1.amazonaws.com/hello", running.url
        )
        assert url is not None
        answer = requests.get(url, timeout=30)
    finally:
        running.stop()
    assert answer.status_code == 200
    assert answer.text == (
        f"/2015-03-31/functions/{function.replace(':', '%3A')}/invocations in {PROD}"
    )
