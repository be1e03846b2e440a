"""status: the release record against what is live on each target, and drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from deploytools.config.model import Target
from deploytools.output import Status
from deploytools.pipeline import preflight
from deploytools.pipeline.context import Run, pending_in
from deploytools.pipeline.targets import TargetJob, label, read_all
from deploytools.steps.release import Release
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
        if self.sync is Sync.DRIFT and self.note:
            return f"{head}, DRIFT: {self.note} (deploy corrects it)"
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
        store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
        release = store.current()
        record.summary = release.short() if release else "no release recorded yet"
    env = run.env(release.tf_outputs if release else None)
    targets = run.selected(env)
    skipped = {name: why for name, t in targets.items() if (why := needs_outputs(t))}
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
                    target.resource,
                    None,
                    recorded,
                    Sync.UNKNOWN,
                    skipped[name],
                )
            )
            continue
        live, error = found[name]
        sync, note = _compare(live, recorded, error, has_release=release is not None)
        report.append(TargetStatus(name, target.type, target.resource, live, recorded, sync, note))
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
    changed = configuration_drift(live, recorded)
    if changed:
        return Sync.DRIFT, changed
    return Sync.IN_SYNC, ""


def configuration_drift(live: TargetState, recorded: TargetState) -> str:
    """What of the live configuration differs from the release ("" when nothing): the code
    and the environment's variable names, where the release recorded them."""
    found = []
    lost = live.detail.get("latest_missing")
    if lost:
        found.append(f"$LATEST lacks environment {', '.join(lost)}")
    for key in ("code_sha256", "environment"):
        if key not in recorded.detail or key not in live.detail:
            continue
        was, now = recorded.detail[key], live.detail[key]
        if was == now:
            continue
        if key == "environment":
            missing = sorted(set(was) - set(now))
            added = sorted(set(now) - set(was))
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"added {', '.join(added)}"] if added else []
            found.append(f"environment {'; '.join(parts)}")
        else:
            found.append("code differs")
    return "; ".join(found)


def needs_outputs(target: Target) -> str | None:
    """Why a target cannot be read: names it uses wait for outputs no release records."""
    pending = pending_in(target)
    if not pending:
        return None
    return "needs Terraform output(s) " + ", ".join(sorted(pending)) + " (no release records them)"


def history(run: Run) -> list[Release]:
    """Every kept release of the environment, oldest first (read-only)."""
    env = run.env()
    preflight.account(run, env)
    store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
    return store.history()
