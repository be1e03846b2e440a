"""What one pipeline run carries, and the pipeline's own named failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig, LoadedConfig, interpolate
from deploytools.config.model import Target
from deploytools.errors import BadInput, DeployError, ExitCode
from deploytools.output import Reporter
from deploytools.pipeline.policy import AwsPolicy, RunPolicy
from deploytools.pipeline.ports import Ports

MAX_PARALLEL = 16  # targets refreshed at once; AWS rate limits, not threads, are the bound


class ChecksFailed(DeployError):
    """`check` found errors: the deploy stops before any change (exit 3, like check)."""

    exit_code = ExitCode.CHECK_FINDINGS


class ProtectedEnvironment(BadInput):
    """A protected environment was asked to change without --yes."""


class NothingDeployed(DeployError):
    """Every selected target was skipped: a green deploy would say nothing ran."""


class TargetsFailed(DeployError):
    """At least one target failed (and was rolled back where it could be).

    `failures` keeps each target's exception, so --verbose can show where it was raised.
    """

    def __init__(self, message: str, failures: Sequence[tuple[str, BaseException]] = ()) -> None:
        self.failures = tuple(failures)
        super().__init__(message)


@dataclass(frozen=True)
class Options:
    """The command line, as the pipeline needs it."""

    env: str
    only: tuple[str, ...] = ()  # target names; empty means all
    tag: str | None = None
    yes: bool = False
    registry: str | None = None  # the sandbox's registry (host:port), standing in for ECR
    max_parallel: int = MAX_PARALLEL
    force_unlock: str | None = None  # the id of a lock to remove before taking it
    allow_empty: bool = False  # a deploy whose every target is skipped still succeeds


@dataclass(frozen=True)
class Run:
    """One pipeline run: config, AWS, where to report, the step ports, the options, and
    the policy of where it runs (AWS, or the sandbox)."""

    config: LoadedConfig
    aws: AwsContext
    reporter: Reporter
    ports: Ports
    options: Options
    policy: RunPolicy = field(default_factory=AwsPolicy)

    def env(self, tf_outputs: Mapping[str, Any] | None = None) -> EnvConfig:
        return self.config.for_env(self.options.env, tf_outputs)

    def selected(self, env: EnvConfig) -> dict[str, Target]:
        """The targets to act on: all, or those named by --only (unknown names are errors)."""
        targets = dict(env.model.targets)
        if not self.options.only:
            return targets
        unknown = [n for n in self.options.only if n not in targets]
        if unknown:
            allowed = ", ".join(targets) or "(none defined)"
            raise BadInput(
                f"--only {' '.join(unknown)}: no such target in "
                f"{self.config.file}; allowed: {allowed}"
            )
        return {n: targets[n] for n in targets if n in self.options.only}

    def guard_protected(self, env: EnvConfig, *, action: str) -> None:
        if env.environment.protected and not self.options.yes:
            raise ProtectedEnvironment(
                f"environment '{env.env}' is protected: {action} needs --yes "
                "(in GitHub Actions, behind an environment with required reviewers)"
            )


def pending_in(value: Any) -> set[str]:
    """The {tf.*} output names still unresolved anywhere inside a config value."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, str):
        return {p[3:] for p in interpolate.placeholders(value) if interpolate.is_tf(p)}
    if isinstance(value, Mapping):
        return set().union(*(pending_in(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(pending_in(v) for v in value)) if value else set()
    return set()
