"""DT003 precision: pydantic-settings models count as reads; containerOverrides count as set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploytools.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "dt003"


def _check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--config", str(config), "check", "--rule", "DT003"])
    return code, [line for line in capsys.readouterr().out.splitlines() if " DT003 " in line]


def test_pydantic_settings_fields_are_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "pydantic", tmp_path, dirs_exist_ok=True)  # out of this repository
    code, lines = _check(tmp_path / "deploytools.yml", capsys)
    assert code == 3
    pending = "but the target neither sets it (environment) nor gets it from SSM (secrets)"
    assert lines == [
        "app/settings.py:11: DT003 warning: targets.api runs code that reads SHOP_TABLE_NAME "
        f"(Settings.table_name (pydantic-settings)), {pending} (it has a default, so the code "
        "runs, but not as configured)",
        "app/settings.py:12: DT003 error: targets.api runs code that reads MODEL_URI "
        f"(Settings.model_uri (pydantic-settings)), {pending}",
        "app/settings.py:14: DT003 error: targets.api runs code that reads API_KEY "
        f"(Settings.api_key (pydantic-settings)), {pending}",
        "app/settings.py:18: DT003 error: targets.api runs code that reads SHOP_ADMIN_EMAIL "
        f"(AdminSettings.admin_email (pydantic-settings)), {pending}",
    ]


def test_pydantic_settings_set_in_any_case_are_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "pydantic", tmp_path, dirs_exist_ok=True)
    config = tmp_path / "deploytools.yml"
    config.write_text(
        config.read_text()
        + "      SHOP_TABLE_NAME: orders\n      model_uri: s3://models/latest\n"
        + "      SHOP_ADMIN_EMAIL: ops@example.com\n    secrets: [API_KEY]\n"
        + "secrets: {ssm_path: /shop/{env}/, required: [API_KEY]}\n"
    )
    assert _check(config, capsys) == (0, [])


def test_container_overrides_count_as_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "cascade", tmp_path, dirs_exist_ok=True)  # out of this repository
    code, lines = _check(tmp_path / "deploytools.yml", capsys)
    assert code == 3
    assert lines == [
        "training/train.py:5: DT003 error: targets.trainer runs code that reads EPOCHS "
        "(os.environ[...]), but the target neither sets it (environment) nor gets it from SSM "
        "(secrets)"
    ]


def test_without_the_submitting_code_the_cascade_names_are_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "cascade", tmp_path, dirs_exist_ok=True)
    (tmp_path / "api" / "handler.py").unlink()
    code, lines = _check(tmp_path / "deploytools.yml", capsys)
    assert code == 3
    assert [line.split(" reads ")[1].split(" ")[0] for line in lines] == [
        "LEARNING_RATE", "RUN_DATE", "EPOCHS",
    ]  # fmt: skip


def test_targets_sharing_code_get_one_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text('import os\nTABLE = os.environ["TABLE"]\n')
    (tmp_path / "deploytools.yml").write_text(
        'project: shop\nenvironments:\n  dev: {account_id: "123456789012"}\ntargets:\n'
        + "".join(
            f"  {name}:\n    type: lambda\n    package: {{source: src}}\n    env_from_code: [src]\n"
            for name in ("predict", "score")
        )
    )
    code, lines = _check(tmp_path / "deploytools.yml", capsys)
    assert code == 3
    assert lines == [
        "src/app.py:2: DT003 error: targets.predict, targets.score run code that reads TABLE "
        "(os.environ[...]), but the targets set it neither in environment nor from SSM (secrets)"
    ]
