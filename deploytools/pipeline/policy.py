"""Where the run is going: AWS, or the sandbox, which lacks some things and reaches only
loopback. One policy object answers every such question, so no step branches on the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Protocol
from urllib.parse import urlsplit

from deploytools.config.model import LambdaTarget, Target
from deploytools.errors import Unavailable
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.terraform.port import SandboxState


class RunPolicy(Protocol):
    @property
    def seeds_secrets(self) -> bool:
        """Missing required secrets get generated placeholders instead of stopping the run."""
        ...

    def lacks(self, component: str) -> str | None:
        """Why this run cannot use `component` (docker, registry, terraform, amplify, …)."""
        ...

    def reachable(self, url: str) -> bool: ...

    def skip_or_raise(self, exc: Unavailable, record: StepRecord) -> None:
        """A missing tool: skip the step and say why, or stop the run."""
        ...

    def runnable(self, target: Target, reporter: Reporter) -> Target:
        """The target without what this run cannot call (a warm-up it cannot reach)."""
        ...

    def terraform_state(self, project: str, env: str) -> SandboxState | None:
        """Where Terraform keeps this run's state when not in the root's own backend."""
        ...


class AwsPolicy:
    """Against AWS: nothing is lacking, everything is reachable, a missing tool stops."""

    seeds_secrets = False

    def lacks(self, component: str) -> str | None:
        return None

    def reachable(self, url: str) -> bool:
        return True

    def skip_or_raise(self, exc: Unavailable, record: StepRecord) -> None:
        raise exc

    def runnable(self, target: Target, reporter: Reporter) -> Target:
        return target

    def terraform_state(self, project: str, env: str) -> SandboxState | None:
        return None


@dataclass(frozen=True)
class SandboxPolicy:
    """The sandbox: what it lacks is skipped and named, never pretended."""

    # Components this machine lacks: name -> one line saying how to install it.
    missing: Mapping[str, str] = field(default_factory=dict)
    seeds_secrets: bool = True

    def lacks(self, component: str) -> str | None:
        if component in self.missing:
            return f"sandbox has no {component}: {self.missing[component]}"
        return None

    def reachable(self, url: str) -> bool:
        return is_loopback(url)

    def skip_or_raise(self, exc: Unavailable, record: StepRecord) -> None:
        record.status, record.summary = Status.SKIPPED, str(exc)

    def runnable(self, target: Target, reporter: Reporter) -> Target:
        return loopback_only(target, reporter)

    def terraform_state(self, project: str, env: str) -> SandboxState | None:
        from deploytools.sandbox.state import terraform_dir

        return SandboxState(state_dir=terraform_dir() / project / env)


def is_loopback(url: str) -> bool:
    """The sandbox sends traffic to loopback only: its stand-ins serve nothing elsewhere."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_only(target: Target, reporter: Reporter) -> Target:
    """A target whose warm-up the sandbox cannot serve is refreshed without that call: a URL
    off loopback, or a Lambda invoke (moto runs a function by pulling its image or a runtime
    image from a registry, and the sandbox has no way out to one)."""
    if not isinstance(target, LambdaTarget):
        return target
    warmup = target.warmup
    if warmup is None or (warmup.url is not None and is_loopback(warmup.url)):
        return target
    if warmup.url is None:
        reporter.line("  warm-up by invoke: skipped in the sandbox (moto cannot run the function)")
    else:
        reporter.line(f"  warm-up {warmup.url}: skipped in the sandbox (not a loopback address)")
    return target.model_copy(update={"warmup": None})
