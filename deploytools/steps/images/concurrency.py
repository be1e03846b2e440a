"""How many images build at once, and running every image to its end even when one fails.

Builds are bounded by the smallest of: this machine's cores, the engine's CPUs (a remote
engine may have fewer), and DEPLOYTOOLS_MAX_BUILDS (or BuildImages.max_builds). ECR lookups
are not bounded by that: a no-op run never asks the engine anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TypeVar

from deploytools import interrupts
from deploytools.errors import BadInput

T = TypeVar("T")
R = TypeVar("R")
SETTING = "DEPLOYTOOLS_MAX_BUILDS"
MAX_LOOKUPS = 16  # images whose ECR lookups run at once


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def setting(explicit: int | None) -> int | None:
    """The configured cap: the request's, else the environment's; None when unset."""
    if explicit is not None:
        if explicit < 1:
            raise BadInput(f"max_builds must be 1 or more, got {explicit}")
        return explicit
    text = os.environ.get(SETTING, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise BadInput(f"{SETTING} must be a whole number of 1 or more, got {text!r}")
    return int(text)


def build_slots(*, engine: Callable[[], int], explicit: int | None) -> int:
    """min(cores, the engine's CPUs, the setting): how many builds may run at once."""
    limit = min(cores(), engine())
    cap = setting(explicit)
    return max(1, min(limit, cap) if cap is not None else limit)


def run_each(
    items: Sequence[T], work: Callable[[T], R]
) -> list[tuple[T, R | None, BaseException | None]]:
    """`work` on every item, in threads; each item's result or exception, in input order.

    A failure cancels nothing: the other items run to their end (what one pushed stays pushed).
    An interrupt cancels items that have not started; the running ones stop at their next
    wait, command or progress message (deploytools.interrupts), and are waited for.
    """
    if len(items) <= 1:
        return [_one(work, item) for item in items]
    outcomes: dict[int, tuple[T, R | None, BaseException | None]] = {}
    pool = ThreadPoolExecutor(
        max_workers=min(len(items), MAX_LOOKUPS), thread_name_prefix="deploytools-image"
    )
    try:
        futures: dict[Future[tuple[T, R | None, BaseException | None]], int] = {
            pool.submit(_one, work, item): index for index, item in enumerate(items)
        }
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[index] for index in range(len(items))]


def _one(work: Callable[[T], R], item: T) -> tuple[T, R | None, BaseException | None]:
    interrupts.check()  # a worker freed by the signal must not take the next image
    try:
        return item, work(item), None
    except Exception as exc:
        return item, None, exc
