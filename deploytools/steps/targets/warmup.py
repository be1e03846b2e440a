"""Retry with exponential backoff and jitter, within a time budget; the Lambda warm-up probes.

A cold model load can outlast API Gateway's 29 s integration limit: the first requests time out
(504) while the container loads, later ones succeed. So a warm-up is a series of short attempts,
each capped at 29 s, spaced by growing, jittered delays until one succeeds or the budget ends.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

API_GATEWAY_LIMIT = 29.0  # seconds: API Gateway's maximum integration timeout
SNIPPET = 200


@dataclass(frozen=True)
class Timing:
    """Clock, sleep and randomness in one place, so tests run the real loops in milliseconds."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    random: Callable[[], float] = field(default=random.random)
    base: float = 1.0  # first backoff delay, seconds
    cap: float = 20.0  # longest backoff delay
    poll: float = 2.0  # interval when polling a status

    def backoff(self, attempt: int) -> float:
        """Delay before retry `attempt` (1-based): exponential, capped, with jitter in [½, 1]."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + self.random() / 2))


@dataclass(frozen=True)
class Probe:
    """One attempt's outcome, described for the failure message."""

    healthy: bool
    description: str


@dataclass(frozen=True)
class WarmupResult:
    healthy: bool
    attempts: int
    seconds: float
    last: str  # the last attempt's status and body snippet


def until_healthy(
    probe: Callable[[float], Probe],
    *,
    budget: float,
    timing: Timing,
    on_attempt: Callable[[int, Probe], None] | None = None,
) -> WarmupResult:
    """Call `probe(timeout)` with backoff until healthy or `budget` seconds have passed."""
    start = timing.monotonic()
    attempt = 0
    last = Probe(False, "no attempt was made")
    while True:
        attempt += 1
        remaining = budget - (timing.monotonic() - start)
        last = probe(max(1.0, min(API_GATEWAY_LIMIT, remaining)))
        if on_attempt:
            on_attempt(attempt, last)
        if last.healthy:
            return WarmupResult(True, attempt, timing.monotonic() - start, last.description)
        delay = timing.backoff(attempt)
        if timing.monotonic() - start + delay >= budget:
            return WarmupResult(False, attempt, timing.monotonic() - start, last.description)
        timing.sleep(delay)


def http_probe(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    expect_status: int = 200,
    session: requests.Session | None = None,
) -> Callable[[float], Probe]:
    """A probe that sends one request and wants `expect_status`."""
    http = session or requests.Session()
    headers = {"Content-Type": "application/json"} if body and _is_json(body) else {}

    def probe(timeout: float) -> Probe:
        try:
            response = http.request(
                method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.Timeout:
            return Probe(False, f"{method} {url}: no answer within {timeout:.0f} s")
        except requests.RequestException as exc:
            return Probe(False, f"{method} {url}: {type(exc).__name__}: {exc}")
        snippet = snip(response.text)
        description = f"{method} {url} → {response.status_code}" + (
            f": {snippet}" if snippet else ""
        )
        return Probe(response.status_code == expect_status, description)

    return probe


def invoke_probe(
    client: Any, *, function: str, qualifier: str, body: str | None
) -> Callable[[float], Probe]:
    """A probe that invokes the function version synchronously and wants no FunctionError."""
    payload = (body or "{}").encode("utf-8")

    def probe(_timeout: float) -> Probe:
        try:
            response = client.invoke(
                FunctionName=function, Qualifier=qualifier, Payload=payload, LogType="None"
            )
        except (BotoCoreError, ClientError) as exc:
            return Probe(False, f"invoke {function}:{qualifier}: {exc}")
        text = response["Payload"].read().decode("utf-8", errors="replace")
        status = response.get("StatusCode")
        if response.get("FunctionError"):
            return Probe(
                False,
                f"invoke {function}:{qualifier} → {response['FunctionError']} error: {snip(text)}",
            )
        return Probe(status == 200, f"invoke {function}:{qualifier} → {status}: {snip(text)}")

    return probe


def snip(text: str, limit: int = SNIPPET) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
