"""Backoff for retries and polls: one set of fields, an injectable clock, sleep and randomness.

Every wait in the steps (a registry push, an SSM read while throttled, a Lambda update while
another is in progress, a smoke check, a warm-up, a rollout poll) grows its delay the same way;
they differ only in their numbers, their jitter and what bounds them (tries or a deadline).
"""

from __future__ import annotations

import enum
import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from deploytools import interrupts

T = TypeVar("T")


class Jitter(enum.Enum):
    """How much of each delay is randomised, so callers failing together do not retry together."""

    NONE = "none"
    EQUAL = "equal"  # between half the delay and all of it
    FULL = "full"  # between nothing and the delay


@dataclass(frozen=True)
class Backoff:
    """Delays of `first`, `first*factor`, … never above `cap`; `attempts` tries in all (None: a
    deadline bounds them instead)."""

    first: float = 1.0
    factor: float = 2.0
    cap: float = 20.0
    attempts: int | None = 5
    jitter: Jitter = Jitter.NONE
    # Cut short by a signal in worker threads too (a rollout poll, a push's retry).
    sleep: Callable[[float], None] = field(default=interrupts.sleep, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        """The wait after failed try `attempt` (1-based)."""
        ceiling = min(self.cap, self.first * self.factor ** (attempt - 1))
        if self.jitter is Jitter.EQUAL:
            return float(ceiling * (0.5 + self.random() / 2))
        if self.jitter is Jitter.FULL:
            return float(ceiling * self.random())
        return float(ceiling)

    def delays(self) -> Iterator[float]:
        """The waits between the tries: `attempts - 1` of them, or endless when unbounded."""
        tries = itertools.count(1) if self.attempts is None else range(1, self.attempts)
        for attempt in tries:
            yield self.delay(attempt)

    def ticks(self, timeout: float) -> Iterator[float]:
        """Sleep, then yield the seconds elapsed, until `timeout`.

        The caller has just looked (the mutating call answered), so the first poll waits
        `first` seconds; the last one happens at the deadline, so a wait never gives up
        without one final look.
        """
        start = self.clock()
        deadline = start + timeout
        for attempt in itertools.count(1):
            now = self.clock()
            if now >= deadline:
                return
            self.sleep(min(self.delay(attempt), deadline - now))
            yield self.clock() - start


def retry(
    action: Callable[[], T],
    *,
    backoff: Backoff,
    transient: Callable[[Exception], bool],
    on_retry: Callable[[int, float, Exception], None] = lambda attempt, delay, exc: None,
    within: float | None = None,
) -> T:
    """Run `action`; on a transient exception wait and try again, up to `backoff.attempts`
    tries and, with `within`, only while the next try would start inside that many seconds."""
    delays = backoff.delays()
    start = backoff.clock()
    attempt = 1
    while True:
        try:
            return action()
        except Exception as exc:
            delay = next(delays, None)
            if delay is None or not transient(exc):
                raise
            if within is not None and backoff.clock() - start + delay > within:
                raise
            on_retry(attempt, delay, exc)
            backoff.sleep(delay)
            attempt += 1
