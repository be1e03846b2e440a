"""deploy refuses a commit older than the live release's (a real git repository)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploytools.github.ancestry import OlderCommit, check_not_older


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=d@example.com", "-c", "user.name=d", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, str, str]:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "old")
    old = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "new")
    return tmp_path, old, _git(tmp_path, "rev-parse", "HEAD")


def test_an_older_commit_is_refused_naming_both(history: tuple[Path, str, str]) -> None:
    repo, old, new = history
    with pytest.raises(OlderCommit) as raised:
        check_not_older(repo, deploying=old, live=new, release="r-1")
    assert str(raised.value) == (
        f"refusing to deploy {old[:12]}: it is older than {new[:12]}, the commit of the live "
        "release r-1; deploy a newer commit, or pass --allow-older"
    )
    assert raised.value.exit_code == 1


def test_a_newer_or_the_same_commit_goes_ahead(history: tuple[Path, str, str]) -> None:
    repo, old, new = history
    assert check_not_older(repo, deploying=new, live=old, release="r-1") == ""
    assert check_not_older(repo, deploying=new, live=new, release="r-1") == ""
    assert check_not_older(repo, deploying=new, live=None, release="r-1") == ""


def test_an_unknown_live_commit_is_a_warning(history: tuple[Path, str, str]) -> None:
    repo, _, new = history
    missing = "f" * 40
    assert check_not_older(repo, deploying=new, live=missing, release="r-9") == (
        f"cannot tell whether {new[:12]} is older than the live release r-9 (ffffffffffff): "
        "that commit is not in this clone (check out with fetch-depth: 0)"
    )
