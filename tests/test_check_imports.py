"""`check` and `--help` start without the AWS SDK, Docker or HTTP clients: checks never import
steps, and the commands that talk to AWS import it when they run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("boto3", "botocore", "requests", "docker")
LOADED = """
import json, sys
{code}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})), file=sys.stderr)
"""


def top_level_modules(code: str, cwd: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED.format(code=code)],
        cwd=cwd, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import deploytools.checks; deploytools.checks.all_rules()",
        "from deploytools.cli import main; main(['check'])",
        "from deploytools.cli import main; main(['--help'])",
    ],
    ids=["import-checks", "check", "help"],
)
def test_no_aws_sdk_docker_or_http_client_is_imported(code: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert top_level_modules(code, tmp_path).isdisjoint(HEAVY)
