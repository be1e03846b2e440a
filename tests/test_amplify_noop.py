"""Item 9 of issue 12: Amplify starts a job only when the commit, the build spec or the
environment changed; a no-op deploy starts none.

`deploy --sandbox` through the command: moto's server for SSM (the release records), the
Amplify emulator on loopback for the control plane. Its builds are simulated here (no builder
is given): what is asserted is which deploys start a job, which the emulator counts.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.sandbox.emulators import amplify as emulator_module
from deploytools.sandbox.emulators.amplify import AmplifyEmulator
from tests.support.moto_sandbox import moto_sandbox

ROOT_SPEC = Path(__file__).resolve().parents[1] / "amplify.yml"
COMMIT = "a" * 40
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
    environment: {NEXT_PUBLIC_API_URL: "https://api-v1.shop.invalid"}
"""


@pytest.fixture
def emulator() -> Iterator[AmplifyEmulator]:
    running = emulator_module.serve(pending_seconds=0.05, job_seconds=0.3)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sandbox(
    moto_endpoint: str,
    emulator: AmplifyEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AwsContext:
    monkeypatch.setenv("GITHUB_SHA", COMMIT)  # the repository below is no git checkout
    return moto_sandbox(moto_endpoint, tmp_path, monkeypatch, endpoints={"amplify": emulator.url})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "frontend").mkdir(parents=True)
    (root / "deploytools.yml").write_text(CONFIG)
    shutil.copy(ROOT_SPEC, root / "amplify.yml")
    (root / "frontend" / ".npmrc").write_text("node-linker=hoisted\n")
    return root / "deploytools.yml"


def _deploy(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["--json", "--sandbox", "--config", str(repo), "deploy", "--env", "dev"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _amplify_step(doc: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in doc["steps"] if s["name"] == "amplify")
    return step


def _jobs(sandbox: AwsContext) -> list[str]:
    amplify = sandbox.client("amplify")
    [app] = amplify.list_apps()["apps"]
    summaries = amplify.list_jobs(appId=app["appId"], branchName="main")["jobSummaries"]
    return sorted(str(j["jobId"]) for j in summaries)


def test_item_09_amplify_job_only_when_commit_build_spec_or_environment_changed(
    sandbox: AwsContext, repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    first = _deploy(repo, capsys)
    assert _amplify_step(first)["changed"][-1] == "started RELEASE job 1"
    assert _jobs(sandbox) == ["1"]

    noop = _deploy(repo, capsys)
    step = _amplify_step(noop)
    assert step["status"] == "unchanged" and step["changed"] == []
    assert step["summary"] == (
        "shop-dev-web: no job started; job 1 built this commit with this build spec and environment"
    )
    assert noop["changed"] is False and noop["release"] == first["release"]
    assert _jobs(sandbox) == ["1"]

    repo.write_text(CONFIG.replace("api-v1", "api-v2"))  # the environment changed
    assert _amplify_step(_deploy(repo, capsys))["changed"] == [
        "app shop-dev-web: environment: change NEXT_PUBLIC_API_URL",
        "started RELEASE job 2",
    ]
    assert _jobs(sandbox) == ["1", "2"]
    assert _amplify_step(_deploy(repo, capsys))["changed"] == []

    spec = repo.parent / "amplify.yml"  # the build spec changed
    spec.write_text(spec.read_text() + "# a comment is a change of the spec\n")
    assert _amplify_step(_deploy(repo, capsys))["changed"][-1] == "started RELEASE job 3"

    monkeypatch.setenv("GITHUB_SHA", "b" * 40)  # a new commit
    assert _amplify_step(_deploy(repo, capsys))["changed"] == ["started RELEASE job 4"]
    assert _jobs(sandbox) == ["1", "2", "3", "4"]
    assert _amplify_step(_deploy(repo, capsys))["changed"] == []
