"""Targets: ECS services, Lambda functions, EKS deployments, Batch job definitions.

`REFRESHERS` is the one map from a target type to the class that refreshes it; `TargetsPort`
is what the pipeline asks of this step (a refresher per target, and zip packages).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.config.model import LambdaTarget, Target
from deploytools.output import Reporter, StepRecord
from deploytools.steps.targets import batch, ecs, eks, lambda_
from deploytools.steps.targets.base import Refresher, RefreshInputs, RolledBack, TargetState
from deploytools.steps.targets.lambda_zip import ZipPackage, build_package

REFRESHERS: dict[str, type[Refresher]] = {
    "ecs": ecs.Refresher,
    "lambda": lambda_.Refresher,
    "eks": eks.Refresher,
    "batch": batch.Refresher,
}

__all__ = [
    "REFRESHERS",
    "AwsTargets",
    "RefreshInputs",
    "Refresher",
    "RolledBack",
    "TargetState",
    "TargetsPort",
    "ZipPackage",
    "package_target",
    "refresher_for",
]


def refresher_for(
    name: str,
    target: Target,
    *,
    aws: AwsContext,
    reporter: Reporter,
    root: Path | None = None,
    **tuning: object,  # test timings and polling, passed to the type's constructor
) -> Refresher:
    cls = REFRESHERS[target.type]
    return cls(name, target, aws=aws, reporter=reporter, root=root, **tuning)  # type: ignore[call-arg]


def package_target(
    name: str, target: LambdaTarget, *, root: Path, out: Path, record: StepRecord
) -> ZipPackage:
    """Build a zip Lambda's package (deterministic, excludes applied, its requirements
    installed for its runtime and architecture) and record it.

    A local file is no change to what runs: the target says whether Lambda gets new code, so
    a redeploy of the same package stays a no-op that records nothing."""
    assert target.package is not None  # the pipeline packages zip targets only
    built = build_package(root, target.package, out=out)
    record.detail["zip"] = str(built.path)
    record.summary = f"{built.summary}, CodeSha256 {built.code_sha256}"
    return built


class TargetsPort(Protocol):
    """What the pipeline asks of the targets step."""

    def refresher(
        self, name: str, target: Target, *, aws: AwsContext, reporter: Reporter
    ) -> Refresher: ...

    def package(
        self, name: str, target: LambdaTarget, *, root: Path, out: Path, record: StepRecord
    ) -> ZipPackage: ...


class AwsTargets:
    """The target modules themselves, for the app whose config lives in `root`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root  # EKS manifests are relative to it

    def refresher(
        self, name: str, target: Target, *, aws: AwsContext, reporter: Reporter
    ) -> Refresher:
        return refresher_for(name, target, aws=aws, reporter=reporter, root=self.root)

    def package(
        self, name: str, target: LambdaTarget, *, root: Path, out: Path, record: StepRecord
    ) -> ZipPackage:
        return package_target(name, target, root=root, out=out, record=record)
