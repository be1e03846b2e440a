"""What the pipeline asks of the smoke step (deploytools.steps.smoke)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from deploytools.config.model import Smoke
from deploytools.steps.smoke import SmokeResult, run_smoke


class SmokePort(Protocol):
    def run(self, checks: Sequence[Smoke]) -> list[SmokeResult]:
        """Every check's result; SmokeFailed (carrying them all) when one failed."""
        ...


class HttpSmoke:
    """Smoke checks over HTTP, with the step's own retries."""

    def run(self, checks: Sequence[Smoke]) -> list[SmokeResult]:
        return run_smoke(checks)
