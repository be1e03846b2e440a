"""Polling with backoff for the target waits; the clock and the sleep are injectable for tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Polling:
    """How often a wait asks: `first` seconds, then times `factor`, never more than `cap`."""

    first: float = 2.0
    factor: float = 1.5
    cap: float = 15.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def intervals(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(self.cap, delay * self.factor)

    def ticks(self, timeout: float) -> Iterator[float]:
        """Sleep, then yield the seconds elapsed, until `timeout`.

        The caller has just looked (the mutating call answered), so the first poll waits
        `first` seconds; the last one happens at the deadline, so a wait never gives up
        without one final look.
        """
        start = self.clock()
        deadline = start + timeout
        for delay in self.intervals():
            now = self.clock()
            if now >= deadline:
                return
            self.sleep(min(delay, deadline - now))
            yield self.clock() - start


DEFAULT_POLLING = Polling()
