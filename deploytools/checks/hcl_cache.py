"""python-hcl2's output for unchanged Terraform files, kept between runs.

python-hcl2 (lark, in pure Python) takes about 2 ms a file, most of `check`'s time on a
repository with many .tf files; plain files are read without it (checks.hcl_subset), and its
output is kept per repository, keyed by the file's
content and the python-hcl2 version. A file that holds a secret (what DT005's scanner finds
on it) is never cached: its values must not be copied out of the repository. Each
run rewrites the cache with the entries it used, so it holds one repository's files, once;
the caches of the MAX_REPOSITORIES repositories checked last are kept.

The same file keeps DT009's `jsonencode(...)` policies (python-hcl2 again) and DT005's clean
files: a digest saying the scanner found nothing there, never the text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from deploytools.checks.hcl_subset import parse_subset
from deploytools.checks.secret_scan import candidate_lines, secrets_in_line
from deploytools.lib.hcl import HclSyntaxError, parse_expression, parse_text
from deploytools.lib.user_cache import cache_root, prune, write_atomically

FORMAT = 1
MAX_REPOSITORIES = 32


def cache_dir() -> Path:
    return cache_root() / "hcl"


class HclCache:
    """Parsed Terraform text (files, and expressions in them) by content; `save` writes what
    this run used, if it parsed anew."""

    def __init__(self, root: Path) -> None:
        version = metadata.version("python-hcl2")
        key = hashlib.sha256(f"{root}\0{version}\0{FORMAT}".encode()).hexdigest()[:24]
        self.path = cache_dir() / f"{key}.json"
        self._old = self._load()
        self._used: dict[str, Any] = {}
        self._new = False

    def _load(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def parse(self, text: str) -> dict[str, Any]:
        """python-hcl2's output for the text; HclSyntaxError (also when cached) where it stops."""
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return self._result(self._entry(digest, text, lambda: self._parse(text)))

    def expression(self, text: str) -> Any:
        """parse_expression's value for an expression's text (a `jsonencode` policy's object,
        for DT009): python-hcl2 again, so it is kept like a file's output."""
        digest = self._digest("expression", text)
        return self._entry(digest, text, lambda: {"value": parse_expression(text)})["value"]

    def is_clean(self, kind: str, text: str) -> bool:
        """Whether a scan of `kind` found nothing in `text` on an earlier run (mark_clean)."""
        digest = self._digest(kind, text)
        entry = self._known(digest)
        if entry is not None:
            self._used[digest] = entry
        return entry is not None

    def mark_clean(self, kind: str, text: str) -> None:
        """A scan of `kind` found nothing in `text`: only that is kept, never the text."""
        self._used[self._digest(kind, text)] = {"clean": True}
        self._new = True

    def _entry(
        self, digest: str, text: str, compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """The entry kept for `digest`, else compute()'s, kept unless `text` holds a secret."""
        entry = self._known(digest)
        if entry is None:
            entry = compute()
            if holds_secret(text):
                return entry  # its values must not be copied out: not cached
            self._new = True
        self._used[digest] = entry
        return entry

    def _known(self, digest: str) -> dict[str, Any] | None:
        entry = self._used.get(digest) or self._old.get(digest)
        return entry if isinstance(entry, dict) else None

    @staticmethod
    def _digest(kind: str, text: str) -> str:
        return f"{kind}:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    @staticmethod
    def _parse(text: str) -> dict[str, Any]:
        plain = parse_subset(text)
        if plain is not None:
            return {"parsed": plain}
        try:
            return {"parsed": parse_text(text)}
        except HclSyntaxError as exc:
            return {"error": [exc.line, exc.column]}

    @staticmethod
    def _result(entry: dict[str, Any]) -> dict[str, Any]:
        if "error" in entry:
            line, column = entry["error"]
            raise HclSyntaxError(int(line), int(column))
        parsed: dict[str, Any] = entry["parsed"]
        return parsed

    def save(self) -> None:
        """Written only when this run parsed something new or left entries unused."""
        if not self._new and set(self._used) == set(self._old):
            return
        try:
            # json.dumps: json.dump encodes in Python, dumps in C
            write_atomically(self.path, json.dumps(self._used))
            prune(self.path, "*.json", MAX_REPOSITORIES)  # the most recently used stay
        except (OSError, TypeError, ValueError):
            pass  # a read-only home or a value JSON cannot hold: parsed again next time


def holds_secret(text: str) -> bool:
    """Whether detect-secrets (DT005's scanner) finds a secret on a line of `text`. Only the
    lines its prefilter flags are scanned; in Terraform those are mostly the word `secrets`."""
    numbers = candidate_lines(text)
    if not numbers:
        return False
    lines = text.splitlines()
    return any(
        next(iter(secrets_in_line("main.tf", lines[number - 1], number)), None) is not None
        for number in numbers
        if number <= len(lines)
    )
