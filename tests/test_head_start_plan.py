"""The head start's early `terraform plan` stands for the run's own only when it is that plan
on that state. Real terraform on a root that needs no provider download (terraform_data)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deploytools.lib import head_start
from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformRunner, init_state

pytestmark = [pytest.mark.terraform, pytest.mark.usefixtures("head_start_cache")]


def _root(folder: Path) -> Path:
    root = folder / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        'variable "word" { default = "hello" }\n'
        'resource "terraform_data" "x" { input = var.word }\n'
        'output "word" { value = terraform_data.x.output }\n'
    )
    return root


def _deploy(root: Path, binary: Path, **env_vars: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One deploy's Terraform in its own head-start session: (plan step's record, outputs)."""
    session = head_start.begin(["deploy"], version="test")
    work = session.work_dir if session is not None else None
    reporter = Reporter(out=io.StringIO())
    try:
        with TerraformRunner(root, env_vars=env_vars, reporter=reporter, binary=binary) as tf:
            tf.init()
            summary = tf.plan()
            tf.apply(summary)
            outputs = tf.outputs()
    finally:
        head_start.end()
    assert session is None or not session.running  # nothing left running
    assert work is None or not work.exists(), "the head start's plan files outlive the run"
    plan = next(s for s in reporter.steps if s.name == "terraform plan")
    return plan.as_dict(), outputs


def _early(record: dict[str, Any]) -> bool:
    return bool(record["detail"].get("head_start"))


def test_a_noop_takes_the_early_plan_with_the_same_plan_and_outputs(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _root(tmp_path)
    first, created = _deploy(root, terraform_bin)
    assert not _early(first) and first["detail"]["terraform_plan"]["has_changes"]
    early, outputs = _deploy(root, terraform_bin)
    assert _early(early), early["summary"]
    monkeypatch.setenv("DEPLOYTOOLS_HEAD_START", "0")
    late, outputs_late = _deploy(root, terraform_bin)
    assert not _early(late)
    assert _plan(early) == _plan(late)  # the same changes, outputs and text
    assert not late["detail"]["terraform_plan"]["has_changes"]
    assert created == outputs == outputs_late == {"word": "hello"}
    assert not list(root.glob("*.tfplan"))


def _plan(record: dict[str, Any]) -> dict[str, Any]:
    """The plan's summary without its file: a plan file records the second it was made
    (plantimestamp(), and the zip's entry times), so two plans of one state differ in bytes."""
    summary = record["detail"]["terraform_plan"]
    assert len(summary["sha256"]) == 64  # each run applies only the file it summarised
    return {k: v for k, v in summary.items() if k not in ("plan_file", "sha256")}


def test_a_state_written_after_the_early_plan_read_it_is_planned_again(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    root = _root(tmp_path)
    _deploy(root, terraform_bin)
    session = head_start.begin(["deploy"], version="test")
    assert session is not None and session.running
    session._child.wait(120)  # type: ignore[union-attr]  # it has read the state: now change it
    subprocess.run(
        [str(terraform_bin), "apply", "-auto-approve", "-input=false", "-var", "word=bye"],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip
    reporter = Reporter(out=io.StringIO())
    with TerraformRunner(root, env_vars={}, reporter=reporter, binary=terraform_bin) as tf:
        tf.init()
        summary = tf.plan()
        tf.discard(summary)
    record = next(s for s in reporter.steps if s.name == "terraform plan")
    assert not record.detail.get("head_start")
    assert summary.has_changes  # the word the other apply wrote goes back to "hello"


def test_other_inputs_kill_the_early_plan_and_plan_their_own(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    root = _root(tmp_path)
    _deploy(root, terraform_bin)
    record, outputs = _deploy(root, terraform_bin, TF_VAR_word="other")
    assert not _early(record) and record["detail"]["terraform_plan"]["has_changes"]
    assert outputs == {"word": "other"}


def test_an_init_stops_the_early_plan(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    root = _root(tmp_path)
    _deploy(root, terraform_bin)
    init_state.forget(root, env={})
    record, _ = _deploy(root, terraform_bin)
    assert not _early(record) and not record["detail"]["terraform_plan"]["has_changes"]


def test_a_recipe_keeps_the_sandbox_keys_as_placeholders_and_no_other_keys(
    tmp_path: Path,
) -> None:
    session = head_start.begin(["deploy"], version="test")
    assert session is not None
    keys = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}
    assert session.remember(["/bin/true"], cwd=tmp_path, env={"A": "1", **keys}, sandbox=None)
    (recipe,) = (tmp_path / "cache" / "deploytools" / "head-start").glob("*.json")
    env = json.loads(recipe.read_text())["env"]
    assert env["AWS_SECRET_ACCESS_KEY"] == "{AWS_SECRET_ACCESS_KEY}" and env["A"] == "1"
    head_start.end()
    recipe.unlink()
    other = head_start.begin(["deploy"], version="test")
    assert other is not None
    real = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-to-disk"}
    assert not other.remember(["/bin/true"], cwd=tmp_path, env=real, sandbox=None)
    assert not list((tmp_path / "cache" / "deploytools" / "head-start").glob("*.json"))
