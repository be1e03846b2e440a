"""Output: GitHub Actions commands and files, the reporter, and secret masking."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from deploytools.cli import main
from deploytools.output import Reporter, github, mask

pytestmark = pytest.mark.usefixtures("clean_masks")

SENTINEL = "s3ntinel-VALUE-9f8e7d"


@pytest.fixture
def in_actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"):
        monkeypatch.setenv(name, str(tmp_path / name))
    return tmp_path


def test_outside_actions_files_are_not_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert github.set_output("x", "1") is False
    assert github.in_actions() is False


def test_add_mask_before_use_and_multiline(
    in_actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mask.register_secret("line-one\nline-two")
    captured = capsys.readouterr()
    assert captured.err == "::add-mask::line-one\n::add-mask::line-two\n"
    assert captured.out == ""  # stdout stays clean for --json


def test_annotation_escapes_properties(capsys: pytest.CaptureFixture[str]) -> None:
    github.annotation("error", "bad: 50%\nnext", file="a,b.yml", line=3, title="DT001")
    assert capsys.readouterr().out == (
        "::error file=a%2Cb.yml,line=3,title=DT001::bad: 50%25%0Anext\n"
    )


def test_output_is_multiline_safe(in_actions: Path) -> None:
    github.set_output("release", "r-1\nr-2")
    text = (in_actions / "GITHUB_OUTPUT").read_text()
    header, first, second, footer, _ = text.split("\n")
    assert header.startswith("release<<ghadelimiter_")
    assert (first, second) == ("r-1", "r-2")
    assert footer == header.split("<<", 1)[1]


def test_summary_table(in_actions: Path) -> None:
    reporter = Reporter(out=io.StringIO(), err=io.StringIO())
    with reporter.step("images") as step:
        step.summary = "api | built"
    reporter.summary("deploy dev")
    summary = (in_actions / "GITHUB_STEP_SUMMARY").read_text()
    assert summary.startswith(
        "### deploy dev\n\n| step | result | time | summary |\n|---|---|---|---|\n"
    )
    assert "| images | ok |" in summary and "api \\| built" in summary


def test_step_groups_in_actions(in_actions: Path) -> None:
    out = io.StringIO()
    reporter = Reporter(out=out)
    with reporter.step("terraform"):
        reporter.line("inside")
    lines = out.getvalue().splitlines()
    assert lines[0] == "::group::terraform"
    assert lines[1] == "inside"
    assert lines[2] == "::endgroup::"
    assert lines[3].startswith("✓ terraform")


def test_json_mode_keeps_stdout_for_the_document() -> None:
    out, err = io.StringIO(), io.StringIO()
    reporter = Reporter(json_mode=True, out=out, err=err)
    with reporter.step("check"):
        reporter.line("human")
    reporter.document(reporter.steps_document(ok=True))
    doc = json.loads(out.getvalue())
    assert doc["ok"] is True and doc["steps"][0]["name"] == "check"
    assert "human" in err.getvalue()


def test_secret_never_reaches_stdout_or_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Deliberately log, print, raise and report around a secret: only *** comes out."""
    mask.register_secret(SENTINEL)
    out, err = io.StringIO(), io.StringIO()
    reporter = Reporter(out=out, err=err, verbose=True)
    reporter.line(f"value is {SENTINEL}")
    reporter.warn(f"warning with {SENTINEL}")
    reporter.document({"token": SENTINEL})
    with pytest.raises(RuntimeError), reporter.step(f"step {SENTINEL}") as step:
        step.summary = f"summary {SENTINEL}"
        raise RuntimeError(SENTINEL)
    handler = logging.StreamHandler(err)
    handler.addFilter(mask.RedactingFilter())
    logger = logging.getLogger("deploytools.test")
    logger.addHandler(handler)
    try:
        logger.error("leaked %s", SENTINEL)
    finally:
        logger.removeHandler(handler)
    text = out.getvalue() + err.getvalue()
    assert SENTINEL not in text
    assert text.count("***") >= 5


def test_cli_error_message_is_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mask.register_secret(SENTINEL)
    config = tmp_path / f"{SENTINEL}.yml"
    assert main(["--config", str(config), "-v", "plan", "--env", "dev"]) == 2
    captured = capsys.readouterr()
    assert SENTINEL not in captured.out + captured.err
    assert "***.yml: no such file" in captured.err
