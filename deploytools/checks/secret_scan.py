"""Secret literals, found by detect-secrets' plugins and heuristic filters.

detect-secrets' own scanner (`scan_file`) costs about 90 ms a file here: it injects every
filter's arguments by inspection, per line and plugin. Its plugins and filters called directly
cost microseconds a line, and only the lines `candidate_lines` flags reach them: a superset of
what the plugins look for (each regex plugin's fixed prefix or shape, and the secret-sounding
names the keyword and entropy plugins need beside a value; entropy alone, on a line with no
such name, is not scanned: hashes and ids would drown the secrets). detect-secrets
is imported on the first candidate line (it imports requests), and never verifies a secret
(verification would send it to the network).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

NAME_WORDS = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"auth[_-]?key|service[_-]?key|account[_-]?key|db[_-]?key|database[_-]?key|priv[_-]?key|"
    r"client[_-]?key|db[_-]?pass|database[_-]?pass|key[_-]?pass|contrase[nñ]a)"
)
# Each detect-secrets regex plugin's anchor, searched one by one (an alternation of them all
# defeats the regex engine's literal search): AWS, Artifactory, Azure, basic auth, Discord,
# GitHub, GitLab, JWT, npm, OpenAI, private keys, PyPI, SendGrid, Slack, Square, Stripe, Twilio.
# An anchor that starts with no literal is slow to search; with it, the literals one of which
# any match holds: a substring test (a fast C search) skips the regex in most files.
ANCHORS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), guards)
    for pattern, guards in (
        (r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}", ()), (r"AKC[a-zA-Z0-9]{10}", ()),
        (r"AP[\dA-F][a-zA-Z0-9]{8}", ()), (r"AccountKey=", ()), (r"://[^\s:/@]+:[^\s/@]+@", ()),
        (r"[MNO][\w-]{23,25}\.[\w-]{6}\.", ()), (r"gh[pousr]_", ()),
        (r"GR1348941|gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-", ("GR1348941", "gl")),
        (r"eyJ", ()), (r"_authToken", ()), (r"T3BlbkFJ", ()), (r"PRIVATE KEY|PuTTY-User-Key", ()),
        (r"pypi-Ag", ()), (r"SG\.", ()), (r"hooks\.slack\.com", ()), (r"sq0csp-", ()),
        (r"[rs]k_live_", ("k_live_",)), (r"(?:AC|SK)[a-z0-9]{32}", ("AC", "SK")),
    )
)  # fmt: skip
# The same on the lowercased text: the names the keyword and entropy plugins need beside a
# value, Slack's, Cloudant's and SoftLayer's prefixes, AWS's secret key and the assignment
# plugins (IBM, Cloudant, SoftLayer) by a long value given to a key, password or token.
LOWER_ANCHORS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), guards)
    for pattern, guards in (
        (NAME_WORDS, ("pass", "pwd", "secret", "token", "key", "contrase")),
        (r"xox[abposr]-|cloudant|softlayer", ("xox", "cloudant", "softlayer")),
        (r"aws.{0,20}?(?:key|pw|pass|token)", ()),
        (
            r"(?:key|pw|pass|token)[\"'\]]?\s*(?:=>|::?=?|=|\s)\s*[\"']?[\w-]{24}",
            ("key", "pw", "pass", "token"),
        ),
    )
)  # fmt: skip
MAILCHIMP = re.compile(r"[0-9a-z]{32}-us\d")  # searched where "-us" occurs
TELEGRAM = re.compile(r"[0-9]{8,10}:[\w-]{35}")
TELEGRAM_TAIL = re.compile(r":[\w-]{35}")  # starts with a literal: a fast search first
ASCII_LOWER = str.maketrans(string.ascii_uppercase + "Ñ", string.ascii_lowercase + "ñ")
# Not secrets: an address is DT005's endpoint half's business, not a credential.
LEFT_OUT = {"Public IP (ipv4)"}
# detect-secrets' plugins that name the secret's kind; the keyword and entropy plugins only
# say that something looks secret, so they come last.
GENERAL = ("Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String")
# Shorter keyword or entropy hits are placeholders far more often than secrets.
MIN_GENERAL = 12
ASSIGNED = re.compile(r"([A-Za-z_][\w.-]*)[\"'\]]*\s*(?::\s*[A-Za-z_][\w.\[\]]*\s*)?(?::=|=>|=|:)")


@dataclass(frozen=True)
class Secret:
    kind: str  # detect-secrets' secret type, e.g. "AWS Access Key"
    value: str
    name: str | None  # the name it is assigned to, when the line assigns it
    general: bool  # found by the keyword or entropy plugins: it looks secret, of no known kind


def candidate_lines(text: str) -> list[int]:
    """The numbers (1-based) of the lines any plugin could find a secret on."""
    lower = text.lower()
    if len(lower) != len(text):  # a character whose lower case is longer ("İ"): keep offsets
        lower = text.translate(ASCII_LOWER)
    starts: set[int] = set()
    # One search per pattern; most files match none, so finditer only runs after a hit.
    for anchors, searched in ((ANCHORS, text), (LOWER_ANCHORS, lower)):
        for pattern, guards in anchors:
            if guards and not any(guard in searched for guard in guards):
                continue
            if pattern.search(searched):
                starts.update(m.start() for m in pattern.finditer(searched))
    if "-us" in text:
        starts.update(m.start() for m in MAILCHIMP.finditer(text))
    if TELEGRAM_TAIL.search(text):
        starts.update(m.start() for m in TELEGRAM.finditer(text))
    numbers: list[int] = []
    line, counted = 1, 0
    for start in sorted(starts):
        line += text.count("\n", counted, start)
        counted = start
        if not numbers or numbers[-1] != line:
            numbers.append(line)
    return numbers


def secrets_in_line(filename: str, line: str, line_number: int) -> Iterator[Secret]:
    """What detect-secrets finds on the line, its heuristic filters applied, specific kinds
    first."""
    from detect_secrets.filters import heuristic

    for plugin in _plugins():
        found = plugin.analyze_line(filename=filename, line=line, line_number=line_number)
        for potential in sorted(found, key=lambda p: line.find(p.secret_value or "")):
            value = _whole(plugin, line, potential.secret_value or "")
            if not value or _filtered(heuristic, value, line, plugin):
                continue
            if potential.type in GENERAL and len(value) < MIN_GENERAL:
                continue
            yield Secret(potential.type, value, _name(line, value), potential.type in GENERAL)


def _whole(plugin: Any, line: str, value: str) -> str:
    """The whole token where a plugin's pattern captures only its prefix (GitHub's `ghp`)."""
    if len(value) >= MIN_GENERAL:
        return value
    for pattern in getattr(plugin, "denylist", ()):
        match = pattern.search(line)
        if match and match.group(0).startswith(value):
            return str(match.group(0))
    return value


def filtered_out(value: str, line: str) -> bool:
    """detect-secrets' heuristic filters, for a value found outside its plugins."""
    from detect_secrets.filters import heuristic

    return _filtered(heuristic, value, line, None)


def _filtered(heuristic: Any, value: str, line: str, plugin: Any) -> bool:
    """detect-secrets' default heuristic filters (sequences, UUIDs, ids, templates, `$VAR`,
    indirect references, non-alphanumeric strings)."""
    return bool(
        heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_likely_id_string(value, line, plugin)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_indirect_reference(line)
        or heuristic.is_not_alphanumeric_string(value)
    )


def _name(line: str, value: str) -> str | None:
    before = line[: max(line.find(value), 0)]
    names = ASSIGNED.findall(before)
    return names[-1] if names else None


@lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: dict[str, Any] = get_mapping_from_secret_type_to_class()
    specific = [c for kind, c in sorted(classes.items()) if kind not in (*GENERAL, *LEFT_OUT)]
    general = [classes[kind] for kind in GENERAL if kind in classes]
    return tuple(_instance(c) for c in (*specific, *general))


def _instance(plugin_class: Any) -> Any:
    # detect-secrets' default limits for its entropy plugins (its baseline's defaults).
    limits = {"Base64 High Entropy String": 4.5, "Hex High Entropy String": 3.0}
    if plugin_class.secret_type in limits:
        return plugin_class(limit=limits[plugin_class.secret_type])
    return plugin_class()
