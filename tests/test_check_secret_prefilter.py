"""DT005's prefilter: its literal guards only skip texts its patterns cannot match."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploytools.checks.secret_scan import ANCHORS, LOWER_ANCHORS, TELEGRAM, candidate_lines

REPO = Path(__file__).resolve().parents[1]
# One text per guarded pattern (and Telegram's), each on the second line of its file.
FLAGGED = [
    "glpat-abc", "GR1348941abc", "sk_live_abc", "rk_live_abc", "AC" + "a1" * 16, "SK" + "0f" * 16,
    "password", "db-pass", "contraseña", "a pwd", "secret", "token", "client_key", "xoxb-1",
    "cloudant", "softlayer", 'pw = "' + "x" * 24 + '"', "123456789:" + "A" * 35,
]  # fmt: skip


@pytest.mark.parametrize("text", FLAGGED)
def test_what_a_guarded_pattern_matches_is_flagged(text: str) -> None:
    assert candidate_lines(f"first line\n{text}\n") == [2]


def test_the_guards_skip_nothing_the_patterns_find_in_this_repository() -> None:
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    for rel in listed:
        try:
            text = (REPO / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lower = text.lower()
        for anchors, searched in ((ANCHORS, text), (LOWER_ANCHORS, lower)):
            for pattern, guards in anchors:
                if guards and pattern.search(searched):
                    assert any(guard in searched for guard in guards), (rel, pattern.pattern)
        if TELEGRAM.search(text):
            assert candidate_lines(text), rel
