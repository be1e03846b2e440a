"""Find the terraform binary."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from deploytools.steps.terraform.errors import INSTALL_HINT, TerraformNotInstalled

BINARY_ENV = "DEPLOYTOOLS_TERRAFORM"


def find_terraform(explicit: str | Path | None = None) -> Path:
    """The binary to run: `explicit`, then $DEPLOYTOOLS_TERRAFORM, then `terraform` on PATH."""
    chosen = explicit or os.environ.get(BINARY_ENV)
    if chosen:
        path = Path(chosen)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        found = shutil.which(str(chosen))
        if found:
            return Path(found)
        raise TerraformNotInstalled(f"terraform binary {str(chosen)!r} not found; {INSTALL_HINT}")
    found = shutil.which("terraform")
    if found is None:
        raise TerraformNotInstalled(f"terraform is not installed or not on PATH; {INSTALL_HINT}")
    return Path(found)
