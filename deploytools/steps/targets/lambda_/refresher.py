"""One Lambda target: what runs, what a deploy would change, the deploy, and the restore."""

from __future__ import annotations

from typing import Any

from deploytools.aws import AwsContext
from deploytools.config.model import LambdaTarget
from deploytools.errors import BadInput
from deploytools.lib.http_probe import ProbeRun
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter, StepRecord
from deploytools.steps.targets import lambda_callers, lambda_code_cache, warmup
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed, TargetState
from deploytools.steps.targets.lambda_.api import LATEST, FunctionApi, LambdaUpdateFailed
from deploytools.steps.targets.lambda_.drift import already_live, latest_drift, latest_has_code
from deploytools.steps.targets.lambda_.live import Live, read_live
from deploytools.steps.targets.lambda_.updates import (
    require_in_ecr,
    update_configuration,
    update_zip,
)
from deploytools.steps.targets.lambda_.versions import (
    move_latest_to,
    point_alias,
    publish,
    published_like,
)
from deploytools.steps.targets.lambda_.warming import warm_up


class Refresher:
    """One Lambda target; constructed by `refresher_for`."""

    def __init__(
        self,
        name: str,
        target: LambdaTarget,
        *,
        aws: AwsContext,
        reporter: Reporter,
        backoff: Backoff = warmup.BACKOFF,
        polling: Backoff = STATUS_POLLING,
        **_context: Any,  # the pipeline may pass more context than a Lambda needs
    ) -> None:
        if not target.function:
            raise BadInput(f"targets.{name}.function is unresolved: load the environment's config")
        self.name = name
        self.target = target
        self.function = target.function
        self.aws = aws
        self.reporter = reporter
        self.api = FunctionApi(
            aws=aws,
            function=target.function,
            target_name=name,
            timeout=target.timeout,
            reporter=reporter,
            backoff=backoff,
            polling=polling,
        )
        self._read: Live | None = None

    # --- read-only --------------------------------------------------------------------------

    def current(self) -> TargetState | None:
        # Kept for the refresh that follows (the pipeline reads the state right before it).
        self._read = read_live(self.api, name=self.name, alias=self.target.alias)
        return self._read.state if self._read else None

    def describe_change(self, image: str | None) -> str:
        now = self.current()
        new = image or "a new zip package"
        if now is None:
            return f"lambda {self.function}: does not exist yet (Terraform creates it) → {new}"
        old = now.image or f"zip {now.detail.get('code_sha256', '')[:12]}"
        where = (
            f"{self.target.alias} → version {now.revision}" if now.detail.get("alias") else LATEST
        )
        if image is not None and image == now.image:
            return f"lambda {self.function}: unchanged ({old}, {where})"
        return f"lambda {self.function}: {old} ({where}) → {new}"

    # --- changes ----------------------------------------------------------------------------

    def refresh(self, inputs: RefreshInputs, record: StepRecord) -> TargetState:
        image, package = inputs.image, inputs.package
        if image is None and package is None:
            raise BadInput(f"targets.{self.name}: a zip target needs its built package")
        code_sha256 = package.code_sha256 if package else None
        live, self._read = self._read, None  # what current() has just read, used once
        if live is None:
            live = read_live(self.api, name=self.name, alias=self.target.alias)
        if image is not None and (live is None or live.state.image != image):
            # A new image must be in ECR before Lambda sees it (one the alias serves already is).
            require_in_ecr(self.api, image)
        if live is None:
            raise TargetFailed(
                f"lambda function {self.function} does not exist: "
                "create it with Terraform first (deploytools updates its code)"
            )
        previous = live.state
        wanted = "Image" if image is not None else "Zip"
        if previous.detail.get("package_type", wanted) != wanted:
            # Lambda cannot change a function's package type in place.
            raise BadInput(
                f"lambda {self.function} is a {previous.detail['package_type']} function, but "
                f"targets.{self.name} deploys {'an image' if image else 'a zip'}: recreate the "
                f'function with Terraform as package_type = "{wanted}", or change the target'
            )
        if already_live(self.target, live, inputs):
            drifted = latest_drift(self.target, live, inputs)
            if not drifted:
                record.detail.update({"function": self.function, "version": previous.revision})
                return previous
            # Terraform (or a hand edit) changed $LATEST under the alias: put it back; the
            # alias's version already has this code and configuration, so none is published.
            record.change(
                f"lambda {self.function}: $LATEST had drifted from version {previous.revision} "
                f"({drifted}); put back"
            )
        if package is not None:  # kept even when Lambda has it: a rollback may need it back
            lambda_code_cache.keep(self.function, package.code_sha256, package.path)
        latest = self.api.wait_updated("the previous update", settled_is_enough=True)
        callers = self._callers_bypassing_alias()
        if latest_has_code(self.api, latest, image, code_sha256):
            self.reporter.debug(f"{self.name}: $LATEST already has this code")
        elif image is not None:
            self.api.retrying("update_function_code", FunctionName=self.function, ImageUri=image)
        else:
            assert package is not None  # checked above: no image means a package
            update_zip(self.api, package.path, package.code_sha256, inputs.code_bucket)
        if callers:
            said = (
                f"$LATEST serves this code at once ({callers}); a rollback moves $LATEST back too"
            )
            record.change(f"lambda {self.function}: {said}")
            self.reporter.info(f"  {self.name}: {said}")
        try:
            config = self.api.wait_updated("the new code")
            config = update_configuration(self.api, self.target, config, inputs)
        except LambdaUpdateFailed as exc:
            alias = self.target.alias
            if previous.revision != LATEST and alias:
                # The alias never moved: what ran before still runs.
                raise RolledBack(
                    f"{exc}; alias {alias} still points at version {previous.revision}",
                    previous,
                ) from exc
            raise
        version = published_like(self.api, config, image)
        if version is None:
            sha = str(code_sha256) if image is None else config["CodeSha256"]
            version = publish(self.api, sha, image)
            record.change(f"lambda {self.function}: published version {version}")
        else:
            self.reporter.line(
                f"  {self.name}: version {version} already has this code and configuration; "
                "none published"
            )
        if self.target.alias and version != previous.revision:
            point_alias(self.api, self.target.alias, version)
            record.change(f"lambda {self.function}: alias {self.target.alias} → {version}")
        result = warm_up(self.api, self.target, version)
        record.detail.update({"function": self.function, "version": version})
        if result is not None:
            record.detail["warmup"] = {
                "attempts": result.attempts,
                "seconds": round(result.seconds, 1),
            }
            if not result.healthy:
                self._undo(previous, version, result, move_latest=bool(callers))
        return self._now()

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        alias = self.target.alias
        if not alias:
            raise TargetFailed(
                f"targets.{self.name} has no alias: nothing to point at {state.revision}"
            )
        if state.revision == LATEST:
            raise TargetFailed(
                f"lambda {self.function}: the recorded state has no published version"
            )
        self.api.call(
            "get_function_configuration",
            what=f"version {state.revision}",
            FunctionName=self.function,
            Qualifier=state.revision,
        )
        point_alias(self.api, alias, state.revision)
        record.change(f"lambda {self.function}: alias {alias} → {state.revision}")
        callers = self._callers_bypassing_alias()
        if callers:
            move_latest_to(self.api, state.revision, image=state.image)
            said = f"$LATEST back on version {state.revision}'s code ({callers})"
            record.change(f"lambda {self.function}: {said}")
            self.reporter.info(f"  ↺ {self.name}: {said}")
        result = warm_up(self.api, self.target, state.revision)
        if result is not None and not result.healthy:
            raise TargetFailed(
                f"lambda {self.function}: alias {alias} is back on version {state.revision}, "
                f"but its warm-up failed after {result.attempts} attempts: "
                f"{result.last.description}"
            )
        return self._now()

    # --- helpers ----------------------------------------------------------------------------

    def _now(self) -> TargetState:
        """The state after a change (the function existed a moment ago)."""
        live = read_live(self.api, name=self.name, alias=self.target.alias)
        assert live is not None
        return live.state

    def _undo(
        self,
        previous: TargetState,
        version: str,
        result: ProbeRun,
        *,
        move_latest: bool = False,
    ) -> None:
        alias = self.target.alias
        why = (
            f"lambda {self.function}: version {version} did not warm up: {result.attempts} "
            f"attempts in {result.seconds:.0f} s, last: {result.last.description}"
        )
        if not alias:
            raise TargetFailed(f"{why}; no alias is configured, so nothing was moved back")
        if previous.revision == LATEST:
            # No alias before this deploy: remove it rather than leave it on a broken version.
            self.api.retrying("delete_alias", FunctionName=self.function, Name=alias)
            raise TargetFailed(f"{why}; alias {alias} was new and has been deleted again")
        point_alias(self.api, alias, previous.revision)
        self.reporter.info(f"  ↺ {self.name}: alias {alias} back on version {previous.revision}")
        if move_latest:
            move_latest_to(self.api, previous.revision, image=previous.image)
            self.reporter.info(
                f"  ↺ {self.name}: $LATEST back on version {previous.revision}'s code"
            )
        restored = read_live(self.api, name=self.name, alias=alias)
        raise RolledBack(
            f"{why}; alias {alias} points back at version {previous.revision}",
            restored.state if restored else previous,
        )

    def _callers_bypassing_alias(self) -> str:
        """What invokes $LATEST rather than the alias, in words; "" when nothing does."""
        report = lambda_callers.read_callers(self.aws, self.function)
        for why in report.unread:
            self.reporter.debug(f"{self.name}: callers not read: {why}")
        bypassing = report.bypassing
        if bypassing and self.target.alias:
            self.reporter.warn(
                f"lambda {self.function}: {'; '.join(c.describe() for c in bypassing)}: "
                f"point it at alias {self.target.alias} so rollbacks and warm-ups protect "
                "it (DT011)"
            )
        return "; ".join(c.describe() for c in bypassing)
