"""The user's cache folder for deploytools (never a repository), and what every cache in it
does: replace a file whole, and keep only the files used last."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_root() -> Path:
    """$XDG_CACHE_HOME/deploytools, else ~/.cache/deploytools."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "deploytools"


def write_atomically(path: Path, text: str) -> None:
    """`path` holds `text`, or what it held before: never half of it (a concurrent run reads
    one or the other). OSError is the caller's: most caches carry on without the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def prune(kept: Path, pattern: str, keep: int) -> None:
    """Of the files matching `pattern` in `kept`'s folder, the `keep` used last (by mtime)
    stay, and `kept` itself."""
    files = sorted(kept.parent.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in files[keep:]:
        if stale != kept:
            stale.unlink(missing_ok=True)
