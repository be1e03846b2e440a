"""Targets, independent ones at once: one StepRecord per target, old → new, time and result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from deploytools import interrupts
from deploytools.config.model import LambdaTarget, Target
from deploytools.errors import BadInput
from deploytools.output import Status, StepRecord
from deploytools.pipeline.context import Run
from deploytools.pipeline.policy import simulated
from deploytools.steps.targets.base import Refresher, RefreshInputs, RolledBack, TargetState

T = TypeVar("T")
R = TypeVar("R")
FINE = (Status.OK, Status.UNCHANGED, Status.SKIPPED)


def concurrently(items: Sequence[T], work: Callable[[T], R], *, max_workers: int) -> list[R]:
    """`work` over `items` in threads, results in input order; `work` must not raise.

    An interrupt starts no item still queued: nothing more changes once the run is stopped.
    """
    if len(items) <= 1:
        return [work(item) for item in items]

    def unless_interrupted(item: T) -> R:
        interrupts.check()  # a worker freed by the signal must not take the next item
        return work(item)

    workers = max(1, min(max_workers, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deploytools-target") as pool:
        return list(pool.map(unless_interrupted, items))


@dataclass(frozen=True)
class TargetJob:
    """One target to refresh (or restore), or the reason it cannot run here."""

    name: str
    target: Target  # resolved for the environment
    inputs: RefreshInputs = field(default_factory=RefreshInputs)  # image, secrets, package…
    restore: TargetState | None = None  # set for a rollback
    skip: str | None = None  # named, never silent: e.g. "no image: the images step was skipped"
    simulated: bool = False  # skipped because the sandbox cannot run this workload


@dataclass(frozen=True)
class TargetResult:
    name: str
    status: Status
    before: TargetState | None = None
    after: TargetState | None = None  # what runs now (the restored state after a roll back)
    error: str = ""
    simulated: bool = False  # skipped: the sandbox could not run it (`error` says why)
    # What was raised, for --verbose: the thread that raised it is gone by then.
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status in FINE

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
            "error": self.error,
            "simulated": self.simulated,
        }


def label(state: TargetState | None) -> str:
    """A short, readable name for what runs: revision (image digest)."""
    if state is None:
        return "(nothing)"
    revision = state.revision.rsplit("/", 1)[-1] if state.revision else "?"
    if state.image and "@" in state.image:
        return f"{revision} ({state.image.rsplit('@', 1)[-1][:19]})"
    return revision


def same(a: TargetState | None, b: TargetState | None) -> bool:
    return a is not None and b is not None and (a.revision, a.image) == (b.revision, b.image)


def run_targets(run: Run, jobs: Sequence[TargetJob]) -> list[TargetResult]:
    """Refresh (or restore) every job at once; failures are results, not exceptions."""
    return concurrently(jobs, lambda job: _one(run, job), max_workers=run.options.max_parallel)


def _one(run: Run, job: TargetJob) -> TargetResult:
    action = "restore" if job.restore is not None else "target"
    before: TargetState | None = None
    try:
        with run.reporter.step(f"{action} {job.name}") as record:
            if job.skip:
                record.status, record.summary = Status.SKIPPED, job.skip
                if job.simulated:
                    run.reporter.line(simulated(f"target {job.name}", job.skip))
                    record.detail["simulated"] = job.skip
                return TargetResult(
                    job.name, Status.SKIPPED, error=job.skip, simulated=job.simulated
                )
            refresher = _refresher(run, job.name, job.target)
            before = refresher.current()
            try:
                after = _act(refresher, job, record)
            except KeyboardInterrupt:
                record.summary = "interrupted"
                raise
            except RolledBack as exc:
                record.status = Status.ROLLED_BACK
                record.summary = f"rolled back to {label(exc.restored)}: {_first(exc)}"
                record.detail["error"] = str(exc)
                return TargetResult(
                    job.name, Status.ROLLED_BACK, before, exc.restored, str(exc), exception=exc
                )
            record.summary = f"{label(before)} → {label(after)}"
            if same(before, after) and not record.changed:
                record.status = Status.UNCHANGED
                record.summary = f"{label(after)} (already live)"
            elif not record.changed:
                record.change(f"{job.name}: {label(before)} → {label(after)}")
            record.detail.update(before=before.as_dict() if before else None, after=after.as_dict())
            return TargetResult(job.name, record.status, before, after)
    except Exception as exc:  # a target's failure must not stop the others
        error = str(exc) or type(exc).__name__
        return TargetResult(job.name, Status.FAILED, before, None, error, exception=exc)
    except KeyboardInterrupt as exc:  # the pipeline records what is live, then re-raises it
        return TargetResult(job.name, Status.FAILED, before, None, "interrupted", exception=exc)


def _refresher(run: Run, name: str, target: Target) -> Refresher:
    runnable = run.policy.runnable(target, run.reporter)
    return run.ports.refreshers.refresher(name, runnable, aws=run.aws, reporter=run.reporter)


def _act(refresher: Refresher, job: TargetJob, record: StepRecord) -> TargetState:
    if job.restore is not None:
        return refresher.restore(job.restore, record)
    return refresher.refresh(job.inputs, record)


def _first(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def describe_all(run: Run, jobs: Sequence[TargetJob]) -> list[dict[str, Any]]:
    """plan: each target's one-line change, read-only, at once."""

    def describe(job: TargetJob) -> dict[str, Any]:
        try:
            with run.reporter.step(f"target {job.name}") as record:
                if job.skip:
                    record.status, record.summary = Status.SKIPPED, job.skip
                    return {"name": job.name, "change": None, "skipped": job.skip}
                try:
                    refresher = _refresher(run, job.name, job.target)
                except BadInput as exc:  # e.g. a name the environment left unresolved
                    record.status, record.summary = Status.SKIPPED, str(exc)
                    return {"name": job.name, "change": None, "skipped": str(exc)}
                change = refresher.describe_change(job.inputs.image)
                record.status, record.summary = Status.UNCHANGED, change
                return {"name": job.name, "change": change}
        except Exception as exc:  # plan reports every target it can
            return {"name": job.name, "change": None, "error": str(exc)}

    return concurrently(jobs, describe, max_workers=run.options.max_parallel)


