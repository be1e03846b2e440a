"""The contract every target type implements, and what the release record stores of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from deploytools.errors import DeployError
from deploytools.output import StepRecord
from deploytools.steps.targets.lambda_zip import ZipPackage


@dataclass(frozen=True)
class TargetState:
    """What runs on a target: enough to show it (status) and to restore it (rollback)."""

    target: str  # the key under targets:
    type: str  # ecs | lambda | eks | batch
    resource: str  # service / function / deployment / job definition name
    image: str | None  # repository@sha256:… (None for zip Lambdas)
    revision: str  # task definition ARN / Lambda version / ReplicaSet revision / job def ARN
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. code_sha256, alias, cluster

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetState:
        return cls(**data)


class TargetFailed(DeployError):
    """The new version did not become healthy; the message carries the reasons."""


class RolledBack(TargetFailed):
    """The target failed and was put back on what ran before (the deploy still exits 1)."""

    def __init__(self, message: str, restored: TargetState) -> None:
        self.restored = restored
        super().__init__(message)


@dataclass(frozen=True)
class RefreshInputs:
    """What a refresh moves a target to, besides its own config."""

    image: str | None = None  # repository@sha256:…; None for a zip Lambda
    secret_arns: Mapping[str, str] = field(default_factory=dict)  # name -> SSM parameter ARN
    environment: Mapping[str, str] = field(default_factory=dict)  # merged over the config's
    # Values only for a Lambda with secrets_in_environment (its environment is encrypted).
    secret_values: Mapping[str, str] | None = None
    package: ZipPackage | None = None  # a zip Lambda's package, built by deploytools
    code_bucket: str | None = None  # where a zip too large for the API call is uploaded


class Refresher(Protocol):
    """One target. Constructed as Refresher(name, target_config, aws=AwsContext, reporter=…)."""

    def current(self) -> TargetState | None:
        """What is live now; read-only. None if the resource does not exist."""
        ...

    def describe_change(self, image: str | None) -> str:
        """One line for plan: old → new; read-only."""
        ...

    def refresh(self, inputs: RefreshInputs, record: StepRecord) -> TargetState:
        """Move the target to `inputs.image` (or a zip Lambda to `inputs.package`), wait until
        healthy, and return the new state. On failure, restore the previous state and raise
        RolledBack with the reasons."""
        ...

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        """Put a recorded state back (rollback --to); wait until healthy."""
        ...
