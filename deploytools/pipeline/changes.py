"""The one "nothing changed" decision: a run that changed nothing records nothing new.

What changed is what the steps said they changed (`StepRecord.change`), from the first step
that may change something on: checks, the account guard, the lock and the sandbox's seeded
placeholders come before that point and are not a release's business.
"""

from __future__ import annotations

from collections.abc import Sequence

from deploytools.output import Reporter
from deploytools.steps.amplify import LastJob
from deploytools.steps.release import Release


class ChangeLog:
    """Marks where a run's changes start in its reporter's steps, and reads them back."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self._start = len(reporter.steps)

    def changes(self) -> list[str]:
        return [
            change for record in self._reporter.steps[self._start :] for change in record.changed
        ]

    def nothing_changed(self) -> bool:
        return not self.changes()


def last_amplify_job(history: Sequence[Release]) -> LastJob | None:
    """The Amplify job of the newest release that started one and saw it succeed, with that
    release's commit. Later releases that did not run Amplify (`--only`, a failed job) carry
    the record forward without having built anything, so the commit is the starter's."""
    for release in reversed(history):  # newest first
        amplify = release.amplify or {}
        job_id = str(amplify.get("job_id") or "")
        started = f"started RELEASE job {job_id}" in release.changes
        if job_id and started and amplify.get("status") == "SUCCEED":
            if not release.git_sha:
                return None  # the code had no commit then: nothing to compare with
            return LastJob(str(amplify.get("app_id", "")), job_id, release.git_sha)
    return None
