"""`deploytools --sandbox deploy` hands a zip target's `package` settings (requirements file,
runtime, architecture) to the zip build and `terraform.var_files` to `terraform plan`.

The real steps: moto's server for the AWS APIs, the real `terraform` on a root that needs no
provider, pip installing a requirement from a wheel on disk (no index is needed for it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.config import load_config
from deploytools.pipeline.deploy import package_dir
from deploytools.steps.targets import lambda_deps
from tests.support.moto_sandbox import moto_sandbox

ACCOUNT = "123456789012"


def tiny_wheel(folder: Path) -> Path:
    """A pure-Python wheel of one module, so pip installs it for any platform."""
    files = {
        "tinydep.py": b"VALUE = 42\n",
        "tinydep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = io.StringIO()
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{name},sha256={digest},{len(data)}\n")
    record.write("tinydep-1.0.dist-info/RECORD,,\n")
    wheel = folder / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("tinydep-1.0.dist-info/RECORD", record.getvalue())
    return wheel


@pytest.fixture
def sandbox(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    return moto_sandbox(moto_endpoint, tmp_path, monkeypatch)


@pytest.fixture
def repo(tmp_path: Path, terraform_cli_config: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        "import tinydep\n\ndef handler(event, context):\n    return tinydep.VALUE\n"
    )
    (root / "deps").mkdir()
    wheel = tiny_wheel(root / "deps")
    (root / "deps" / "lambda.txt").write_text(f"tinydep @ {wheel.as_uri()}\n")
    (root / "infra").mkdir()
    (root / "infra" / "main.tf").write_text(
        'variable "tier" { type = string }\noutput "tier" { value = var.tier }\n'
    )
    (root / "infra" / "common.tfvars").write_text('tier = "common"\n')
    (root / "infra" / "dev.tfvars").write_text('tier = "dev"\n')  # the later file wins
    config: dict[str, Any] = {
        "project": "wiring",
        "environments": {"dev": {"account_id": ACCOUNT}},
        "terraform": {"dir": "infra", "var_files": ["infra/common.tfvars", "infra/{env}.tfvars"]},
        "targets": {
            "etl": {
                "type": "lambda",
                "alias": None,
                "package": {
                    "source": "src",
                    "requirements": "deps/lambda.txt",
                    "runtime": "python3.11",
                    "architecture": "arm64",
                },
                "environment": {"TIER": "{tf.tier}"},
            }
        },
    }
    (root / "deploytools.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root / "deploytools.yml"


@pytest.fixture
def pip_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The arguments of every pip run, which still runs."""
    calls: list[list[str]] = []
    real_pip = lambda_deps._run_pip

    def recording_pip(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        calls.append(list(args))
        return real_pip(args, env)

    monkeypatch.setattr(lambda_deps, "_run_pip", recording_pip)
    return calls


def placeholder_function(sandbox: AwsContext, runtime: str) -> None:
    """The function as the app's Terraform leaves it: a placeholder zip."""
    role = sandbox.client("iam").create_role(RoleName="etl", AssumeRolePolicyDocument="{}")
    sandbox.client("lambda").create_function(
        FunctionName="wiring-dev-etl",
        Role=role["Role"]["Arn"],
        Runtime=runtime,
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )


def test_package_settings_and_var_files_reach_the_build_and_terraform(
    sandbox: AwsContext,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    pip_calls: list[list[str]],
) -> None:
    placeholder_function(sandbox, "python3.11")

    capsys.readouterr()
    code = main(["--json", "--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    doc = json.loads(out)
    steps = {s["name"]: s for s in doc["steps"]}
    assert "1 requirement(s) from lambda.txt (installed)" in steps["package etl"]["summary"]

    [args] = pip_calls
    assert args[args.index("--python-version") + 1] == "3.11"
    assert args[args.index("--platform") + 1] == "manylinux2014_aarch64"
    with zipfile.ZipFile(package_dir_zip(repo)) as archive:
        assert archive.read("tinydep.py") == b"VALUE = 42\n"

    live = sandbox.client("lambda").get_function_configuration(FunctionName="wiring-dev-etl")
    assert live["Environment"]["Variables"]["TIER"] == "dev"  # from infra/dev.tfvars


def package_dir_zip(config: Path) -> Path:
    return package_dir(load_config(config).for_env("dev")) / "etl.zip"


def test_a_missing_var_file_stops_deploy_before_any_change(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.parent / "infra" / "dev.tfvars").unlink()
    capsys.readouterr()
    code = main(["--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 2
    assert (
        "terraform.var_files[1]: infra/dev.tfvars does not exist "
        f"(looked for {repo.parent / 'infra' / 'dev.tfvars'}); create it or remove the entry"
    ) in err
    assert "package etl" not in out + err


def test_the_sandbox_installs_requirements_for_the_python_its_stand_in_runs(
    sandbox: AwsContext,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    pip_calls: list[list[str]],
) -> None:
    """A python3.12 function runs in the sandbox's stand-in, whose Python is 3.11: cp312
    wheels could not be imported there, so the sandbox installs for 3.11, and says so."""
    config = yaml.safe_load(repo.read_text())
    config["targets"]["etl"]["package"]["runtime"] = "python3.12"
    repo.write_text(yaml.safe_dump(config, sort_keys=False))
    placeholder_function(sandbox, "python3.12")

    capsys.readouterr()
    code = main(["--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    [args] = pip_calls
    assert args[args.index("--python-version") + 1] == "3.11"
    assert (
        "sandbox: package etl's requirements are installed for python3.11, the Python the "
        "sandbox's python3.12 stand-in runs (a deploy to AWS installs them for python3.12)"
    ) in out + err
    live = sandbox.client("lambda").get_function_configuration(FunctionName="wiring-dev-etl")
    assert live["Runtime"] == "python3.12"  # the function itself is as configured
