"""status and rollback: the release record against what is live on each target."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from deploytools.config import EnvConfig
from deploytools.errors import BadInput
from deploytools.output import Status
from deploytools.pipeline import preflight
from deploytools.pipeline.context import Run, TargetsFailed, pending_in
from deploytools.pipeline.targets import TargetJob, TargetResult, label, read_all, run_targets
from deploytools.steps.release import Kind, Outcome, Release, ReleaseStore, new_release_id, who
from deploytools.steps.targets.base import TargetState


class Sync(StrEnum):
    IN_SYNC = "in_sync"
    DRIFT = "drift"  # live runs something else than the release recorded
    MISSING = "missing"  # recorded, but the resource is gone
    UNRECORDED = "unrecorded"  # live, but the current release does not mention it
    NOT_DEPLOYED = "not_deployed"  # neither recorded nor live
    NO_RELEASE = "no_release"  # live, and no release recorded yet: nothing to drift from
    UNKNOWN = "unknown"  # could not be read

    @property
    def is_drift(self) -> bool:
        return self in (Sync.DRIFT, Sync.MISSING, Sync.UNRECORDED)


@dataclass(frozen=True)
class TargetStatus:
    name: str
    type: str
    resource: str
    live: TargetState | None
    recorded: TargetState | None
    sync: Sync
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "resource": self.resource,
            "live": self.live.as_dict() if self.live else None,
            "recorded": self.recorded.as_dict() if self.recorded else None,
            "sync": self.sync.value,
            "drift": self.sync.is_drift,
            "note": self.note,
        }

    def line(self) -> str:
        head = f"target {self.name} ({self.type}) {self.resource}: {label(self.live)}"
        if self.sync is Sync.IN_SYNC:
            return f"{head}, as recorded"
        if self.sync is Sync.DRIFT:
            return f"{head}, DRIFT: the release recorded {label(self.recorded)}"
        if self.sync is Sync.MISSING:
            return f"{head}, DRIFT: missing; the release recorded {label(self.recorded)}"
        if self.sync is Sync.UNRECORDED:
            return f"{head}, DRIFT: not in the current release"
        return f"{head}, {self.note or self.sync.value}"


@dataclass(frozen=True)
class StatusReport:
    env: str
    release: Release | None
    targets: list[TargetStatus] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return any(t.sync.is_drift for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "release": self.release.as_dict() if self.release else None,
            "targets": [t.as_dict() for t in self.targets],
            "drift": self.drift,
        }


def status(run: Run) -> StatusReport:
    env = run.env()
    preflight.account(run, env)
    with run.reporter.step("release") as record:
        record.status = Status.UNCHANGED
        release = run.steps.release_store(run.aws, env).current()
        record.summary = release.short() if release else "no release recorded yet"
    env = run.env(release.tf_outputs if release else None)
    targets = run.selected(env)
    skipped = {name: _needs_outputs(t) for name, t in targets.items() if _needs_outputs(t)}
    jobs = [TargetJob(name, t) for name, t in targets.items() if name not in skipped]
    found = {name: (state, error) for name, state, error in read_all(run, jobs)}
    report = []
    for name, target in targets.items():
        raw = release.targets.get(name) if release else None
        recorded = TargetState.from_dict(raw) if raw else None
        if name in skipped:
            report.append(
                TargetStatus(
                    name,
                    target.type,
                    _resource(target),
                    None,
                    recorded,
                    Sync.UNKNOWN,
                    skipped[name] or "",
                )
            )
            continue
        live, error = found[name]
        sync, note = _compare(live, recorded, error, has_release=release is not None)
        report.append(
            TargetStatus(name, target.type, _resource(target), live, recorded, sync, note)
        )
    return StatusReport(env.env, release, report)


def _compare(
    live: TargetState | None, recorded: TargetState | None, error: str, *, has_release: bool
) -> tuple[Sync, str]:
    if error:
        return Sync.UNKNOWN, f"could not read: {error.splitlines()[0]}"
    if recorded is None:
        if live is None:
            return Sync.NOT_DEPLOYED, "not deployed yet"
        if not has_release:
            return Sync.NO_RELEASE, "no release recorded yet"
        return Sync.UNRECORDED, ""
    if live is None:
        return Sync.MISSING, ""
    if (live.revision, live.image) != (recorded.revision, recorded.image):
        return Sync.DRIFT, ""
    return Sync.IN_SYNC, ""


def _resource(target: Any) -> str:
    key = {"ecs": "service", "lambda": "function", "eks": "deployment"}.get(
        target.type, "job_definition"
    )
    return str(getattr(target, key, "") or "")


def _needs_outputs(target: Any) -> str | None:
    pending = pending_in(target)
    if not pending:
        return None
    return "needs Terraform output(s) " + ", ".join(sorted(pending)) + " (no release records them)"


@dataclass(frozen=True)
class RollbackResult:
    env: str
    to: Release
    release: Release | None  # the new release recording the rollback
    targets: list[TargetResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "to": self.to.id,
            "release": self.release.id if self.release else None,
            "targets": [t.as_dict() for t in self.targets],
        }


def rollback(run: Run, *, to: str | None) -> RollbackResult:
    env = run.env()
    run.guard_protected(env, action="rollback")
    preflight.account(run, env)
    store = run.steps.release_store(run.aws, env)
    with run.reporter.step("choose release") as record:
        record.status = Status.UNCHANGED
        current = store.current()
        chosen = store.get(to) if to else store.previous()
        if chosen is None:
            kept = ", ".join(store.ids()[-5:]) or "none"
            raise BadInput(
                f"no earlier successful release of {env.model.project}/{env.env} to roll back "
                f"to (recorded: {kept}); name one with --to RELEASE"
            )
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
            skip=_needs_outputs(target),
        )
        for name, target in configured.items()
        if name in chosen.targets
    ]
    results = run_targets(run, jobs)
    failed = [r for r in results if not r.ok]
    failure = (
        TargetsFailed("\n".join(f"restore {r.name} {r.status.value}: {r.error}" for r in failed))
        if failed
        else None
    )
    written = _record(run, env, store, current, chosen, results, failure)
    if failure is not None:
        raise failure
    return RollbackResult(env.env, chosen, written, results)


def _record(
    run: Run,
    env: EnvConfig,
    store: ReleaseStore,
    current: Release | None,
    chosen: Release,
    results: list[TargetResult],
    failure: TargetsFailed | None,
) -> Release:
    with run.reporter.step("release") as record:
        targets = dict(current.targets) if current else {}
        images = dict(current.images) if current else {}
        for result in results:
            if result.after is None:
                continue
            targets[result.name] = result.after.as_dict()
            image_name = getattr(env.model.targets[result.name], "image", None)
            if image_name and image_name in chosen.images:
                images[image_name] = chosen.images[image_name]
        sha = chosen.git_sha
        now = run.steps.now()
        release = Release(
            id=new_release_id(now=now, git_sha=sha),
            project=env.model.project,
            env=env.env,
            created=now.isoformat(timespec="seconds"),
            kind=Kind.ROLLBACK,
            status=Outcome.FAILED if failure else Outcome.OK,
            reason=str(failure).splitlines()[0] if failure else "",
            git_sha=sha,
            who=who(run.steps.caller_arn(run.aws)),
            images=images,
            targets=targets,
            amplify=current.amplify if current else None,
            tf_outputs={**(current.tf_outputs if current else {}), **chosen.tf_outputs},
            rollback_of=chosen.id,
        )
        written = store.write(release)
        record.change(f"release {written.id}")
        record.summary = written.short()
        return written
