"""rollback: put the last release that differs from what is live (or a named one) back on
every target, and record it; when no release differs, there is nothing to roll back."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from deploytools.config import EnvConfig
from deploytools.output import Status
from deploytools.pipeline import preflight
from deploytools.pipeline.changes import ChangeLog
from deploytools.pipeline.context import Run, TargetsFailed
from deploytools.pipeline.locking import environment_locked
from deploytools.pipeline.recording import Ending, new_release
from deploytools.pipeline.status import needs_outputs
from deploytools.pipeline.targets import (
    TargetJob,
    TargetResult,
    after_interrupt,
    read_all,
    run_targets,
)
from deploytools.steps.release import Kind, Outcome, Release, ReleaseStore
from deploytools.steps.targets.base import TargetState


@dataclass(frozen=True)
class RollbackResult:
    env: str
    to: Release | None  # None: no earlier release differs from what is live
    release: Release | None  # the new release recording the rollback (None: nothing changed)
    targets: list[TargetResult] = field(default_factory=list)
    note: str = ""  # why nothing was rolled back

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "to": self.to.id if self.to else None,
            "release": self.release.id if self.release else None,
            "targets": [t.as_dict() for t in self.targets],
            "rolled_back": self.release is not None,
            "note": self.note,
        }


def rollback(run: Run, *, to: str | None) -> RollbackResult:
    env = run.env()
    run.guard_protected(env, action="rollback")
    preflight.account(run, env)
    with environment_locked(run, env, command="rollback"):
        return _rollback(run, env, to)


def _rollback(run: Run, env: EnvConfig, to: str | None) -> RollbackResult:
    store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
    with run.reporter.step("choose release") as record:
        record.status = Status.UNCHANGED
        history = store.history()
        current = history[-1] if history else None
        if to:
            chosen: Release | None = store.get(to)
        else:
            chosen = _last_different(run, env, history)
        if chosen is None:
            kept = ", ".join(r.id for r in history[-5:]) or "none"
            note = (
                f"nothing to roll back: no earlier successful release of "
                f"{env.model.project}/{env.env} differs from what is live (recorded: {kept})"
            )
            record.summary = note
            return RollbackResult(env.env, None, None, note=note)
        record.summary = f"{current.id if current else '(none)'} → {chosen.id}"
    outputs = {**(current.tf_outputs if current else {}), **chosen.tf_outputs}
    env = run.env(outputs)
    configured = run.selected(env)
    for name in configured:
        if name not in chosen.targets:
            run.reporter.line(f"  target {name}: not in {chosen.id}; left as it is")
    for name in chosen.targets:
        if name not in env.model.targets:
            run.reporter.line(f"  target {name}: in {chosen.id}, no longer configured; left alone")
    jobs = [
        TargetJob(
            name,
            target,
            restore=TargetState.from_dict(chosen.targets[name]),
            skip=needs_outputs(target),
        )
        for name, target in configured.items()
        if name in chosen.targets
    ]
    log = ChangeLog(run.reporter)
    interrupted: KeyboardInterrupt | None = None
    try:
        results = run_targets(run, jobs)
    except KeyboardInterrupt as exc:  # signalled while waiting on the targets
        results, interrupted = [], exc
    interrupted = interrupted or next(
        (r.exception for r in results if isinstance(r.exception, KeyboardInterrupt)), None
    )
    if interrupted is not None:
        results = after_interrupt(run, jobs, results)
    failed = [r for r in results if not r.ok and r.error != "interrupted"]
    failure = (
        TargetsFailed(
            "\n".join(f"restore {r.name} {r.status.value}: {r.error}" for r in failed),
            [(r.name, r.exception) for r in failed if r.exception is not None],
        )
        if failed
        else None
    )
    if interrupted is not None:
        with suppress(Exception):  # the interrupt is the news; a record is best effort
            _record(run, env, store, current, chosen, results, failure, log, interrupted)
        raise interrupted
    if failure is not None or not log.nothing_changed():
        written = _record(run, env, store, current, chosen, results, failure, log, None)
    else:
        written = None
        run.reporter.line(f"  every target already runs {chosen.id}: nothing recorded")
    if failure is not None:
        raise failure
    note = "" if written else f"nothing to roll back: live already matches {chosen.id}"
    return RollbackResult(env.env, chosen, written, results, note=note)


def _last_different(run: Run, env: EnvConfig, history: list[Release]) -> Release | None:
    """The newest successful release whose targets differ from what runs now.

    What runs now is read from each target; where it cannot be read, the latest release's
    record of it stands in.
    """
    if not history:
        return None
    latest = history[-1]
    resolved = run.env(latest.tf_outputs)
    selected = run.selected(resolved)
    jobs = [TargetJob(n, t) for n, t in selected.items() if not needs_outputs(t)]
    live: dict[str, dict[str, Any] | None] = {}
    for name, state, error in read_all(run, jobs):
        if not error:
            live[name] = state.as_dict() if state else None
    for name in selected:
        if name not in live and name in latest.targets:
            live[name] = latest.targets[name]
    for release in reversed(history):
        if release.status is not Outcome.OK:
            continue
        if any(
            not _same(release.targets[name], live.get(name))
            for name in selected
            if name in release.targets
        ):
            return release
    return None


def _same(recorded: dict[str, Any], live: dict[str, Any] | None) -> bool:
    if live is None:
        return False
    return (recorded.get("revision"), recorded.get("image")) == (
        live.get("revision"),
        live.get("image"),
    )


def _record(
    run: Run,
    env: EnvConfig,
    store: ReleaseStore,
    current: Release | None,
    chosen: Release,
    results: list[TargetResult],
    failure: TargetsFailed | None,
    log: ChangeLog,
    interrupted: KeyboardInterrupt | None,
) -> Release | None:
    with run.reporter.step("release") as record:
        targets = dict(current.targets) if current else {}
        images = dict(current.images) if current else {}
        for result in results:
            if result.after is None:
                continue
            targets[result.name] = result.after.as_dict()
            image_name = env.model.targets[result.name].image
            if result.ok and image_name and image_name in chosen.images:
                images[image_name] = chosen.images[image_name]
        release = new_release(
            run,
            env,
            kind=Kind.ROLLBACK,
            git_sha=chosen.git_sha,
            ending=Ending(failure, interrupted),
        )
        release = replace(
            release,
            images=images,
            targets=targets,
            amplify=current.amplify if current else None,
            tf_outputs={**(current.tf_outputs if current else {}), **chosen.tf_outputs},
            rollback_of=chosen.id,
            changes=log.changes(),
        )
        written = store.write(release)
        record.change(f"release {written.id}")
        record.summary = written.short()
        return written
