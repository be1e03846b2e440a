"""The smoke step of a deploy: the config's checks against what was deployed, and which of
them a no-op may leave out (those the live release passed)."""

from __future__ import annotations

from collections.abc import Callable

from deploytools.config import EnvConfig
from deploytools.output import Status
from deploytools.pipeline.changes import ChangeLog
from deploytools.pipeline.context import Run, pending_in
from deploytools.pipeline.policy import NOT_SERVED, simulated
from deploytools.steps.release import Outcome, Release
from deploytools.steps.smoke import SmokeFailed, smoke_key


def unchanged_since(log: ChangeLog, latest: Callable[[], Release | None]) -> Release | None:
    """The live release, when this run has changed nothing so far and it was a good one."""
    if not log.nothing_changed():
        return None
    live = latest()
    return live if live is not None and live.status is Outcome.OK else None


def smoke(run: Run, env: EnvConfig, *, unchanged: Release | None = None) -> list[str]:
    """Run the smoke checks; returns those that passed (smoke_key). With nothing changed
    since `unchanged`, which passed these very checks, they are not run again: a no-op
    deploy answers in the time of its plan."""
    with run.reporter.step("smoke") as record:
        checks = list(env.model.smoke)
        if not checks:
            record.status, record.summary = Status.SKIPPED, "no smoke: checks"
            return []
        keys = [smoke_key(check) for check in checks]
        if unchanged is not None and set(keys) <= set(unchanged.smoke):
            record.status = Status.UNCHANGED
            record.summary = (
                f"nothing changed: release {unchanged.id} passed these {len(checks)} "
                "check(s); not run again"
            )
            return keys
        runnable = []
        passing = []
        for check, key in zip(checks, keys, strict=True):
            if pending := pending_in(check):
                names = ", ".join(sorted(pending))
                run.reporter.line(f"  smoke {check.url}: skipped, needs output(s) {names}")
            elif (url := run.policy.served_at(check.url, run.reporter)) is None:
                run.reporter.line(simulated(f"smoke {check.url}", NOT_SERVED))
            else:
                runnable.append(
                    check if url == check.url else check.model_copy(update={"url": url})
                )
                passing.append(key)
        if not runnable:
            record.status = Status.SKIPPED
            record.summary = "no check can run here (see the lines above)"
            return []
        try:
            results = run.ports.smoke.run(runnable)
        except SmokeFailed as exc:
            record.detail["results"] = [r.as_dict() for r in exc.results]
            raise
        record.detail["results"] = [r.as_dict() for r in results]
        for result in results:
            run.reporter.line(f"  {result.line()}")
        record.status = Status.UNCHANGED
        skipped = len(checks) - len(runnable)
        record.summary = f"{len(results)} passed" + (f", {skipped} skipped" if skipped else "")
        return passing
