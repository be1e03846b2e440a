"""The ports the pipeline composes: one per step, each defined next to its step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.checks.base import Finding
from deploytools.config import EnvConfig, LoadedConfig
from deploytools.output import Reporter, StepRecord
from deploytools.steps import secrets
from deploytools.steps.amplify import (
    AmplifyPlan,
    AmplifyResult,
    DeployOptions,
    JobBasis,
    deploy_amplify,
    plan_amplify,
)
from deploytools.steps.amplify_port import AmplifyPort
from deploytools.steps.images.port import EcrImages, ImagesPort
from deploytools.steps.lock import LocksPort, SsmLocks
from deploytools.steps.release import ReleasesPort, SsmReleases, deployed_commit, utc_now
from deploytools.steps.secrets_port import SecretsPort, SsmSecrets
from deploytools.steps.smoke_port import HttpSmoke, SmokePort
from deploytools.steps.targets import AwsTargets, TargetsPort
from deploytools.steps.terraform.port import TerraformCli, TerraformPort


class ChecksPort(Protocol):
    def run(self, config: LoadedConfig) -> list[Finding]: ...


class ClockPort(Protocol):
    """Time and the commit being deployed: what a release record is named after."""

    def now(self) -> datetime: ...

    def commit(self, root: Path) -> str | None: ...


class RepositoryChecks:
    """The DT rules over the app's repository."""

    def run(self, config: LoadedConfig) -> list[Finding]:
        from deploytools.checks import CheckContext, run_checks

        return run_checks(CheckContext(root=config.root, config=config))


class AwsAmplify:
    """The Amplify control plane (AWS, or the sandbox's emulator). A step never imports
    another, so the repository access token reaches it from the secrets step through here."""

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
        basis: JobBasis = JobBasis(),
    ) -> AmplifyResult:
        options = DeployOptions(
            access_token=lambda name: secrets.read_parameter(aws, name),
            commit=basis.commit,
            last_job=basis.last_job,
        )
        return deploy_amplify(
            aws, env, root=root, reporter=reporter, record=record, options=options
        )


class SystemClock:
    def now(self) -> datetime:
        return utc_now()

    def commit(self, root: Path) -> str | None:
        return deployed_commit(root)


@dataclass(frozen=True)
class Ports:
    checks: ChecksPort
    secrets: SecretsPort
    images: ImagesPort
    terraform: TerraformPort
    refreshers: TargetsPort
    amplify: AmplifyPort
    smoke: SmokePort
    releases: ReleasesPort
    clock: ClockPort
    locks: LocksPort = field(default_factory=SsmLocks)


def real_ports(root: Path | None = None) -> Ports:
    """The step modules themselves, for the app whose deploytools.yml is in `root`."""
    return Ports(
        checks=RepositoryChecks(),
        secrets=SsmSecrets(),
        images=EcrImages(),
        terraform=TerraformCli(),
        refreshers=AwsTargets(root),
        amplify=AwsAmplify(),
        smoke=HttpSmoke(),
        releases=SsmReleases(),
        clock=SystemClock(),
    )
