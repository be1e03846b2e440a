""".dockerignore with Docker's own semantics, so that the files we hash are the files sent.

Ported from moby/patternmatcher (`ignorefile.ReadAll`, `Pattern.compile`/`match` and
`MatchesUsingParentResults`, which the docker CLI archiver and BuildKit's fsutil both use):

- a line starting with `#` is a comment; whitespace is trimmed; paths are cleaned like Go's
  `filepath.Clean` and a leading `/` is dropped (patterns are relative to the context root);
- `*` and `?` never match `/`; `**` matches any number of directories (also none);
- `!pattern` re-includes what earlier lines excluded: the last matching line wins;
- a pattern that matches a directory matches everything below it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from deploytools.errors import BadInput

WILDCARDS = frozenset("*?[\\")
_REGEX_ESCAPE = frozenset(".+()|{}$")
_BOM = "\ufeff"

MatchInfo = tuple[bool, ...]  # per rule: did it match this path or one of its parents


class BadIgnorePattern(BadInput):
    """A .dockerignore line Docker itself would refuse."""

    def __init__(self, reason: str, *, source: str = "", line: int = 0) -> None:
        self.reason, self.source, self.line = reason, source, line
        super().__init__(f"{source}:{line}: {reason}" if source else reason)


class _Kind(Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    REGEXP = "regexp"


@dataclass(frozen=True)
class IgnoreRule:
    """One effective line of the ignore file."""

    pattern: str  # cleaned, without the leading "!"
    negated: bool
    line: int  # 1-based line in the ignore file (0 for rules deploytools adds)
    text: str  # the line as written, for messages
    _match: Callable[[str], bool] = field(compare=False, repr=False)

    def match(self, path: str) -> bool:
        return self._match(path)

    @property
    def literal_prefix(self) -> str:
        """The pattern up to its first wildcard: every path it can match starts with this."""
        for index, char in enumerate(self.pattern):
            if char in WILDCARDS:
                return self.pattern[:index]
        return self.pattern

    @property
    def has_wildcard(self) -> bool:
        return any(char in WILDCARDS for char in self.pattern)


def go_clean(path: str) -> str:
    """Go's filepath.Clean for slash-separated paths (posixpath.normpath keeps '//a')."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def read_patterns(text: str) -> list[tuple[int, str, str]]:
    """ignorefile.ReadAll: (line number, pattern with '!' kept, the raw line)."""
    result: list[tuple[int, str, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if number == 1:
            line = line.removeprefix(_BOM)
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        result.append((number, "!" + pattern if invert else pattern, line))
    return result


def compile_rule(pattern: str, *, line: int = 0, text: str | None = None) -> IgnoreRule:
    """patternmatcher.New for one pattern (with '!' for a re-include)."""
    cleaned = go_clean(pattern.strip())
    negated = cleaned.startswith("!")
    if negated:
        if len(cleaned) == 1:
            raise BadIgnorePattern('illegal exclusion pattern: "!"')
        cleaned = cleaned[1:]
    return IgnoreRule(cleaned, negated, line, text or pattern, _matcher(cleaned))


def _matcher(pattern: str) -> Callable[[str], bool]:
    kind, regex = _compile(pattern)
    if kind is _Kind.EXACT:
        return lambda path: path == pattern
    if kind is _Kind.PREFIX:
        prefix = pattern[:-2]
        return lambda path: path.startswith(prefix)
    if kind is _Kind.SUFFIX:
        suffix = pattern[2:]
        bare = suffix[1:] if suffix.startswith("/") else None
        return lambda path: path.endswith(suffix) or path == bare
    try:
        re.compile(regex.removesuffix(r"\Z"))  # validate without our anchor: clearer errors
        compiled = re.compile(regex)
    except re.error as exc:
        raise BadIgnorePattern(f"invalid pattern {pattern!r}: {exc.msg}") from exc
    return lambda path: compiled.match(path) is not None


def _compile(pattern: str) -> tuple[_Kind, str]:
    """Pattern.compile: the match kind and, for REGEXP, the regular expression."""
    regex, kind = "^", _Kind.EXACT
    position, end, iteration = 0, len(pattern), 0
    while position < end:
        char = pattern[position]
        position += 1
        if char == "*":
            if position < end and pattern[position] == "*":
                position += 1
                if position < end and pattern[position] == "/":
                    position += 1  # treat "**/" as "**"
                if position >= end:
                    if kind is _Kind.EXACT:
                        kind = _Kind.PREFIX
                    else:
                        regex += ".*"
                        kind = _Kind.REGEXP
                else:
                    regex += "(.*/)?"
                    kind = _Kind.REGEXP
                if iteration == 0:
                    kind = _Kind.SUFFIX
            else:
                regex += "[^/]*"
                kind = _Kind.REGEXP
        elif char == "?":
            regex += "[^/]"
            kind = _Kind.REGEXP
        elif char in _REGEX_ESCAPE:
            regex += "\\" + char
        elif char == "\\":
            if position >= end:  # Go's filepath.Match refuses a trailing backslash
                raise BadIgnorePattern(f"invalid pattern {pattern!r}: trailing backslash")
            regex += "\\" + pattern[position]
            position += 1
            kind = _Kind.REGEXP
        elif char in "[]":
            regex += char
            kind = _Kind.REGEXP
        else:
            regex += char
        iteration += 1
    return kind, regex + r"\Z"


@dataclass(frozen=True)
class DockerIgnore:
    """The rules of one ignore file; `source` names it in messages."""

    rules: tuple[IgnoreRule, ...] = ()
    source: str = ".dockerignore"

    @classmethod
    def parse(cls, text: str, *, source: str = ".dockerignore") -> DockerIgnore:
        rules = []
        for number, pattern, raw in read_patterns(text):
            try:
                rules.append(compile_rule(pattern, line=number, text=raw))
            except BadIgnorePattern as exc:
                raise BadIgnorePattern(exc.reason, source=source, line=number) from exc
        return cls(tuple(rules), source)

    @classmethod
    def load(cls, path: Path | None, *, source: str | None = None) -> DockerIgnore:
        """The file's rules; no rules when there is no file."""
        if path is None or not path.is_file():
            return cls(source=source or ".dockerignore")
        text = path.read_text(encoding="utf-8", errors="replace")
        return cls.parse(text, source=source or path.name)

    @property
    def has_exceptions(self) -> bool:
        return any(rule.negated for rule in self.rules)

    def evaluate(
        self, path: str, parent: MatchInfo | None = None
    ) -> tuple[IgnoreRule | None, MatchInfo]:
        """MatchesUsingParentResults: the rule that decided (None: included) and the match info.

        `path` is relative to the context, slash-separated; `parent` is the info returned for
        its directory (None at the top level, or to evaluate a path on its own).
        """
        matched: IgnoreRule | None = None
        info: list[bool] = []
        append = info.append  # the walk calls this once per entry: keep the loop lean
        parents = _parents(path) if parent is None else ()
        for index, rule in enumerate(self.rules):
            hit = parent is not None and parent[index]
            if not hit:
                # Skip a line that cannot change the outcome, as Docker does.
                if rule.negated != (matched is not None):
                    append(False)
                    continue
                hit = rule._match(path)
                if not hit and parents:
                    hit = any(rule._match(p) for p in parents)
            append(hit)
            if hit:
                matched = None if rule.negated else rule
        return matched, tuple(info)

    def excluded_by(self, path: str) -> IgnoreRule | None:
        """The rule that excludes `path` (reached through its parents, as a walk would)."""
        parts = go_clean(path.lstrip("/")).split("/")
        info: MatchInfo | None = None
        decided: IgnoreRule | None = None
        for depth in range(1, len(parts) + 1):
            decided, info = self.evaluate("/".join(parts[:depth]), info)
        return decided

    def excluded(self, path: str) -> bool:
        return self.excluded_by(path) is not None

    def may_include_below(self, directory: str) -> bool:
        """Could a `!` line re-include something inside this excluded directory?"""
        below = directory + "/"
        for rule in self.rules:
            if not rule.negated:
                continue
            if rule.has_wildcard:
                prefix = rule.literal_prefix
                if prefix.startswith(below) or below.startswith(prefix):
                    return True
            elif (rule.pattern + "/").startswith(below):
                return True
        return False

    def with_rules(self, patterns: Sequence[str]) -> DockerIgnore:
        """A copy with extra rules at the end (e.g. the Dockerfile that is always sent)."""
        extra = tuple(compile_rule(p) for p in patterns)
        return DockerIgnore(self.rules + extra, self.source)


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: depth + 1]) for depth in range(len(parts))]
