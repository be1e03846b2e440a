"""The caches' shared file handling: a file replaced whole, and only the files used last kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploytools.lib import user_cache


def test_the_cache_root_follows_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache.cache_root() == tmp_path / "deploytools"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache.cache_root() == Path.home() / ".cache" / "deploytools"


def test_only_the_files_used_last_and_the_one_kept_stay(tmp_path: Path) -> None:
    entries = [tmp_path / f"{n}.json" for n in range(4)]
    for n, entry in enumerate(entries):
        entry.write_text("[]")
        os.utime(entry, (1000 + n, 1000 + n))
    (tmp_path / "other.zip").write_text("")  # another pattern: not this cache's
    os.utime(entries[0])  # just used (a cache hit touches it)
    user_cache.prune(entries[0], "*.json", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.json", "3.json", "other.zip"]


def test_a_write_that_fails_leaves_the_old_file_and_no_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cache" / "entry.json"
    user_cache.write_atomically(target, "old")

    def refuse(source: str, destination: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        user_cache.write_atomically(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["entry.json"]
