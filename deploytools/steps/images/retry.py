"""Retries with exponential backoff for the network steps, and which errors deserve one.

A registry that answers 5xx, resets the connection or times out may well succeed a moment
later; one that says 401/403/404, `denied` or `name unknown` will say it again, so we stop
at once and show its reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

_PERMANENT = re.compile(
    r"\b(401|403|404)\b|unauthori[sz]ed|denied|forbidden|name unknown|name_unknown|"
    r"authentication required|no basic auth credentials|manifest invalid|tag invalid|"
    r"repository .* not found|requested access to the resource"
)
_TRANSIENT = re.compile(
    r"\b(5\d\d)\b|\b429\b|internal server error|bad gateway|service unavailable|unavailable|"
    r"gateway timeout|too ?many ?requests|connection reset|connection refused|broken pipe|"
    r"connection aborted|time(d)? ?out|deadline exceeded|\beof\b|tls handshake|"
    r"temporary failure|try again"
)


def is_transient(message: str) -> bool:
    """True for errors worth retrying; permanent markers win over transient ones."""
    text = message.lower()
    if _PERMANENT.search(text):
        return False
    return _TRANSIENT.search(text) is not None


@dataclass(frozen=True)
class Backoff:
    """`attempts` tries in all; waits initial, initial*factor, … capped at `maximum` seconds."""

    attempts: int = 5
    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delays(self) -> Iterator[float]:
        delay = self.initial
        for _ in range(self.attempts - 1):
            yield min(delay, self.maximum)
            delay *= self.factor


def retry(
    action: Callable[[], T],
    *,
    backoff: Backoff,
    transient: Callable[[Exception], bool],
    on_retry: Callable[[int, float, Exception], None] = lambda attempt, delay, exc: None,
) -> T:
    """Run `action`; on a transient exception wait and try again, up to backoff.attempts."""
    delays = backoff.delays()
    attempt = 1
    while True:
        try:
            return action()
        except Exception as exc:
            delay = next(delays, None)
            if delay is None or not transient(exc):
                raise
            on_retry(attempt, delay, exc)
            backoff.sleep(delay)
            attempt += 1
