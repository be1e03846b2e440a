"""The import-linter contracts in pyproject.toml can fail: a copy of the package with one wrong
import added breaks the contract that forbids it. Independent of whether the real tree is clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IMPORTER = (  # the lint-imports console script, run by this interpreter
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "300", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", IMPORTER, "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """deploytools/ and pyproject.toml, copied so that a wrong import can be added."""
    shutil.copytree(REPO / "deploytools", tmp_path / "deploytools",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        (
            "checks/x.py",
            "deploytools.steps.images",
            "checks are functions of files and config: no steps, no AWS, no Docker, no network",
        ),
        ("checks/y.py", "boto3", "checks are functions"),
        ("steps/smoke_extra.py", "deploytools.cli", "a step never imports the face"),
        (
            "steps/targets/batch_extra.py",
            "deploytools.steps.secrets",
            "a step never imports another",
        ),
        ("sandbox/x.py", "deploytools.pipeline", "the sandbox never imports a step"),
        ("lib/x.py", "deploytools.aws", "lib imports nothing of deploytools above config"),
        ("config/x.py", "botocore", "config knows nothing of AWS"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    package_copy: Path, module: str, wrong_import: str, contract: str
) -> None:
    source = package_copy / "deploytools" / module
    source.write_text(f'"""A deliberately wrong import."""\n\nimport {wrong_import}\n')
    dotted = "deploytools." + module.removesuffix(".py").replace("/", ".")
    result = lint_imports(package_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{dotted} -> {wrong_import} (l.3)" in result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken


def test_the_same_copy_without_it_names_no_such_import(package_copy: Path) -> None:
    result = lint_imports(package_copy)
    assert "Contracts:" in result.stdout, result.stderr
    assert result.returncode in (0, 1)  # the real tree's own state, whatever it is
    assert "deploytools.checks.x" not in result.stdout
