"""The container registry standing in for ECR's data plane: Debian's docker-registry."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import requests

from deploytools import proc
from deploytools.sandbox.ports import wait_http

DEFAULT_ADDRESS = os.environ.get("DEPLOYTOOLS_REGISTRY", "127.0.0.1:5055")
INSTALL_HINT = "apt-get install docker-registry (scripts/setup does)"
CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {address}
"""


def reachable(address: str = DEFAULT_ADDRESS) -> bool:
    try:
        return requests.get(f"http://{address}/v2/", timeout=2).status_code in (200, 401)
    except requests.RequestException:
        return False


def ensure(
    work_dir: Path, address: str = DEFAULT_ADDRESS
) -> tuple[str | None, str | None, Callable[[], None]]:
    """(address, None, stop) once a registry answers; (None, why and how to install, noop)."""
    if reachable(address):
        return address, None, lambda: None
    binary = shutil.which("docker-registry")
    if binary is None:
        return None, f"no container registry: {INSTALL_HINT}", lambda: None
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "registry.yml"
    config.write_text(CONFIG.format(root=work_dir / "storage", address=address))
    with (work_dir / "registry.log").open("ab") as log:
        process = proc.spawn([binary, "serve", str(config)], stdout=log, stderr=log)
    if not wait_http(f"http://{address}/v2/", timeout=20):
        process.terminate()
        return None, f"docker-registry did not start on {address}: see {work_dir}", lambda: None
    return address, None, process.terminate
