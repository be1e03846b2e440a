"""What the pipeline asks of the Amplify step (deploytools.steps.amplify)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.output import Reporter, StepRecord
from deploytools.steps.amplify import AmplifyPlan, AmplifyResult, JobBasis


class AmplifyPort(Protocol):
    def plan(self, aws: AwsContext, env: EnvConfig, *, root: Path) -> AmplifyPlan:
        """Read-only: what deploy would change on the app and branch."""
        ...

    def deploy(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        reporter: Reporter,
        record: StepRecord,
        basis: JobBasis = JobBasis(),
    ) -> AmplifyResult:
        """Create or update the app and branch, run a RELEASE job (unless the basis's last job
        built its commit with what is live), wait for it."""
        ...
