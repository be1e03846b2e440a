"""The os/architecture of image configs read before, by digest, kept between runs.

A config blob is content-addressed: its digest names its bytes for good, so what
verify_manifest learns from it (os and architecture) never changes. An image ECR already has
is then verified without reading the blob again: a no-op deploy logs in to no registry and
loads no HTTP client. Only those two fields are kept, never the config itself (its ENV lines
are the image's business), and only for a blob whose bytes match its digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path

from deploytools.lib.user_cache import cache_root, write_atomically

ConfigReader = Callable[[str], bytes]  # config blob digest -> its bytes

MAX_ENTRIES = 1024
_write_lock = threading.Lock()  # images publish at once, in threads


def cache_file() -> Path:
    return cache_root() / "image-platforms.json"


def remembering(read: ConfigReader) -> ConfigReader:
    """`read`, answered from the cache for a config digest seen before (os and architecture
    only, which is all verify_manifest reads), and adding what it reads to it."""

    def reader(digest: str) -> bytes:
        known = _load().get(digest)
        if isinstance(known, list) and len(known) == 2:
            return json.dumps({"os": known[0], "architecture": known[1]}).encode()
        blob = read(digest)
        platform = _platform(blob)
        if platform is not None and digest == "sha256:" + hashlib.sha256(blob).hexdigest():
            _remember(digest, platform)
        return blob

    return reader


def _platform(blob: bytes) -> list[str] | None:
    try:
        config = json.loads(blob)
    except ValueError:
        return None
    if not isinstance(config, dict):
        return None
    found = [config.get("os"), config.get("architecture")]
    return [str(v) for v in found] if all(isinstance(v, str) for v in found) else None


def _load() -> dict[str, object]:
    try:
        loaded = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _remember(digest: str, platform: list[str]) -> None:
    path = cache_file()
    with _write_lock:
        entries = _load()
        entries.pop(digest, None)
        entries[digest] = platform  # the newest last: the oldest go first
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        with contextlib.suppress(OSError):  # a read-only home: the blob is read again
            write_atomically(path, json.dumps(kept))
