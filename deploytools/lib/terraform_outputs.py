"""The outputs a Terraform root declares, read from its .tf files without running Terraform.

`terraform output -json` leaves out outputs whose value is null (an ALB switched off in the
sandbox), so "missing from the outputs" and "not declared" must be told apart from source.
"""

from __future__ import annotations

import re
from pathlib import Path

# An `output "name" {` block header; output blocks are top-level, so they start a line.
OUTPUT_BLOCK = re.compile(r'^\s*output\s+"([A-Za-z_][A-Za-z0-9_-]*)"\s*\{', re.M)


def declared_outputs(directory: Path) -> set[str] | None:
    """Names of the root's outputs; None when the folder has no .tf file to read."""
    files = sorted(directory.glob("*.tf"))
    if not files:
        return None
    names: set[str] = set()
    for path in files:
        try:
            names.update(OUTPUT_BLOCK.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            return None
    return names
