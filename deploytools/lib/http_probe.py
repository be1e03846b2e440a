"""Probing until healthy: short attempts spaced by backoff until one succeeds or a budget ends.

Smoke checks and warm-ups both wait for a service still starting (a cold model load, a load
balancer registering targets) this way rather than with a fixed sleep.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deploytools.lib.retry import Backoff

if TYPE_CHECKING:  # imported where a probe runs: a no-op deploy probes nothing
    import requests

SNIPPET = 200


@dataclass(frozen=True)
class Probe:
    """One attempt's outcome; `description` is the line a user sees about it."""

    healthy: bool
    description: str
    status: int | None = field(default=None, compare=False)  # HTTP status, None: no answer
    detail: str = field(default="", compare=False)  # the body's snippet, or why no answer


@dataclass(frozen=True)
class ProbeRun:
    healthy: bool
    attempts: int
    seconds: float
    last: Probe


@dataclass(frozen=True)
class Budget:
    """Seconds for the whole run, and the bounds of one attempt's timeout within it."""

    seconds: float
    longest: float
    shortest: float


def until_healthy(
    probe: Callable[[float], Probe],
    *,
    budget: Budget,
    backoff: Backoff,
    on_attempt: Callable[[int, Probe], None] | None = None,
) -> ProbeRun:
    """Call `probe(timeout)` with backoff until healthy or the next wait would pass the budget."""
    start = backoff.clock()
    attempt = 0
    while True:
        attempt += 1
        remaining = budget.seconds - (backoff.clock() - start)
        last = probe(max(budget.shortest, min(budget.longest, remaining)))
        if on_attempt:
            on_attempt(attempt, last)
        if last.healthy:
            return ProbeRun(True, attempt, backoff.clock() - start, last)
        delay = backoff.delay(attempt)
        if backoff.clock() - start + delay >= budget.seconds:
            return ProbeRun(False, attempt, backoff.clock() - start, last)
        backoff.sleep(delay)


def http_probe(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    expect_status: int = 200,
    session: requests.Session | None = None,
) -> Callable[[float], Probe]:
    """A probe that sends one request (redirects not followed) and wants `expect_status`."""
    import requests

    http = session or requests.Session()
    headers = {"Content-Type": "application/json"} if body and _is_json(body) else {}

    def probe(timeout: float) -> Probe:
        try:
            response = http.request(
                method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.Timeout:
            why = f"no answer within {timeout:.0f} s"
            return Probe(False, f"{method} {url}: {why}", detail=why)
        except requests.RequestException as exc:
            why = snip(f"{type(exc).__name__}: {_first_line(exc)}")
            return Probe(False, f"{method} {url}: {why}", detail=why)
        snippet = snip(response.text)
        status = response.status_code
        description = f"{method} {url} → {status}" + (f": {snippet}" if snippet else "")
        return Probe(status == expect_status, description, status=status, detail=snippet)

    return probe


def snip(text: str, limit: int = SNIPPET) -> str:
    """The text on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
