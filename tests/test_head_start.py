"""lib/head_start.py: the recorded command starts at process start and is handed over only
when the run asks for exactly it; what it set up is taken back whatever happens."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from deploytools.checks.index import FileIndex
from deploytools.lib import head_start
from deploytools.lib.head_start import HeadStart
from deploytools.lib.terraform_sandbox_backend import OVERRIDE_FILE

SLEEPER = [sys.executable, "-c", "import time; print('early', flush=True); time.sleep(60)"]
pytestmark = pytest.mark.usefixtures("head_start_cache")

ECHO = [sys.executable, "-c", "print('early')"]


def _recorded(
    argv: list[str],
    folder: Path,
    env: dict[str, str] | None = None,
    sandbox: tuple[Path, Path] | None = None,
) -> HeadStart:
    """A run that records `argv`, then the next run's session (its head start started)."""
    first = head_start.begin(["deploy"], version="test")
    assert first is not None and not first.running
    assert first.remember(argv, cwd=folder, env=env or {}, sandbox=sandbox)
    head_start.end()
    second = head_start.begin(["deploy"], version="test")
    assert second is not None
    return second


def test_the_same_command_is_handed_over_with_its_output(tmp_path: Path) -> None:
    head = _recorded(ECHO, tmp_path, env={"WORD": "x"})
    assert head.running
    done = head.result_for(ECHO, cwd=tmp_path, env={"WORD": "x"})
    assert done is not None and done.returncode == 0 and done.stdout == "early\n"
    assert head.result_for(ECHO, cwd=tmp_path, env={"WORD": "x"}) is None  # taken once


@pytest.mark.parametrize("change", ["argv", "cwd", "env", "environ"])
def test_any_other_command_kills_it(
    tmp_path: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = _recorded(SLEEPER, tmp_path, env={"WORD": "x"})
    child = head._child
    assert child is not None
    argv, cwd, env = list(SLEEPER), tmp_path, {"WORD": "x"}
    if change == "argv":
        argv[-1] += " "
    elif change == "cwd":
        cwd = tmp_path / "cache"
    elif change == "env":
        env = {"WORD": "y"}
    else:
        monkeypatch.setenv("SOMETHING_THE_RUN_SET", "1")
    assert head.result_for(argv, cwd=cwd, env=env) is None
    assert child.poll() is not None and not head.running


def test_another_command_line_or_setting_has_its_own_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _recorded(ECHO, tmp_path)
    head_start.end()
    other = head_start.begin(["plan"], version="test")
    assert other is not None and not other.running
    head_start.end()
    monkeypatch.setenv("DEPLOYTOOLS_TERRAFORM", "/elsewhere/terraform")
    assert not head_start.begin(["deploy"], version="test").running  # type: ignore[union-attr]
    head_start.end()
    monkeypatch.setenv("DEPLOYTOOLS_HEAD_START", "0")
    assert head_start.begin(["deploy"], version="test") is None


def test_the_sandbox_backend_is_set_up_early_and_handed_over(tmp_path: Path) -> None:
    root, state = tmp_path / "root", tmp_path / "state"
    root.mkdir()
    head = _recorded(SLEEPER, tmp_path, sandbox=(root, state))
    assert head.running and (root / OVERRIDE_FILE).is_file()
    assert OVERRIDE_FILE not in [f.name for f in FileIndex(root).files]  # `check` never reads it
    handed = head.sandbox_backend(root, state)
    assert handed is not None
    stack, env = handed
    assert env == {"TF_DATA_DIR": str(state / "data")}
    head.end()
    assert (root / OVERRIDE_FILE).is_file(), "the run owns the backend now"
    stack.close()
    assert not (root / OVERRIDE_FILE).exists()


@pytest.mark.parametrize("wanted", ["another root", "no sandbox"])
def test_a_run_that_needs_another_backend_takes_it_back(tmp_path: Path, wanted: str) -> None:
    root, state = tmp_path / "root", tmp_path / "state"
    root.mkdir()
    head = _recorded(SLEEPER, tmp_path, sandbox=(root, state))
    other = (tmp_path, state) if wanted == "another root" else (root, None)
    assert head.sandbox_backend(*other) is None
    assert not head.running and not (root / OVERRIDE_FILE).exists()


def test_an_interrupted_run_leaves_nothing(tmp_path: Path) -> None:
    root, state = tmp_path / "root", tmp_path / "state"
    root.mkdir()
    head = _recorded(SLEEPER, tmp_path, sandbox=(root, state))
    child, work = head._child, head.work_dir
    assert child is not None
    head_start.end()  # what cli.run() does whatever main() raised
    assert child.poll() is not None
    assert not work.exists() and not (root / OVERRIDE_FILE).exists()


def test_nothing_starts_when_its_loopback_endpoint_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    assert not _recorded(ECHO, tmp_path, env=env).running


def test_nothing_starts_beside_another_runs_sandbox_backend(tmp_path: Path) -> None:
    root, state = tmp_path / "root", tmp_path / "state"
    root.mkdir()
    (root / OVERRIDE_FILE).write_text("# another run's\n")
    assert not _recorded(ECHO, tmp_path, sandbox=(root, state)).running
    assert (root / OVERRIDE_FILE).read_text() == "# another run's\n"


def test_a_recipe_in_use_is_kept_by_the_prune(tmp_path: Path) -> None:
    _recorded(ECHO, tmp_path)
    (recipe,) = (tmp_path / "cache" / "deploytools" / "head-start").glob("*.json")
    os.utime(recipe, (0, 0))  # written long ago ...
    head_start.end()
    head_start.begin(["deploy"], version="test")  # ... and used now
    assert recipe.stat().st_mtime > 0


def test_a_file_it_read_from_its_folder_is_written_again_and_must_be_the_same(
    tmp_path: Path,
) -> None:
    first = head_start.begin(["deploy"], version="test")
    assert first is not None
    config = first.work_dir / "terraformrc"
    config.write_text("mirror 1\n")
    env = {"TF_CLI_CONFIG_FILE": str(config)}
    assert first.remember(ECHO, cwd=tmp_path, env=env, sandbox=None)
    head_start.end()
    head = head_start.begin(["deploy"], version="test")
    assert head is not None and head.running
    config = head.work_dir / "terraformrc"
    assert config.read_text() == "mirror 1\n"
    assert (config.stat().st_mode & 0o777) == 0o600
    config.write_text("mirror 2\n")  # what the run wrote differs from what the command read
    assert head.result_for(ECHO, cwd=tmp_path, env={"TF_CLI_CONFIG_FILE": str(config)}) is None
