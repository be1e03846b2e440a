"""The zips deploytools gave each function, kept by CodeSha256 so a rollback can put an older
one back on `$LATEST` (Lambda's own download URL exists on AWS only).

Under `$XDG_CACHE_HOME/deploytools/lambda/<function>/` (default `~/.cache`), outside every
repository; the newest `KEEP` per function stay. Zips hold code, never secret values.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from deploytools.lib.user_cache import cache_root, prune

KEEP = 10


def folder(function: str) -> Path:
    return cache_root() / "lambda" / function


def _name(code_sha256: str) -> str:
    return base64.b64decode(code_sha256).hex() + ".zip"


def keep(function: str, code_sha256: str, zip_path: Path) -> None:
    """Copy the zip in; a cache that cannot be written is no reason to fail a deploy."""
    try:
        where = folder(function)
        where.mkdir(parents=True, exist_ok=True)
        target = where / _name(code_sha256)
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(zip_path, partial)
            partial.replace(target)
        target.touch()
        prune(target, "*.zip", KEEP)
    except (OSError, ValueError):
        return


def load(function: str, code_sha256: str) -> bytes | None:
    try:
        return (folder(function) / _name(code_sha256)).read_bytes()
    except (OSError, ValueError):
        return None
