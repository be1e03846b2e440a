"""DT005 scans a file with detect-secrets once: a later run of `check` on the very same file
trusts the earlier scan's "nothing found", kept as a digest (never the text); a file with a
finding is scanned on every run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploytools.checks import CheckContext, Finding, check_report, dt005_secrets

# The word "token" makes the prefilter flag the line; the scanner then finds no secret on it.
NAMES_ONLY = 'TOKEN_PARAMETER = "/shop/dev/API_TOKEN"\n'
SECRET = "ghp_" + "Zq8vK2mW9xTnB4pLr7Yc1DfH6sJ0aUe3GiOk"  # pragma: allowlist secret
WITH_SECRET = f'GITHUB_TOKEN = "{SECRET}"\n'  # pragma: allowlist secret


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "deploytools" / "hcl"


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files (by path) DT005 hands to detect-secrets."""
    seen: list[str] = []
    scan = dt005_secrets._scan

    def counted(rel: str, text: str, numbers: list[int], ssm_hint: str) -> Iterator[Finding]:
        seen.append(rel)
        return scan(rel, text, numbers, ssm_hint)

    monkeypatch.setattr(dt005_secrets, "_scan", counted)
    return seen


def _dt005(root: Path) -> list[tuple[str, int]]:
    return [(f.file, f.line) for f in check_report(CheckContext(root=root), {"DT005"}).findings]


def test_a_clean_file_is_scanned_once_and_a_file_with_a_secret_every_time(
    tmp_path: Path, cache: Path, scans: list[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.py").write_text(NAMES_ONLY)
    (repo / "ci.py").write_text(WITH_SECRET)

    assert _dt005(repo) == [("ci.py", 1)]
    assert sorted(scans) == ["ci.py", "settings.py"]
    (written,) = cache.iterdir()
    assert SECRET not in written.read_text() and "API_TOKEN" not in written.read_text()

    scans.clear()
    assert _dt005(repo) == [("ci.py", 1)]
    assert scans == ["ci.py"]  # the clean file's earlier scan stands

    (repo / "settings.py").write_text(NAMES_ONLY + f'DEPLOY_TOKEN = "{SECRET}"\n')
    scans.clear()
    assert _dt005(repo) == [("ci.py", 1), ("settings.py", 2)]  # changed: scanned again
    assert sorted(scans) == ["ci.py", "settings.py"]


def test_a_clean_mark_of_another_scanner_revision_does_not_count(
    tmp_path: Path, cache: Path, scans: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.py").write_text(NAMES_ONLY)
    _dt005(repo)
    monkeypatch.setattr(dt005_secrets, "_scanner", lambda: "dt005-another-revision")
    scans.clear()
    _dt005(repo)
    assert scans == ["settings.py"]
