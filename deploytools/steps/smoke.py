"""Smoke checks after a deploy: each URL answers with the expected status within its timeout.

Retries use exponential backoff with jitter, bounded by the check's own `timeout`, so a
service still warming up (a cold model load, a load balancer registering targets) gets time
without a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from deploytools.errors import DeployError
from deploytools.lib.http_probe import Budget, Probe, http_probe, until_healthy
from deploytools.lib.retry import Backoff, Jitter

if TYPE_CHECKING:
    import requests

REQUEST_TIMEOUT = 10.0


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


def smoke_key(check: SmokeCheck) -> str:
    """What a release records of a check it passed: a later run compares these."""
    return f"{check.method} {check.url} -> {check.expect_status}"


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


# Bounded by the check's own timeout; each wait between half its delay and all of it.
BACKOFF = Backoff(first=0.5, cap=8.0, attempts=None, jitter=Jitter.EQUAL)


def check_one(
    check: SmokeCheck,
    *,
    session: requests.Session | None = None,
    backoff: Backoff = BACKOFF,
) -> SmokeResult:
    """Call the URL until it answers `expect_status` or the check's timeout runs out."""
    probe = http_probe(
        check.url, method=check.method, expect_status=check.expect_status, session=session
    )
    budget = Budget(seconds=check.timeout, longest=REQUEST_TIMEOUT, shortest=0.1)
    run = until_healthy(probe, budget=budget, backoff=backoff)
    return SmokeResult(
        check.url,
        check.method,
        check.expect_status,
        run.last.status,
        run.attempts,
        run.seconds,
        ok=run.healthy,
        reason="" if run.healthy else _reason(run.last),
    )


def run_smoke(
    checks: Sequence[SmokeCheck],
    *,
    session: requests.Session | None = None,
    backoff: Backoff = BACKOFF,
) -> list[SmokeResult]:
    """Run every check (all of them, so the user sees every failure); raise if any failed."""
    results = [check_one(c, session=session, backoff=backoff) for c in checks]
    if any(not r.ok for r in results):
        raise SmokeFailed(results)
    return results


def _reason(last: Probe) -> str:
    if last.status is None:
        return f"no response: {last.detail}"
    return f"got {last.status}: {last.detail or '(empty body)'}"
