"""Where a running sandbox is recorded, so that every command (and the AWS CLI) finds it."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SandboxState:
    pid: int
    endpoints: dict[str, str]  # service -> URL, e.g. {"ssm": "http://127.0.0.1:4566"}
    registry: str | None = None  # host:port of the container registry standing in for ECR
    missing: dict[str, str] = field(default_factory=dict)  # component -> how to install it
    log: str = ""
    # What the sandbox serves that is no AWS API endpoint: {"apigateway": base URL} (see
    # sandbox/apigateway.py, which maps an execute-api URL onto it).
    serving: dict[str, str] = field(default_factory=dict)

    @property
    def aws_url(self) -> str:
        return self.endpoints.get("sts", "")


def state_dir() -> Path:
    default = Path.home() / ".cache" / "deploytools" / "sandbox"
    return Path(os.environ.get("DEPLOYTOOLS_SANDBOX_DIR", default))


def state_file() -> Path:
    return state_dir() / "state.json"


def read() -> SandboxState | None:
    """The running sandbox, or None (a record whose process died is removed)."""
    path = state_file()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    state = SandboxState(**data)
    if not _alive(state.pid):
        path.unlink(missing_ok=True)
        return None
    return state


def write(state: SandboxState) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(path)


def terraform_dir() -> Path:
    """Terraform state of sandbox runs (see lib/terraform_sandbox_backend.py)."""
    return state_dir() / "terraform"


def clear() -> None:
    state_file().unlink(missing_ok=True)
    # The resources that state described went with moto's memory.
    shutil.rmtree(terraform_dir(), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
