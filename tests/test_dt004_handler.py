"""DT004: the configured handler must be in the package; what built-in excludes drop is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploytools.cli import main
from deploytools.lib.zip_selection import DEFAULT_EXCLUDES

CONFIG = Path(__file__).parent / "fixtures" / "dt004" / "handler" / "deploytools.yml"


def test_missing_module_and_function_are_errors_and_dropped_code_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(CONFIG.parent, tmp_path, dirs_exist_ok=True)  # out of this repository
    assert main(["--config", str(tmp_path / "deploytools.yml"), "check", "--rule", "DT004"]) == 3
    lines = [line for line in capsys.readouterr().out.splitlines() if " DT004 " in line]
    assert lines == [
        "deploytools.yml:11: DT004 error: targets.no-module: the handler app.serve.handler "
        "needs app/serve.py, which the package does not hold",
        "deploytools.yml:14: DT004 error: targets.no-function: the handler app.predict.main "
        "needs main in app/predict.py, which defines none",
        "deploytools.yml:17: DT004 warning: targets.dropped: the built-in excludes leave out of "
        "the zip package of src: test_query.py",
    ]


def test_an_existing_handler_with_named_excludes_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CONFIG.read_text().split("  no-module:")[0]
    (tmp_path / "deploytools.yml").write_text(text)
    (tmp_path / "src").symlink_to(CONFIG.parent / "src")
    assert main(["--config", str(tmp_path / "deploytools.yml"), "check", "--rule", "DT004"]) == 0


def test_verbose_lists_the_built_in_excludes(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--verbose", "--config", str(CONFIG), "check", "--rule", "DT004"])
    out = capsys.readouterr().out.splitlines()
    assert f"built-in Lambda zip excludes: {', '.join(DEFAULT_EXCLUDES)}" in out
