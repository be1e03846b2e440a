"""A run's release: its status from how the run ended (deploy and rollback alike), and what a
deploy left running, even when it failed or was interrupted."""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from deploytools import interrupts
from deploytools.config import EnvConfig
from deploytools.errors import DeployError
from deploytools.output import Status
from deploytools.pipeline.changes import ChangeLog
from deploytools.pipeline.context import Run
from deploytools.pipeline.targets import TargetJob, TargetResult, after_interrupt
from deploytools.steps.amplify import AmplifyResult
from deploytools.steps.images import ImageResult
from deploytools.steps.release import Kind, Outcome, Release, new_release_id, who


@dataclass
class Progress:
    """What the run has done so far: what a release records, even of an interrupted run."""

    images: dict[str, ImageResult] | None = None
    outputs: Mapping[str, object] = field(default_factory=dict)
    jobs: list[TargetJob] = field(default_factory=list)
    results: list[TargetResult] = field(default_factory=list)
    amplify: AmplifyResult | None = None
    smoke: list[str] = field(default_factory=list)  # the smoke checks passed (smoke_key)
    stage: str = "images"


@dataclass(frozen=True)
class Ending:
    """How the run a release records ended."""

    failure: BaseException | None = None
    interrupted: KeyboardInterrupt | None = None
    simulated: Mapping[str, str] = field(default_factory=dict)  # target -> why it did not run

    def outcome(self) -> tuple[Outcome, str]:
        """The release's status and reason. A run whose workloads did not all run is no OK
        release, nor a rollback point."""
        if self.interrupted is not None:
            name = signal.Signals(interrupts.signal_number(self.interrupted)).name
            return Outcome.INTERRUPTED, f"interrupted ({name})"
        if self.failure is not None:
            first = (str(self.failure).splitlines() or [type(self.failure).__name__])[0]
            return Outcome.FAILED, first
        return (Outcome.SIMULATED if self.simulated else Outcome.OK), ""


def new_release(
    run: Run, env: EnvConfig, *, kind: Kind, git_sha: str | None, ending: Ending
) -> Release:
    """A release of `env` made now by this run's caller, with the status its ending gives;
    what the run left running is for the caller to add."""
    now = run.ports.clock.now()
    status, reason = ending.outcome()
    return Release(
        id=new_release_id(now=now, git_sha=git_sha),
        project=env.model.project,
        env=env.env,
        created=now.isoformat(timespec="seconds"),
        kind=kind,
        status=status,
        reason=reason,
        git_sha=git_sha,
        who=who(run.ports.releases.caller(run.aws)),
        simulated=dict(ending.simulated),
    )


def record_deploy(
    run: Run,
    env: EnvConfig,
    done: Progress,
    log: ChangeLog,
    failure: DeployError | None,
    *,
    interrupted: KeyboardInterrupt | None = None,
    latest: Callable[[], Release | None],
) -> Release | None:
    """Write the release, unless nothing changed; if the deploy already failed (or was
    interrupted), a failed write only warns. `latest` gives the latest release (read once
    per run)."""
    try:
        with run.reporter.step("release") as record:
            store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
            previous = latest()
            changes = log.changes()
            if failure is None and interrupted is None and not changes:
                record.status = Status.UNCHANGED
                live = f"release {previous.id} stays the latest" if previous else "no release"
                record.summary = f"nothing changed: nothing recorded ({live})"
                return None
            results = done.results
            if interrupted is not None:
                in_flight = done.jobs if done.stage == "targets" else []
                results = after_interrupt(run, in_flight, done.results)
                changes += [f"interrupted during {done.stage}: nothing more was done"]
            targets = dict(previous.targets) if previous else {}
            for result in results:
                if result.after is not None:
                    targets[result.name] = result.after.as_dict()
            simulated_targets = {r.name: r.error for r in results if r.simulated}
            recorded_images = dict(previous.images) if previous else {}
            for name, image in (done.images or {}).items():
                recorded_images[name] = _image_record(image)
            referenced = run.env().pending_tf  # the outputs the config names
            tf_outputs = dict(previous.tf_outputs) if previous else {}
            tf_outputs.update({k: v for k, v in done.outputs.items() if k in referenced})
            release = new_release(
                run,
                env,
                kind=Kind.DEPLOY,
                git_sha=run.ports.clock.commit(run.config.root),
                ending=Ending(failure, interrupted, simulated_targets),
            )
            release = replace(
                release,
                images=recorded_images,
                targets=targets,
                amplify=_amplify_record(done.amplify) or (previous.amplify if previous else None),
                tf_outputs=tf_outputs,
                changes=changes,
                smoke=list(done.smoke),
            )
            written: Release = store.write(release)
            record.change(f"release {written.id}")
            record.summary = written.short()
            record.detail["release"] = written.id
            return written
    except DeployError as exc:
        if failure is None and interrupted is None:
            raise
        with suppress(Exception):
            run.reporter.warn(f"the release record was not written: {exc}")
        return None


def _image_record(image: ImageResult) -> dict[str, Any]:
    doc = image.as_dict()
    return {k: doc[k] for k in ("uri", "digest", "tag", "repository_uri")}


def _amplify_record(result: AmplifyResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    done = result.as_dict()
    return {k: done[k] for k in ("app_id", "app", "branch", "job_id", "status", "url")}
