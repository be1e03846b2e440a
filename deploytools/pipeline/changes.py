"""The one "nothing changed" decision: a run that changed nothing records nothing new.

What changed is what the steps said they changed (`StepRecord.change`), from the first step
that may change something on: checks, the account guard, the lock and the sandbox's seeded
placeholders come before that point and are not a release's business.
"""

from __future__ import annotations

from deploytools.output import Reporter


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
