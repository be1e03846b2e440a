"""`terraform init` runs only when what it installs would change; outputs come from the
state file. Real terraform on a root that needs no provider download (terraform_data)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformRunner, init_state

pytestmark = pytest.mark.terraform

SKIPPED = "(providers, modules and backend up to date: skipped)"


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for name in ("a", "b"):
        module = tmp_path / "modules" / name
        module.mkdir(parents=True)
        (module / "main.tf").write_text(
            f'resource "terraform_data" "x" {{ input = "{name}" }}\n'
            'output "id" { value = terraform_data.x.output }\n'
        )
    root.mkdir()
    (root / "main.tf").write_text(
        'module "m" { source = "../modules/a" }\n'
        'variable "word" { default = "hello" }\n'
        'output "word" { value = var.word }\n'
        'output "from_module" { value = module.m.id }\n'
        'output "token" {\n  value     = "s3cr3t-${var.word}"\n  sensitive = true\n}\n'
        'output "nothing" { value = null }\n'
    )
    return root


def _run(root: Path, binary: Path) -> tuple[dict[str, object], bool, str]:
    """init + plan + apply + outputs; returns (outputs, plan had changes, printed text)."""
    out = io.StringIO()
    with TerraformRunner(root, env_vars={}, reporter=Reporter(out=out), binary=binary) as tf:
        tf.init()
        summary = tf.plan()
        tf.apply(summary)
        outputs = tf.outputs()
        work_dir = tf.work_dir
    assert not work_dir.exists(), "plan files outlive the runner"
    return outputs, summary.has_changes, out.getvalue()


def _terraform_output(root: Path, binary: Path) -> dict[str, object]:
    shown = subprocess.run(
        [str(binary), "output", "-json"], cwd=root, capture_output=True, text=True, check=True
    )
    return {name: o["value"] for name, o in json.loads(shown.stdout).items()}


def test_second_noop_skips_init_with_the_same_plan_and_outputs(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    root = _root(tmp_path)
    first, changed, printed = _run(root, terraform_bin)
    assert changed and SKIPPED not in printed
    without_init, changed_again, printed_again = _run(root, terraform_bin)
    assert not changed_again and SKIPPED in printed_again
    init_state.forget(root, env={})  # the same no-op, with init
    with_init, changed_with_init, printed_with_init = _run(root, terraform_bin)
    assert not changed_with_init and SKIPPED not in printed_with_init
    assert first == without_init == with_init == _terraform_output(root, terraform_bin)
    assert set(first) == {"word", "from_module", "token"}  # null outputs are left out
    assert not list(root.rglob("*.tfplan")), "a plan file was left beside the code"


@pytest.mark.parametrize("edit", ["lock file", "module source", "backend block"])
def test_what_init_depends_on_triggers_init_again(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path, edit: str
) -> None:
    root = _root(tmp_path)
    _run(root, terraform_bin)
    _, _, printed = _run(root, terraform_bin)
    assert SKIPPED in printed
    main = root / "main.tf"
    if edit == "lock file":
        (root / ".terraform.lock.hcl").write_text("# the providers this root pinned\n")
    elif edit == "module source":
        main.write_text(main.read_text().replace("../modules/a", "../modules/b"))
    else:
        main.write_text(main.read_text() + 'terraform {\n  backend "local" {}\n}\n')
    out = io.StringIO()
    reporter = Reporter(out=out)
    with TerraformRunner(root, env_vars={}, reporter=reporter, binary=terraform_bin) as tf:
        tf.init()
        assert SKIPPED not in out.getvalue()
        assert tf.plan().has_changes == (edit == "module source")


def test_editing_a_resource_needs_no_init(tmp_path: Path) -> None:
    root = _root(tmp_path)
    before = init_state.fingerprint(root, env={}, args=["init"], cli_config=None)
    main = root / "main.tf"
    main.write_text(main.read_text() + 'resource "terraform_data" "y" { input = "y" }\n')
    assert init_state.fingerprint(root, env={}, args=["init"], cli_config=None) == before
    main.write_text(main.read_text().replace('"hello"', '"bye"'))
    assert init_state.fingerprint(root, env={}, args=["init"], cli_config=None) == before
    assert init_state.fingerprint(root, env={}, args=["init", "-x"], cli_config=None) != before
