"""DT003: environment variables the code reads but its target does not pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploytools.checks import CheckContext, Finding, Severity, run_checks
from deploytools.checks.dt003_env_from_code import reads
from deploytools.config.loader import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "dt003"


def dt003(root: Path) -> list[Finding]:
    ctx = CheckContext(root=root, config=load_config(root / "deploytools.yml"))
    return run_checks(ctx, only={"DT003"})


def test_reads_the_target_does_not_pass_are_found_at_their_line() -> None:
    findings = dt003(FIXTURES / "missing")
    summary = [
        (f.file, f.line, f.severity, f.message.split(" reads ")[1].split(" ")[0]) for f in findings
    ]
    assert summary == [
        ("backend/training/train.py", 9, Severity.ERROR, "LEARNING_RATE"),
        ("backend/training/train.py", 10, Severity.WARNING, "EPOCHS"),
        ("backend/training/train.py", 11, Severity.ERROR, "DATA_BUCKET"),
        ("backend/training/train.py", 13, Severity.WARNING, "BATCH_SIZE"),
    ]
    first = findings[0]
    assert first.message == (
        "targets.trainer runs code that reads LEARNING_RATE (os.environ[...]), but the target "
        "neither sets it (environment) nor gets it from SSM (secrets)"
    )
    assert first.fix == "add LEARNING_RATE to targets.trainer.environment or to secrets.required"
    assert findings[1].message.endswith(
        "(it has a default, so the code runs, but not as configured)"
    )
    assert "(env)" in findings[1].message  # the alias, as written


def test_names_set_from_ssm_or_the_platform_are_fine() -> None:
    assert dt003(FIXTURES / "covered") == []


def test_an_explicit_secrets_list_replaces_the_required_ones(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "covered", root)
    config = root / "deploytools.yml"
    config.write_text(
        config.read_text().replace("LOG_LEVEL: info}", "LOG_LEVEL: info}\n    secrets: [API_KEY]")
    )

    (finding,) = dt003(root)

    assert (finding.file, finding.line) == ("backend/api/main.py", 6)
    assert "DB_PASSWORD" in finding.message
    assert finding.fix == (
        "add DB_PASSWORD to targets.api.environment or to targets.api.secrets "
        "(and secrets.required)"
    )


def test_code_that_does_not_parse_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "missing", root)
    (root / "backend" / "training" / "broken.py").write_text('def x(:\n    os.environ["NEVER"]\n')
    assert len(dt003(root)) == 4


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('import os\nos.getenv("A")', [("A", False)]),
        ('import os\nos.getenv("A", None)', [("A", True)]),
        ('import os\nos.environ["A"]', [("A", False)]),
        ('import os\nos.environ.get("A")', [("A", False)]),
        ('import os\nos.environ.get("A", "")', [("A", True)]),
        ('import os\nos.environ.setdefault("A", "1")', [("A", True)]),
        ('from os import environ\nenviron["A"]; environ.get("B")', [("A", False), ("B", False)]),
        ('from os import getenv\ngetenv("A")', [("A", False)]),
        ('from os import environ as e\ne.get("A", default=1)', [("A", True)]),
        ('import os\nos.environ["A"] = "x"', []),  # a write, not a read
        ('import os\nname = "A"\nos.getenv(name)', []),  # not a literal
        ('environ = {}\nenviron.get("A")', []),  # not os.environ
        ('import other as os2\nos2.getenv("A")', []),
    ],
)
def test_what_counts_as_a_read(source: str, expected: list[tuple[str, bool]]) -> None:
    assert [(r.name, r.has_default) for r in reads(source)] == expected
