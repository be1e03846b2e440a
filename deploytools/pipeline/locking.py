"""One deploy or rollback per environment: the lock is held from before the first change
until the run ends, however it ends (an interrupt included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from deploytools.config import EnvConfig
from deploytools.errors import DeployError
from deploytools.output import Status
from deploytools.pipeline.context import Run


@contextmanager
def environment_locked(run: Run, env: EnvConfig, *, command: str) -> Iterator[None]:
    lock = run.ports.locks.lock(run.aws, project=env.model.project, env=env.env)
    with run.reporter.step("lock") as record:
        if run.options.force_unlock:
            removed = lock.force_unlock(run.options.force_unlock)
            if removed is None:
                run.reporter.line(f"  --force-unlock {run.options.force_unlock}: no lock held")
            else:
                run.reporter.line(f"  removed the lock of {removed.describe()}")
        held = lock.acquire(command=command)
        record.status = Status.UNCHANGED
        record.summary = f"{lock.name} held by this run (lock id {held.id})"
    try:
        yield
    finally:
        try:
            lock.release(held)
        except DeployError as exc:  # the run's own outcome matters more; say what is left
            run.reporter.warn(f"{exc}; remove it with --force-unlock {held.id}")
