"""Where the run is going: AWS, or the sandbox, which lacks some things and reaches only
loopback. One policy object answers every such question, so no step branches on the sandbox.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Protocol
from urllib.parse import urlsplit

from deploytools.config.model import LambdaTarget, Target
from deploytools.errors import Unavailable
from deploytools.output import Reporter, Status, StepRecord
from deploytools.steps.terraform.port import SandboxState

# The Python of every Lambda runtime stand-in the sandbox runs zip functions in
# (scripts/base-images makes them from Debian bookworm, whose Python is 3.11).
SANDBOX_LAMBDA_PYTHON = "python3.11"


class RunPolicy(Protocol):
    @property
    def seeds_secrets(self) -> bool:
        """Missing required secrets get generated placeholders instead of stopping the run."""
        ...

    @property
    def simulates(self) -> bool:
        """A target this run cannot deploy is recorded as simulated, not merely skipped."""
        ...

    def lacks(self, component: str) -> str | None:
        """Why this run cannot use `component` (docker, registry, terraform, amplify, …)."""
        ...

    def reachable(self, url: str) -> bool: ...

    def served_at(self, url: str, reporter: Reporter) -> str | None:
        """Where this run calls `url`: itself, a loopback URL serving it, or None (not served)."""
        ...

    def skip_or_raise(self, exc: Unavailable, record: StepRecord) -> None:
        """A missing tool: skip the step and say why, or stop the run."""
        ...

    def runnable(self, target: Target, reporter: Reporter) -> Target:
        """The target without what this run cannot call (a warm-up it cannot reach)."""
        ...

    def package_runtime(self, runtime: str) -> str:
        """The runtime a zip's requirements are installed for: the function's own, except
        where the functions run on another Python (the sandbox's stand-ins)."""
        ...

    def terraform_state(self, project: str, env: str) -> SandboxState | None:
        """Where Terraform keeps this run's state when not in the root's own backend."""
        ...


class AwsPolicy:
    """Against AWS: nothing is lacking, everything is reachable, a missing tool stops."""

    seeds_secrets = False
    simulates = False

    def lacks(self, component: str) -> str | None:
        return None

    def reachable(self, url: str) -> bool:
        return True

    def served_at(self, url: str, reporter: Reporter) -> str | None:
        return url

    def skip_or_raise(self, exc: Unavailable, record: StepRecord) -> None:
        raise exc

    def runnable(self, target: Target, reporter: Reporter) -> Target:
        return target

    def package_runtime(self, runtime: str) -> str:
        return runtime

    def terraform_state(self, project: str, env: str) -> SandboxState | None:
        return None


@dataclass(frozen=True)
class SandboxPolicy:
    """The sandbox: what it lacks is skipped and named, never pretended; what it serves on
    loopback (API Gateway's execute-api URLs) is called there."""

    # Components this machine lacks: name -> one line saying how to install it.
    missing: Mapping[str, str] = field(default_factory=dict)
    seeds_secrets: bool = True
    simulates: bool = True
    # The loopback base URL of the sandbox's API Gateway server (None: it serves no API).
    api_base: str | None = None
    _said: set[str] = field(default_factory=set, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def lacks(self, component: str) -> str | None:
        if component in self.missing:
            return f"sandbox has no {component}: {self.missing[component]}"
        return None

    def reachable(self, url: str) -> bool:
        return is_loopback(url) or self._loopback(url) is not None

    def served_at(self, url: str, reporter: Reporter) -> str | None:
        if is_loopback(url):
            return url
        served = self._loopback(url)
        if served is None:
            return None
        origin, base = _origin(url), _origin(served)
        with self._lock:
            first = origin not in self._said
            self._said.add(origin)
        if first:
            reporter.line(f"sandbox: {origin} is served at {base}")
        return served

    def skip_or_raise(self, exc: Unavailable, record: StepRecord) -> None:
        record.status, record.summary = Status.SKIPPED, str(exc)

    def runnable(self, target: Target, reporter: Reporter) -> Target:
        return loopback_only(target, reporter, self)

    def package_runtime(self, runtime: str) -> str:
        return SANDBOX_LAMBDA_PYTHON

    def terraform_state(self, project: str, env: str) -> SandboxState | None:
        from deploytools.sandbox.state import terraform_dir

        return SandboxState(state_dir=terraform_dir() / project / env)

    def _loopback(self, url: str) -> str | None:
        from deploytools.sandbox.apigateway import loopback_url

        return loopback_url(url, self.api_base) if self.api_base else None


def _origin(url: str) -> str:
    """scheme://host[:port] of `url`, and the path prefix that names an API on loopback."""
    parts = urlsplit(url)
    if is_loopback(url):
        api = parts.path.strip("/").split("/", 1)[0]
        return f"{parts.scheme}://{parts.netloc}/{api}"
    return f"{parts.scheme}://{parts.netloc}"


def is_loopback(url: str) -> bool:
    """The sandbox sends traffic to loopback only: its stand-ins serve nothing elsewhere."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_only(target: Target, reporter: Reporter, policy: RunPolicy) -> Target:
    """A Lambda warm-up by URL is called where the sandbox serves it; one it does not serve
    (an address off loopback that no sandbox server answers) is left out, and said so."""
    if not isinstance(target, LambdaTarget):
        return target
    warmup = target.warmup
    if warmup is None or warmup.url is None:
        return target  # an invoke warm-up runs the function's container in the sandbox
    served = policy.served_at(warmup.url, reporter)
    if served == warmup.url:
        return target
    if served is None:
        reporter.line(simulated(f"warm-up {warmup.url}", NOT_SERVED))
        return target.model_copy(update={"warmup": None})
    return target.model_copy(update={"warmup": warmup.model_copy(update={"url": served})})


NOT_SERVED = "not a loopback address, and no sandbox server answers it"


def simulated(what: str, why: str) -> str:
    """The one wording of what the sandbox did not execute, and why."""
    return f"simulated: {what} was not executed ({why})"
