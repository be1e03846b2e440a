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


DEPLOY = """
import json, sys
import deploytools.commands.deploy, deploytools.pipeline.deploy
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""


def test_the_deploy_pipeline_loads_no_http_docker_or_hcl_library_until_a_step_uses_one() -> None:
    # A no-op deploy pushes nothing, probes nothing and parses cached Terraform: requests
    # (~0.1 s), the Docker SDK and python-hcl2 load where a build, a probe or a parse runs.
    result = subprocess.run(
        [sys.executable, "-c", DEPLOY], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint({"requests", "docker", "hcl2", "lark"})
    assert "boto3" in loaded  # the import went through the pipeline's AWS side
