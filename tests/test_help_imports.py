"""`deploytools --help` starts without the config model: no pydantic, no YAML parser."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
from deploytools.cli import main
try:
    main(['--help'])
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)
"""


def test_help_loads_neither_pydantic_nor_yaml() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stderr.strip().splitlines()[-1]))
    assert loaded.isdisjoint({"pydantic", "pydantic_core", "yaml"})
