"""Smoke checks after a deploy: each URL answers with the expected status within its timeout.

Retries use exponential backoff with full jitter, bounded by the check's own `timeout`, so a
service still warming up (a cold model load, a load balancer registering targets) gets time
without a fixed sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from deploytools.errors import DeployError

FIRST_DELAY = 0.5
MAX_DELAY = 8.0
REQUEST_TIMEOUT = 10.0
SNIPPET = 200


class SmokeCheck(Protocol):
    """The config's smoke entry (config.model.Smoke) with placeholders resolved."""

    @property
    def url(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def expect_status(self) -> int: ...
    @property
    def timeout(self) -> int: ...


@dataclass(frozen=True)
class SmokeResult:
    url: str
    method: str
    expect_status: int
    status: int | None  # the last HTTP status, None if no response at all
    attempts: int
    seconds: float
    ok: bool
    reason: str = ""  # why the last attempt failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "expect_status": self.expect_status,
            "status": self.status,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "reason": self.reason,
        }

    def line(self) -> str:
        outcome = "ok" if self.ok else f"FAILED: {self.reason}"
        return (
            f"{self.method} {self.url} → {self.status if self.status is not None else '-'} "
            f"({self.attempts} attempt(s), {self.seconds:.1f}s) {outcome}"
        )


class SmokeFailed(DeployError):
    """A smoke check never answered as expected within its timeout."""

    def __init__(self, results: list[SmokeResult]) -> None:
        self.results = results
        failed = [r for r in results if not r.ok]
        lines = [
            f"smoke {r.method} {r.url}: expected {r.expect_status}, {r.reason} "
            f"(after {r.attempts} attempt(s) in {r.seconds:.1f}s)"
            for r in failed
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter; injectable clock and sleep for tests."""

    first: float = FIRST_DELAY
    cap: float = MAX_DELAY
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.first * 2**attempt) * (0.5 + self.jitter() / 2))


def check_one(
    check: SmokeCheck,
    *,
    session: requests.Session | None = None,
    backoff: Backoff | None = None,
) -> SmokeResult:
    """Call the URL until it answers `expect_status` or the check's timeout runs out."""
    backoff = backoff or Backoff()
    http = session or requests.Session()
    start = backoff.clock()
    deadline = start + check.timeout
    attempts, status, reason = 0, None, "no attempt made"
    while True:
        attempts += 1
        remaining = max(deadline - backoff.clock(), 0.1)
        try:
            response = http.request(
                check.method,
                check.url,
                timeout=min(REQUEST_TIMEOUT, remaining),
                allow_redirects=False,
            )
            status = response.status_code
            if status == check.expect_status:
                return SmokeResult(
                    check.url,
                    check.method,
                    check.expect_status,
                    status,
                    attempts,
                    backoff.clock() - start,
                    ok=True,
                )
            reason = f"got {status}: {_snippet(response.text)}"
        except requests.RequestException as exc:
            status, reason = None, f"no response: {_first_line(exc)}"
        pause = backoff.delay(attempts - 1)
        if backoff.clock() + pause >= deadline:
            return SmokeResult(
                check.url,
                check.method,
                check.expect_status,
                status,
                attempts,
                backoff.clock() - start,
                ok=False,
                reason=reason,
            )
        backoff.sleep(pause)


def run_smoke(
    checks: Sequence[SmokeCheck],
    *,
    session: requests.Session | None = None,
    backoff: Backoff | None = None,
) -> list[SmokeResult]:
    """Run every check (all of them, so the user sees every failure); raise if any failed."""
    results = [check_one(c, session=session, backoff=backoff) for c in checks]
    if any(not r.ok for r in results):
        raise SmokeFailed(results)
    return results


def _snippet(body: str) -> str:
    text = " ".join(body.split())
    return (text[:SNIPPET] + "…") if len(text) > SNIPPET else (text or "(empty body)")


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:SNIPPET]
