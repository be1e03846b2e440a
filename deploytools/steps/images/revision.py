"""The git commit an image can also be tagged with."""

from __future__ import annotations

import os
import re
from pathlib import Path

from deploytools import proc
from deploytools.errors import BadInput

_SHA = re.compile(r"^[0-9a-f]{40}$")


def git_revision(root: Path) -> str | None:
    """HEAD's SHA when tracked files are unchanged (else the tag would name the wrong code).

    Untracked files are not considered: CI workspaces often hold generated files.
    """
    try:
        head = proc.run(["git", "rev-parse", "HEAD"], cwd=root, check=False, timeout=30)
    except BadInput:  # git is not installed
        head = None
    sha = head.stdout.strip() if head is not None and head.returncode == 0 else ""
    if not _SHA.match(sha):
        sha = os.environ.get("GITHUB_SHA", "")
        return sha if _SHA.match(sha) else None
    status = proc.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, check=False, timeout=60
    )
    if status.returncode != 0 or status.stdout.strip():
        return None
    return sha
