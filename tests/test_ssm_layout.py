"""Item 15 of issue 12: an environment's variables are the direct children of `ssm_path` (as
chamber lays them out); parameters in sub-paths are ignored, listed once per run, and never
an error, on the first deploy or the second.

The real steps against moto's server: the secrets step reads SSM, the Lambda target takes
its secrets in its (encrypted) environment, so what it received shows which parameter won.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from tests.support.moto_sandbox import moto_sandbox

ACCOUNT = "123456789012"
NESTED = ["/shop/dev/db/API_KEY", "/shop/dev/worker/queue-url"]
IGNORED_LINE = (
    "  ignored 2 parameter(s) in sub-paths of /shop/dev/ (the environment's variables are its "
    "direct children): /shop/dev/db/API_KEY, /shop/dev/worker/queue-url"
)


@pytest.fixture
def sandbox(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    aws = moto_sandbox(moto_endpoint, tmp_path, monkeypatch)
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/shop/dev/API_KEY", Value="the-direct-key", Type="SecureString")
    # Another service's layout below the environment's path: a shadowing basename and a
    # basename no shell can export. Read recursively, either would stop the deploy.
    ssm.put_parameter(Name=NESTED[0], Value="the-nested-db-key", Type="SecureString")
    ssm.put_parameter(Name=NESTED[1], Value="http://127.0.0.1:9/q", Type="String")
    role = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName="shop-dev-api",
        Role=role["Role"]["Arn"],
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    return aws


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    config: dict[str, Any] = {
        "project": "shop",
        "environments": {"dev": {"account_id": ACCOUNT}},
        "secrets": {"ssm_path": "/shop/{env}/", "required": ["API_KEY"]},
        "targets": {
            "api": {
                "type": "lambda",
                "alias": None,
                "package": {"source": "src"},
                "secrets_in_environment": True,
            }
        },
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


def _deploy(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    return code, out + err


def test_item_15_ssm_nested_paths_are_ignored_and_listed_once_on_every_deploy(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _deploy(repo, capsys)
    assert code == 0, output
    assert output.count("ignored 2 parameter(s)") == 1
    assert IGNORED_LINE in output.splitlines()
    live = sandbox.client("lambda").get_function_configuration(FunctionName="shop-dev-api")
    assert live["Environment"]["Variables"]["API_KEY"] == "the-direct-key"
    assert "queue-url" not in live["Environment"]["Variables"]

    code, output = _deploy(repo, capsys)
    assert code == 0, output
    assert output.count("ignored 2 parameter(s)") == 1


def test_item_15_secrets_list_shows_the_direct_children_and_names_the_ignored(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(["--json", "--sandbox", "--config", str(repo), "secrets", "list", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    doc = json.loads(out)
    assert [p["parameter"] for p in doc["parameters"]] == ["/shop/dev/API_KEY"]
    assert doc["ignored_nested"] == NESTED
