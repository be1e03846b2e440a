"""Lambda functions: new code (container image by digest, or a deterministic zip), a published
version, the alias moved to it, a warm-up within API Gateway's limit, and the alias moved back
when the warm-up fails.

Terraform creates the function and its alias wiring; deploytools owns the code that runs.
Callers should reach the function through the alias: updating the code changes `$LATEST` at
once, and only the alias is protected by the warm-up and the rollback. When an integration,
event source mapping or function URL invokes the unqualified function (`lambda_callers`),
the deploy says so, and the rollback and the warm-up's undo put `$LATEST`'s code back too.
A version is published only when no published one has the same code and configuration.

Zip packages up to 50 MB (zipped) go in the API call; larger ones need the `code_bucket` input
(an S3 bucket in the function's region, e.g. a Terraform output), where the zip is uploaded
as `deploytools/<function>/<sha256>.zip` first.
"""

from __future__ import annotations

import base64
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.config.model import LambdaTarget
from deploytools.errors import BadInput, DeployError
from deploytools.lib.aws_errors import describe, error_code
from deploytools.lib.ecr_image import ImageAbsent, ImageLookupFailed, stored_image
from deploytools.lib.http_probe import Probe, ProbeRun, http_probe, until_healthy
from deploytools.lib.image_reference import parse_image
from deploytools.lib.retry import Backoff, retry
from deploytools.lib.zip_selection import human_size
from deploytools.output import Reporter, StepRecord, register_secret
from deploytools.steps.targets import lambda_callers, lambda_code_cache, warmup
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed, TargetState
from deploytools.steps.targets.lambda_zip import DIRECT_UPLOAD_LIMIT

LATEST = "$LATEST"
RETRYABLE = {"ResourceConflictException", "TooManyRequestsException"}
PUSH_FIX = "push it first: deploytools build --push"


class ImageNotInEcr(DeployError):
    """The image is not in ECR; Lambda would reject it, so nothing was changed."""