def read_all(run: Run, jobs: Sequence[TargetJob]) -> list[tuple[str, TargetState | None, str]]:
    """status: what is live on each target, read-only, at once: (name, state, error)."""

    def read(job: TargetJob) -> tuple[str, TargetState | None, str]:
        if job.skip:
            return job.name, None, job.skip
        # Reading never warms anything up, so the sandbox has no warm-up to skip or mention.
        target = job.target
        if isinstance(target, LambdaTarget) and target.warmup is not None:
            target = target.model_copy(update={"warmup": None})
        try:
            refresher = run.ports.refreshers.refresher(
                job.name, target, aws=run.aws, reporter=run.reporter
            )
            return job.name, refresher.current(), ""
        except Exception as exc:  # status shows every target it can read
            return job.name, None, str(exc) or type(exc).__name__

    return concurrently(jobs, read, max_workers=run.options.max_parallel)


def after_interrupt(
    run: Run, jobs: Sequence[TargetJob], results: Sequence[TargetResult]
) -> list[TargetResult]:
    """After an interrupt: the results that finished, and what each target still in flight
    runs now, read back (best effort: the run is being stopped)."""
    done = [r for r in results if not isinstance(r.exception, KeyboardInterrupt)]
    finished = {r.name for r in done}
    for job in jobs:
        if job.name in finished or job.skip:
            continue
        with suppress(Exception):  # unreadable now: the record keeps what it had
            live = _refresher(run, job.name, job.target).current()
            done.append(TargetResult(job.name, Status.FAILED, after=live, error="interrupted"))
    return done
