"""What the pipeline asks of the Amplify step (deploytools.steps.amplify)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.output import Reporter, StepRecord
from deploytools.steps import secrets
from deploytools.steps.amplify import (
    AmplifyPlan,
    AmplifyResult,
    DeployOptions,
    LastJob,
    deploy_amplify,
    plan_amplify,
)


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
        commit: str | None = None,
        last_job: LastJob | None = None,
    ) -> AmplifyResult:
        """Create or update the app and branch, run a RELEASE job (unless `last_job` built
        `commit` with what is live), wait for it."""
        ...


class AwsAmplify:
    """The Amplify control plane (AWS, or the sandbox's emulator); the repository access token
    is read from SSM by the secrets step, so the Amplify step never imports it."""

    def plan(self, aws: AwsContext, env: EnvConfig, *, root: Path) -> AmplifyPlan:
        return plan_amplify(aws, env, root=root)

    def deploy(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        reporter: Reporter,
        record: StepRecord,
        commit: str | None = None,
        last_job: LastJob | None = None,
    ) -> AmplifyResult:
        options = DeployOptions(
            access_token=lambda name: secrets.read_parameter(aws, name),
            commit=commit,
            last_job=last_job,
        )
        return deploy_amplify(
            aws, env, root=root, reporter=reporter, record=record, options=options
        )