class LambdaUpdateFailed(TargetFailed):
    """Lambda could not apply the new code or configuration (LastUpdateStatus Failed)."""


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
        self.backoff = backoff  # retries while the function is busy, and the warm-up
        self.polling = polling  # waits for an update to apply

    @property
    def client(self) -> Any:
        return self.aws.client("lambda")

    # --- read-only --------------------------------------------------------------------------

    def current(self) -> TargetState | None:
        live = self._live()
        return live[0] if live else None

    def _live(self) -> tuple[TargetState, dict[str, Any]] | None:
        """What runs (behind the alias, else $LATEST), with that version's configuration."""
        alias = self.target.alias
        version = LATEST
        if alias:
            try:
                version = self.client.get_alias(FunctionName=self.function, Name=alias)[
                    "FunctionVersion"
                ]
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise self._failed("get_alias", exc) from exc
        try:
            function = self.client.get_function(FunctionName=self.function, Qualifier=version)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise self._failed("get_function", exc) from exc
        config, code = function["Configuration"], function.get("Code", {})
        names = sorted((config.get("Environment") or {}).get("Variables") or {})
        image = None
        if config.get("PackageType") == "Image":
            image = _published_image(config) or code.get("ImageUri")
        state = TargetState(
            target=self.name,
            type="lambda",
            resource=self.function,
            image=image,
            revision=version,
            detail={
                "alias": alias if version != LATEST else None,
                "code_sha256": config.get("CodeSha256", ""),
                "package_type": config.get("PackageType", "Zip"),
                # Names only: values may be secrets, and the release record is kept in SSM.
                "environment": names,
            },
        )
        if version != LATEST:
            missing = self._missing_on_latest(names)
            if missing:
                state.detail["latest_missing"] = missing
        return state, config

    def _missing_on_latest(self, names: list[str]) -> list[str]:
        """Variables of the served version that $LATEST lost (a Terraform apply that does not
        ignore `environment` strips them; the next publish would lose them too)."""
        try:
            latest = self.client.get_function_configuration(FunctionName=self.function)
        except ClientError as exc:
            raise self._failed("get_function_configuration", exc) from exc
        have = (latest.get("Environment") or {}).get("Variables") or {}
        return [name for name in names if name not in have]

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
        image = inputs.image
        if image is not None:
            self.require_in_ecr(image)  # before Lambda sees it: a missing image is no deploy
        package = inputs.package
        code_sha256 = package.code_sha256 if package else None
        if image is None and package is None:
            raise BadInput(f"targets.{self.name}: a zip target needs its built package")
        live = self._live()
        if live is None:
            raise TargetFailed(
                f"lambda function {self.function} does not exist: "
                "create it with Terraform first (deploytools updates its code)"
            )
        previous, live_config = live
        wanted = "Image" if image is not None else "Zip"
        if previous.detail.get("package_type", wanted) != wanted:
            # Lambda cannot change a function's package type in place.
            raise BadInput(
                f"lambda {self.function} is a {previous.detail['package_type']} function, but "
                f"targets.{self.name} deploys {'an image' if image else 'a zip'}: recreate the "
                f'function with Terraform as package_type = "{wanted}", or change the target'
            )
        if self._already_live(previous, live_config, image, code_sha256, inputs):
            drifted = self._latest_drift(previous, image, code_sha256, inputs)
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
        latest = self._wait_updated("the previous update", settled_is_enough=True)
        callers = self._callers_bypassing_alias()
        if self._latest_has_code(latest, image, code_sha256):
            self.reporter.debug(f"{self.name}: $LATEST already has this code")
        elif image is not None:
            self._retrying("update_function_code", FunctionName=self.function, ImageUri=image)
        else:
            assert package is not None  # checked above: no image means a package
            self._update_zip(package.path, package.code_sha256, inputs.code_bucket)
        if callers:
            record.change(
                f"lambda {self.function}: $LATEST serves this code at once ({callers}); "
                "a rollback moves $LATEST back too"
            )
        try:
            config = self._wait_updated("the new code")
            config = self._update_configuration(config, inputs)
        except LambdaUpdateFailed as exc:
            alias = self.target.alias
            if previous.revision != LATEST and alias:
                # The alias never moved: what ran before still runs.
                raise RolledBack(
                    f"{exc}; alias {alias} still points at version {previous.revision}",
                    previous,
                ) from exc
            raise
        version = self._published_like(config, image)
        if version is None:
            sha = str(code_sha256) if image is None else config["CodeSha256"]
            version = self._publish(sha, image)
            record.change(f"lambda {self.function}: published version {version}")
        else:
            self.reporter.line(
                f"  {self.name}: version {version} already has this code and configuration; "
                "none published"
            )
        if self.target.alias and version != previous.revision:
            self._point_alias(version)
            record.change(f"lambda {self.function}: alias {self.target.alias} → {version}")
        result = self._warm_up(version)
        record.detail.update({"function": self.function, "version": version})
        if result is not None:
            record.detail["warmup"] = {
                "attempts": result.attempts,
                "seconds": round(result.seconds, 1),
            }
            if not result.healthy:
                self._undo(previous, version, result, move_latest=bool(callers))
        state = self.current()
        assert state is not None  # it existed a moment ago and we just published to it
        return state

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
        try:
            self.client.get_function_configuration(
                FunctionName=self.function, Qualifier=state.revision
            )
        except ClientError as exc:
            raise self._failed(f"version {state.revision}", exc) from exc
        self._point_alias(state.revision)
        record.change(f"lambda {self.function}: alias {alias} → {state.revision}")
        callers = self._callers_bypassing_alias()
        if callers:
            self._move_latest_to(state.revision, image=state.image)
            record.change(
                f"lambda {self.function}: $LATEST back on version {state.revision}'s code "
                f"({callers})"
            )
        result = self._warm_up(state.revision)
        if result is not None and not result.healthy:
            raise TargetFailed(
                f"lambda {self.function}: alias {alias} is back on version {state.revision}, "
                f"but its warm-up failed after {result.attempts} attempts: "
                f"{result.last.description}"
            )
        restored = self.current()
        assert restored is not None
        return restored

    # --- steps ------------------------------------------------------------------------------

    def require_in_ecr(self, image: str) -> None:
        try:
            stored_image(self.aws.client("ecr"), parse_image(image))
        except ImageAbsent as exc:
            raise ImageNotInEcr(
                f"{image} is not in ECR ({exc.code}); lambda {self.function} was not "
                f"changed: {PUSH_FIX}"
            ) from exc
        except ImageLookupFailed as exc:
            raise TargetFailed(f"lambda {self.function}: {exc}") from exc
        except ClientError as exc:
            raise self._failed("ecr batch_get_image", exc) from exc

    def _update_zip(self, zip_path: Path, code_sha256: str, bucket: str | None) -> None:
        size = zip_path.stat().st_size
        self.reporter.debug(f"{self.name}: {zip_path.name} is {human_size(size)} zipped")
        if size <= DIRECT_UPLOAD_LIMIT:
            self._retrying(
                "update_function_code", FunctionName=self.function, ZipFile=zip_path.read_bytes()
            )
            return
        if not bucket:
            raise BadInput(
                f"{zip_path} is {human_size(size)} zipped; Lambda takes at most "
                f"{human_size(DIRECT_UPLOAD_LIMIT)} in the API call: pass a code_bucket (an S3 "
                "bucket in the function's region) or exclude more files"
            )
        key = f"deploytools/{self.function}/{base64.b64decode(code_sha256).hex()}.zip"
        try:
            self.aws.client("s3").upload_file(str(zip_path), bucket, key)
        except (ClientError, BotoCoreError) as exc:
            raise TargetFailed(f"uploading {zip_path} to s3://{bucket}/{key}: {exc}") from exc
        self._retrying(
            "update_function_code", FunctionName=self.function, S3Bucket=bucket, S3Key=key
        )

    def _update_configuration(
        self, config: dict[str, Any], inputs: RefreshInputs
    ) -> dict[str, Any]:
        """Environment (and handler) changes, merged onto what Terraform set."""
        update = self._configuration_update(config, inputs)
        if not update:
            return config
        self._retrying("update_function_configuration", FunctionName=self.function, **update)
        return self._wait_updated("the new configuration")

    def _configuration_update(
        self, config: dict[str, Any], inputs: RefreshInputs
    ) -> dict[str, Any]:
        """The update_function_configuration arguments `config` lacks; {} when none."""
        wanted = {**self.target.environment, **inputs.environment}
        if self.target.secrets_in_environment:
            for name, value in (inputs.secret_values or {}).items():
                register_secret(str(value))
                wanted[name] = str(value)
        existing = (config.get("Environment") or {}).get("Variables") or {}
        # Merged, not replaced: Terraform may set variables of its own (table names, buckets).
        merged = {**existing, **wanted}
        update: dict[str, Any] = {}
        if merged != existing:
            update["Environment"] = {"Variables": merged}
        handler = self.target.package.handler if self.target.package else None
        if handler and handler != config.get("Handler"):
            update["Handler"] = handler
        return update

    def _already_live(
        self,
        previous: TargetState,
        config: dict[str, Any],
        image: str | None,
        code_sha256: str | None,
        inputs: RefreshInputs,
    ) -> bool:
        """The live version runs this code with this configuration: a redeploy changes nothing."""
        if previous.revision == LATEST and self.target.alias:
            return False  # the alias does not exist yet
        if image is not None:
            if image != previous.image:
                return False
        elif str(code_sha256) != previous.detail.get("code_sha256"):
            return False
        return not self._configuration_update(config, inputs)

    def _latest_drift(
        self,
        previous: TargetState,
        image: str | None,
        code_sha256: str | None,
        inputs: RefreshInputs,
    ) -> str:
        """How $LATEST differs from what the alias serves ("" when it does not)."""
        if previous.revision == LATEST:
            return ""
        try:
            latest = self.client.get_function_configuration(FunctionName=self.function)
        except ClientError as exc:
            raise self._failed("get_function_configuration", exc) from exc
        drift = []
        if not self._latest_has_code(latest, image, code_sha256):
            drift.append("code")
        update = self._configuration_update(latest, inputs)
        if "Environment" in update:
            have = (latest.get("Environment") or {}).get("Variables") or {}
            wanted = update["Environment"]["Variables"]
            changed = sorted(k for k in wanted if have.get(k) != wanted[k])
            drift.append(f"environment {', '.join(changed)}")
        if "Handler" in update:
            drift.append("handler")
        return "; ".join(drift)

    def _publish(self, code_sha256: str, image: str | None) -> str:
        description = f"deploytools: {image or 'zip ' + code_sha256}"[:256]
        try:
            published = self._retrying(
                "publish_version",
                FunctionName=self.function,
                CodeSha256=code_sha256,
                Description=description,
            )
        except TargetFailed as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, ClientError)
                and error_code(cause) == "PreconditionFailedException"
            ):
                raise TargetFailed(
                    f"lambda {self.function}: its code changed while deploying (another deploy?); "
                    "nothing was published"
                ) from exc
            raise
        version = str(published["Version"])
        self._wait_updated(f"version {version}", qualifier=version)
        return version

    def _point_alias(self, version: str) -> None:
        alias = self.target.alias
        assert alias
        try:
            self.client.update_alias(
                FunctionName=self.function, Name=alias, FunctionVersion=version
            )
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                self._retrying(
                    "create_alias", FunctionName=self.function, Name=alias, FunctionVersion=version
                )
                return
            if error_code(exc) in RETRYABLE:
                self._retrying(
                    "update_alias", FunctionName=self.function, Name=alias, FunctionVersion=version
                )
                return
            raise self._failed("update_alias", exc) from exc

    def _warm_up(self, version: str) -> ProbeRun | None:
        settings = self.target.warmup
        if settings is None:
            return None
        if settings.url:
            probe = http_probe(
                settings.url,
                method=settings.method,
                body=settings.body,
                expect_status=settings.expect_status,
            )
        else:
            probe = warmup.invoke_probe(
                self._invoke_client(settings.budget),
                function=self.function,
                qualifier=self.target.alias or version,
                body=settings.body,
            )

        def progress(attempt: int, outcome: Probe) -> None:
            if not outcome.healthy:
                self.reporter.progress(
                    f"{self.name}: warm-up attempt {attempt}: {outcome.description}"
                )

        return until_healthy(
            probe,
            budget=warmup.budget(settings.budget),
            backoff=self.backoff,
            on_attempt=progress,
        )

    def _invoke_client(self, budget: int) -> Any:
        # One attempt per invoke (our loop retries), and room for a cold model load.
        config = self.aws.boto_config.merge(
            BotoConfig(
                read_timeout=min(max(budget, 60), 900),
                retries={"mode": "standard", "max_attempts": 1},
            )
        )
        return self.aws.session().client(
            "lambda", endpoint_url=self.aws.endpoint_for("lambda"), config=config
        )

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
            self._retrying("delete_alias", FunctionName=self.function, Name=alias)
            raise TargetFailed(f"{why}; alias {alias} was new and has been deleted again")
        self._point_alias(previous.revision)
        self.reporter.info(f"  ↺ {self.name}: alias {alias} back on version {previous.revision}")
        if move_latest:
            self._move_latest_to(previous.revision, image=previous.image)
            self.reporter.info(
                f"  ↺ {self.name}: $LATEST back on version {previous.revision}'s code"
            )
        restored = self.current()
        raise RolledBack(
            f"{why}; alias {alias} points back at version {previous.revision}", restored or previous
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

    def _latest_has_code(self, latest: dict[str, Any], image: str | None, sha: str | None) -> bool:
        """$LATEST (whose configuration is `latest`) already runs this image or zip."""
        if image is None:
            return sha is not None and sha == latest.get("CodeSha256")
        try:
            code = self.client.get_function(FunctionName=self.function).get("Code", {})
        except ClientError as exc:
            raise self._failed("get_function", exc) from exc
        return image in (code.get("ImageUri"), code.get("ResolvedImageUri"))

    def _published_like(self, config: dict[str, Any], image: str | None) -> str | None:
        """The newest published version with $LATEST's code and configuration, if any."""
        wanted = _fingerprint(config)
        found: list[int] = []
        try:
            pages = self.client.get_paginator("list_versions_by_function").paginate(
                FunctionName=self.function
            )
            for page in pages:
                for version in page.get("Versions", []):
                    number = str(version.get("Version"))
                    if number == LATEST or _fingerprint(version) != wanted:
                        continue
                    named = _published_image(version)
                    if image is not None and named is not None and named != image:
                        continue
                    found.append(int(number))
        except ClientError as exc:
            raise self._failed("list_versions_by_function", exc) from exc
        return str(max(found)) if found else None

    def _move_latest_to(self, version: str, *, image: str | None) -> None:
        """Give $LATEST the code and environment of a published version."""
        try:
            function = self.client.get_function(FunctionName=self.function, Qualifier=version)
        except ClientError as exc:
            raise self._failed(f"version {version}", exc) from exc
        config, code = function["Configuration"], function.get("Code", {})
        latest = self._wait_updated("the previous update", settled_is_enough=True)
        if not self._latest_has_code(latest, image, config.get("CodeSha256")):
            if config.get("PackageType") == "Image":
                uri = image or _published_image(config) or code.get("ImageUri")
                self._retrying("update_function_code", FunctionName=self.function, ImageUri=uri)
            else:
                zipped = lambda_code_cache.load(self.function, str(config["CodeSha256"]))
                if zipped is None:
                    zipped = self._download(code, version)
                self._retrying("update_function_code", FunctionName=self.function, ZipFile=zipped)
            latest = self._wait_updated(f"$LATEST back on version {version}'s code")
        environment = (config.get("Environment") or {}).get("Variables") or {}
        if environment != ((latest.get("Environment") or {}).get("Variables") or {}):
            self._retrying(
                "update_function_configuration",
                FunctionName=self.function,
                Environment={"Variables": environment},
            )
            self._wait_updated(f"$LATEST back on version {version}'s configuration")

    def _download(self, code: dict[str, Any], version: str) -> bytes:
        """A version's zip from the URL Lambda gives for it (AWS only: an emulator's URL
        names AWS's own hosts, which this run must not reach)."""
        location = str(code.get("Location") or "")
        if self.aws.endpoint_for("lambda") is None and location.startswith("https://"):
            with urllib.request.urlopen(location, timeout=60) as answer:  # noqa: S310 (https only)
                data: bytes = answer.read()
                return data
        raise TargetFailed(
            f"lambda {self.function}: the alias is back on version {version}, but $LATEST "
            f"still runs the newer code: version {version}'s zip is not in this machine's "
            "deploytools cache and Lambda gives no URL to fetch it; redeploy that commit"
        )

    # --- helpers ----------------------------------------------------------------------------

    def _wait_updated(
        self, what: str, *, qualifier: str | None = None, settled_is_enough: bool = False
    ) -> dict[str, Any]:
        """Poll until Lambda has applied the last change (LastUpdateStatus Successful).

        With `settled_is_enough`, a Failed earlier update also ends the wait: a new deploy may
        follow a failed one."""
        request: dict[str, Any] = {"FunctionName": self.function}
        if qualifier:
            request["Qualifier"] = qualifier
        start = self.polling.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                config: dict[str, Any] = self.client.get_function_configuration(**request)
            except ClientError as exc:
                raise self._failed("get_function_configuration", exc) from exc
            state, status = config.get("State"), config.get("LastUpdateStatus")
            if state == "Failed":
                raise LambdaUpdateFailed(
                    f"lambda {self.function}: {what} failed: State Failed: "
                    f"{config.get('StateReasonCode', '')} {config.get('StateReason', '')}".rstrip()
                )
            if status == "Failed" and settled_is_enough:
                return config
            if status == "Failed":
                raise LambdaUpdateFailed(
                    f"lambda {self.function}: {what} failed: "
                    f"{config.get('LastUpdateStatusReasonCode', '')} "
                    f"{config.get('LastUpdateStatusReason', '')}".rstrip()
                )
            if status in (None, "Successful") and state != "Pending":
                return config
            if self.polling.clock() - start > self.target.timeout:
                raise TargetFailed(
                    f"lambda {self.function}: {what} still {status or state} after "
                    f"{self.target.timeout} s (targets.{self.name}.timeout)"
                )
            self.polling.sleep(self.polling.delay(attempt))

    def _retrying(self, operation: str, **request: Any) -> Any:
        """Call a Lambda API, retrying while another update to the function is in progress."""
        method: Callable[..., Any] = getattr(self.client, operation)

        def busy(exc: Exception) -> bool:
            return isinstance(exc, ClientError) and error_code(exc) in RETRYABLE

        def say(_attempt: int, delay: float, exc: Exception) -> None:
            self.reporter.debug(
                f"{self.name}: {operation}: {error_code(exc)}; retrying in {delay:.1f} s"
            )

        try:
            return retry(
                lambda: method(**request),
                backoff=self.backoff,
                transient=busy,
                on_retry=say,
                within=self.target.timeout,
            )
        except ClientError as exc:
            raise self._failed(operation, exc) from exc

    def _failed(self, operation: str, exc: ClientError) -> TargetFailed:
        where = f"lambda {self.function}: {operation}"
        if error_code(exc) == "ResourceNotFoundException":
            message = exc.response.get("Error", {}).get("Message", str(exc))
            return TargetFailed(f"{where}: not found: {message}")
        return TargetFailed(describe(where, exc, default_code="Error"))


def _fingerprint(config: dict[str, Any]) -> tuple[object, ...]:
    """What makes two versions serve the same: code and the configuration deploytools sets."""
    environment = (config.get("Environment") or {}).get("Variables") or {}
    return (
        config.get("CodeSha256"),
        tuple(sorted(environment.items())),
        config.get("Handler"),
        config.get("Runtime"),
    )


def _published_image(config: dict[str, Any]) -> str | None:
    """The image a version was published with, from the description `_publish` gives it.

    A version's description never changes, so this names exactly what that version runs.
    (AWS also reports it as the version's Code.ImageUri; moto reports the function's latest
    image for every version, which would make every old version look current.)
    """
    description = str(config.get("Description") or "")
    prefix = "deploytools: "
    if description.startswith(prefix) and "@sha256:" in description:
        return description[len(prefix) :]
    return None
