"""Outputs read straight from a local state file, so a run needs no `terraform output`.

`terraform output -json` only reads the state; for the local backend (the default, and the
sandbox's) the state file is JSON we can read ourselves. Other backends return None and the
runner asks Terraform.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploytools.steps.terraform.init_state import data_dir

SUPPORTED_STATE_VERSION = 4


def local_state_path(root: Path, env: Mapping[str, str]) -> Path | None:
    """The state file of a root on the local backend, or None for any other backend."""
    try:
        backend = json.loads((data_dir(root, env) / "terraform.tfstate").read_text())["backend"]
    except (OSError, ValueError, KeyError, TypeError):
        backend = None  # no backend block: the implicit local backend
    workspace = env.get("TF_WORKSPACE") or _selected_workspace(root, env)
    if backend is None:
        path = Path("terraform.tfstate")
    elif backend.get("type") == "local":
        config = backend.get("config") or {}
        if workspace != "default" and config.get("workspace_dir"):
            return None
        path = Path(config.get("path") or "terraform.tfstate")
    else:
        return None
    if workspace != "default":
        path = Path("terraform.tfstate.d", workspace, path.name)
    return path if path.is_absolute() else root / path


def read_outputs(path: Path) -> dict[str, dict[str, Any]] | None:
    """{name: {"value", "sensitive"}} from a state file; {} before the first apply; None when
    the file is not a state format this reads (then ask Terraform)."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != SUPPORTED_STATE_VERSION:
        return None
    outputs = state.get("outputs") or {}
    return {  # as `terraform output -json`: an output whose value is null is left out
        name: {"value": o["value"], "sensitive": bool(o.get("sensitive"))}
        for name, o in outputs.items()
        if o.get("value") is not None
    }


def _selected_workspace(root: Path, env: Mapping[str, str]) -> str:
    try:
        return (data_dir(root, env) / "environment").read_text().strip() or "default"
    except OSError:
        return "default"
