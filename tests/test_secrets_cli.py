"""deploytools secrets list|export|exec, and the promise that a value never leaks.

In-process tests use moto's mock_aws; the leak test runs the real CLI in subprocesses against
moto's server and scans everything they printed and every file of the work tree.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from deploytools.cli import main

pytestmark = pytest.mark.usefixtures("clean_masks")

FIXTURE = Path(__file__).parent / "fixtures" / "secrets"
PATH = "/shop/dev/"
API_KEY = "sentinel-api-key-5f1b2c9e"
DB_PASSWORD = "sentinel-db-pw-line-one\nsentinel-db-pw-line-two"


@pytest.fixture
def app_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture app as the current directory."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    monkeypatch.chdir(repo)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_ENV", raising=False)
    return repo


@pytest.fixture
def ssm() -> Iterator[object]:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


@pytest.fixture
def stored(ssm: object) -> object:
    """Both required secrets in SSM (one multi-line)."""
    ssm.put_parameter(Name=f"{PATH}API_KEY", Value=API_KEY, Type="SecureString")  # type: ignore[attr-defined]
    ssm.put_parameter(Name=f"{PATH}DB_PASSWORD", Value=DB_PASSWORD, Type="SecureString")  # type: ignore[attr-defined]
    return ssm


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# A child that checks its environment without printing or taking the values as arguments.
CHILD = (
    "import hashlib, os, sys\n"
    "digest = lambda n: hashlib.sha256(os.environ[n].encode()).hexdigest()\n"
    "print('child sees', sorted(n for n in ('API_KEY', 'DB_PASSWORD') if n in os.environ))\n"
    f"sys.exit(0 if (digest('API_KEY'), digest('DB_PASSWORD')) == "
    f"({sha(API_KEY)!r}, {sha(DB_PASSWORD)!r}) else 9)\n"
)


def test_list_shows_metadata_never_values(
    app_repo: Path, stored: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["secrets", "list", "--env", "dev"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "/shop/dev/  (2 parameter(s))"
    assert out[1].split() == ["NAME", "TYPE", "VERSION", "LAST", "MODIFIED"]
    assert out[2].split()[:3] == ["API_KEY", "SecureString", "1"]
    assert out[3].split()[:3] == ["DB_PASSWORD", "SecureString", "1"]
    assert "sentinel" not in "\n".join(out)


def test_list_json_and_missing_required(
    app_repo: Path, ssm: object, capsys: pytest.CaptureFixture[str]
) -> None:
    ssm.put_parameter(Name=f"{PATH}API_KEY", Value=API_KEY, Type="SecureString")  # type: ignore[attr-defined]
    assert main(["secrets", "list", "--env", "dev", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["path"] == PATH and doc["missing"] == ["DB_PASSWORD"]
    assert [p["name"] for p in doc["parameters"]] == ["API_KEY"]
    assert set(doc["parameters"][0]) == {"name", "parameter", "type", "version", "last_modified"}
    assert main(["secrets", "list", "--env", "dev"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split() == [
        "DB_PASSWORD", "missing", "(required):", "aws", "ssm", "put-parameter", "--name",
        "/shop/dev/DB_PASSWORD", "--type", "SecureString", "--value", "'...'",
    ]  # fmt: skip


def test_export_needs_an_explicit_format(
    app_repo: Path, stored: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["secrets", "export", "--env", "dev"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: secrets export needs --format github|dotenv|json: github appends to $GITHUB_ENV "
        "(masked); dotenv and json print secret values on stdout\n"
    )


def test_export_dotenv_and_json_print_values_when_asked(
    app_repo: Path, stored: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["secrets", "export", "--env", "dev", "--format", "dotenv"]) == 0
    assert capsys.readouterr().out == (
        "API_KEY=sentinel-api-key-5f1b2c9e\n"
        'DB_PASSWORD="sentinel-db-pw-line-one\\nsentinel-db-pw-line-two"\n'
    )
    assert main(["secrets", "export", "--env", "dev", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"API_KEY": API_KEY, "DB_PASSWORD": DB_PASSWORD}


def test_export_github_appends_to_github_env_masked_first(
    app_repo: Path,
    stored: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github_env = tmp_path / "runner" / "github_env"
    github_env.parent.mkdir()
    monkeypatch.setenv("GITHUB_ENV", str(github_env))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    both = io.StringIO()  # masks go to stderr, the report to stdout: keep their order
    monkeypatch.setattr(sys, "stdout", both)
    monkeypatch.setattr(sys, "stderr", both)
    assert main(["secrets", "export", "--env", "dev", "--format", "github"]) == 0
    out = both.getvalue().splitlines()
    masks = [line for line in out if line.startswith("::add-mask::")]
    assert set(masks) == {
        f"::add-mask::{API_KEY}",
        "::add-mask::sentinel-db-pw-line-one",
        "::add-mask::sentinel-db-pw-line-two",
    }
    assert out.index(masks[-1]) < out.index(
        "exported 2 secret(s) to $GITHUB_ENV: API_KEY, DB_PASSWORD"
    )
    text = github_env.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("API_KEY<<ghadelimiter_") and lines[1] == API_KEY
    assert lines[2] == lines[0].split("<<")[1]
    assert lines[3].startswith("DB_PASSWORD<<") and lines[4:6] == DB_PASSWORD.splitlines()


def test_export_github_outside_actions_needs_github_env(
    app_repo: Path, stored: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["secrets", "export", "--env", "dev", "--format", "github"]) == 2
    assert "$GITHUB_ENV, which is not set" in capsys.readouterr().err


def test_exec_passes_the_values_to_the_child(
    app_repo: Path, stored: object, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["secrets", "exec", "--env", "dev", "--", sys.executable, "-c", CHILD]) == 0
    out = capfd.readouterr().out
    assert out == "child sees ['API_KEY', 'DB_PASSWORD']\n"


def test_exec_returns_the_child_exit_code(
    app_repo: Path, stored: object, capfd: pytest.CaptureFixture[str]
) -> None:
    child = [sys.executable, "-c", "import sys; sys.exit(7)"]
    assert main(["secrets", "exec", "--env", "dev", "--", *child]) == 7
    assert main(["secrets", "exec", "--env", "dev", "--", "no-such-command-xyz"]) == 2
    assert "no-such-command-xyz is not installed or not on PATH" in capfd.readouterr().err


def test_missing_required_secret_stops_exec_before_the_child_runs(
    app_repo: Path, ssm: object, capfd: pytest.CaptureFixture[str]
) -> None:
    ssm.put_parameter(Name=f"{PATH}API_KEY", Value=API_KEY, Type="SecureString")  # type: ignore[attr-defined]
    marker = app_repo / "ran"
    child = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    assert main(["secrets", "exec", "--env", "dev", "--", *child]) == 2
    assert not marker.exists()
    assert capfd.readouterr().err == (
        "error: required secret(s) missing from SSM Parameter Store under /shop/dev/: "
        "DB_PASSWORD\nadd each one with:\n"
        "  aws ssm put-parameter --name /shop/dev/DB_PASSWORD --type SecureString --value '...'\n"
    )


def test_a_bad_parameter_name_is_bad_input(
    app_repo: Path, stored: object, capsys: pytest.CaptureFixture[str]
) -> None:
    stored.put_parameter(Name=f"{PATH}9LIVES", Value="x-value-x", Type="String")  # type: ignore[attr-defined]
    assert main(["secrets", "exec", "--env", "dev", "--", "true"]) == 2
    assert "SSM parameter /shop/dev/9LIVES: '9LIVES' is not a valid" in capsys.readouterr().err


def test_argument_mistakes(app_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "exec", "--env", "dev"]) == 2
    assert main(["secrets", "list", "--env", "dev", "--format", "json"]) == 2
    assert main(["secrets", "-v", "list", "--env", "dev", "extra"]) == 2
    assert main(["secrets", "list", "--env", "nope"]) == 2
    err = capsys.readouterr().err
    assert "secrets exec needs a command" in err
    assert "unrecognized arguments: --format json" in err
    assert "unrecognized arguments: extra" in err
    assert "environment 'nope' is not defined; allowed: dev" in err


def test_a_secret_value_never_leaks_from_any_command(tmp_path: Path, moto_endpoint: str) -> None:
    """Run the CLI for real (-v) against moto's server; scan output and the work tree."""
    work = tmp_path / "work"
    shutil.copytree(FIXTURE, work)
    ssm = boto3.client("ssm", region_name="us-east-1", endpoint_url=moto_endpoint)
    ssm.put_parameter(Name=f"{PATH}API_KEY", Value=API_KEY, Type="SecureString")
    ssm.put_parameter(Name=f"{PATH}DB_PASSWORD", Value=DB_PASSWORD, Type="SecureString")
    ssm.put_parameter(Name=f"{PATH}extra/FEATURE_FLAG_TOKEN", Value=API_KEY + "-2", Type="String")
    github_env = tmp_path / "runner" / "github_env"  # outside the tree: it must hold values
    github_env.parent.mkdir()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "GITHUB_ENV": str(github_env),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("GITHUB_ACTIONS", None)
    commands = [
        ["secrets", "list", "--env", "dev"],
        ["secrets", "list", "--env", "dev", "--json"],
        ["secrets", "export", "--env", "dev", "--format", "github"],
        ["secrets", "export", "--env", "dev"],
        ["secrets", "exec", "--env", "dev", "--", sys.executable, "-c", CHILD],
        ["plan", "--env", "dev"],
        ["check"],
    ]
    results = {}
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-m", "deploytools", "-v", *command],
            cwd=work, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        results[" ".join(command[:3])] = result
    assert results["secrets list --env"].returncode == 0
    assert results["secrets export --env"].returncode == 2  # no --format: refused
    assert results["secrets exec --env"].returncode == 0, results["secrets exec --env"].stderr
    assert "child sees ['API_KEY', 'DB_PASSWORD']" in results["secrets exec --env"].stdout
    sentinels = [API_KEY, *DB_PASSWORD.splitlines()]
    for name, result in results.items():
        for sentinel in sentinels:
            assert sentinel not in result.stdout, name
            assert sentinel not in result.stderr, name
    for path in work.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for sentinel in sentinels:
                assert sentinel.encode() not in data, path
    assert API_KEY in github_env.read_text()  # the scan above would have seen a leak
