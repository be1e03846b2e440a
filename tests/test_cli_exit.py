"""The exit point: unexpected exceptions, closed pipes, subprocess timeouts, the step summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import deploytools.commands.schema as schema_command
from deploytools import proc
from deploytools.cli import main
from deploytools.commands import App
from deploytools.errors import CommandTimedOut, DeployError
from deploytools.output import Reporter, register_secret

SECRET = "s3cr3t-token-value"


@pytest.fixture
def schema_raises_key_error(clean_masks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`deploytools schema` hits a bug whose message carries a registered secret."""

    def broken(app: App) -> int:
        register_secret(SECRET)
        raise KeyError(f"no parameter named {SECRET}")

    monkeypatch.setattr(schema_command, "run", broken)


def test_unexpected_exception_is_one_redacted_line(
    schema_raises_key_error: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "error: internal error: KeyError: 'no parameter named ***' "
        "(run with --verbose for the traceback)\n"
    )
    assert captured.out == ""
    assert SECRET not in captured.err


def test_unexpected_exception_with_verbose_prints_the_redacted_traceback(
    schema_raises_key_error: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--verbose", "schema"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert 'raise KeyError(f"no parameter named {SECRET}")' in err
    assert "KeyError: 'no parameter named ***'" in err
    assert err.endswith("\nerror: internal error: KeyError: 'no parameter named ***'\n")
    assert SECRET not in err


def test_unexpected_exception_under_json_is_one_document(
    schema_raises_key_error: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "schema"]) == 1
    out = capsys.readouterr().out
    assert '"error": "internal error: KeyError: \'no parameter named ***\'' in out
    assert SECRET not in out


def test_a_closed_pipe_exits_quietly() -> None:
    """The reader is gone before deploytools writes: no traceback, no 120 from the exit flush."""
    child = subprocess.Popen(
        [sys.executable, "-m", "deploytools", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 1
    assert err == ""


def test_schema_into_head_has_no_traceback() -> None:
    result = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$0" -m deploytools schema | head -c 10', sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == '{\n  "$defs'[:10]
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.returncode in (0, 1)  # 1 only when head closed the pipe before the write


def test_proc_run_timeout_names_the_command_and_the_timeout() -> None:
    with pytest.raises(CommandTimedOut) as caught:
        proc.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert isinstance(caught.value, DeployError)
    assert str(caught.value) == (
        f"{sys.executable} did not finish within 0.5 s: "
        f"{sys.executable} -c import time; time.sleep(30)"
    )


def test_proc_spawn_starts_a_process_the_caller_owns(tmp_path: Path) -> None:
    out = (tmp_path / "out.log").open("wb")
    child = proc.spawn(
        [sys.executable, "-c", "print('hello')"], stdout=out, stdin=proc.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    assert child.wait(timeout=30) == 0
    out.close()
    assert (tmp_path / "out.log").read_text() == "hello\n"


def test_proc_spawn_of_a_missing_program_names_it() -> None:
    with pytest.raises(DeployError) as caught:
        proc.spawn(["no-such-program-xyz"])
    assert str(caught.value) == "no-such-program-xyz is not installed or not on PATH"


def test_unwritable_step_summary_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-dir" / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    reporter = Reporter()
    with reporter.step("images"):
        pass
    reporter.summary("deploy dev")
    out = capsys.readouterr().out
    assert out.endswith(
        f"::warning::cannot write the step summary to {target} ($GITHUB_STEP_SUMMARY): "
        "No such file or directory\n"
    )
    assert not target.exists()
