"""Sandbox runs keep Terraform state with the sandbox, whatever backend the root declares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploytools.errors import BadInput
from deploytools.lib.terraform_sandbox_backend import OVERRIDE_FILE, OWNER, sandbox_backend


def test_override_points_a_local_backend_at_the_sandbox_and_is_removed(tmp_path: Path) -> None:
    root, state = tmp_path / "root", tmp_path / "sandbox" / "tf"
    root.mkdir()
    with sandbox_backend(root, state) as env:
        text = (root / OVERRIDE_FILE).read_text()
        assert 'backend "local"' in text
        assert f'path = "{state / "terraform.tfstate"}"' in text
        assert env == {"TF_DATA_DIR": str(state / "data")}
    assert not (root / OVERRIDE_FILE).exists()
    assert state.is_dir()


def test_removed_even_when_the_run_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), sandbox_backend(tmp_path, tmp_path / "s"):
        raise RuntimeError("terraform failed")
    assert not (tmp_path / OVERRIDE_FILE).exists()


def test_a_leftover_override_is_refused_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / OVERRIDE_FILE).write_text("# someone else's\n")
    with (
        pytest.raises(BadInput, match="another sandbox run"),
        sandbox_backend(tmp_path, tmp_path / "s"),
    ):
        pass
    assert (tmp_path / OVERRIDE_FILE).read_text() == "# someone else's\n"


def test_the_override_of_a_run_killed_outright_is_taken_over(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid no process has now
    (tmp_path / OVERRIDE_FILE).write_text(f"{OWNER} {gone.pid}\n")
    with sandbox_backend(tmp_path, tmp_path / "s"):
        assert f"{OWNER} {os.getpid()}" in (tmp_path / OVERRIDE_FILE).read_text()
    assert not (tmp_path / OVERRIDE_FILE).exists()


def test_the_override_of_a_live_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / OVERRIDE_FILE).write_text(f"{OWNER} {os.getppid()}\n")
    with pytest.raises(BadInput, match="another sandbox run"), sandbox_backend(tmp_path, tmp_path):
        pass
