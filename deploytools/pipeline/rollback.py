"""rollback: put the previous (or a named) release back on every target, and record it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploytools.config import EnvConfig
from deploytools.errors import BadInput
from deploytools.output import Status
from deploytools.pipeline import preflight
from deploytools.pipeline.context import Run, TargetsFailed
from deploytools.pipeline.status import needs_outputs
from deploytools.pipeline.targets import TargetJob, TargetResult, run_targets
from deploytools.steps.release import Kind, Outcome, Release, ReleaseStore, new_release_id, who
from deploytools.steps.targets.base import TargetState


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
    store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
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
            skip=needs_outputs(target),
        )
        for name, target in configured.items()
        if name in chosen.targets
    ]
    results = run_targets(run, jobs)
    failed = [r for r in results if not r.ok]
    failure = (
        TargetsFailed(
            "\n".join(f"restore {r.name} {r.status.value}: {r.error}" for r in failed),
            [(r.name, r.exception) for r in failed if r.exception is not None],
        )
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
            image_name = env.model.targets[result.name].image
            if image_name and image_name in chosen.images:
                images[image_name] = chosen.images[image_name]
        sha = chosen.git_sha
        now = run.ports.clock.now()
        release = Release(
            id=new_release_id(now=now, git_sha=sha),
            project=env.model.project,
            env=env.env,
            created=now.isoformat(timespec="seconds"),
            kind=Kind.ROLLBACK,
            status=Outcome.FAILED if failure else Outcome.OK,
            reason=str(failure).splitlines()[0] if failure else "",
            git_sha=sha,
            who=who(run.ports.releases.caller(run.aws)),
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
