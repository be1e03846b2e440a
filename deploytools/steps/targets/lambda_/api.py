"""One function's Lambda API: calls retried while the function is busy, waits until an update
has applied, and failures that name the function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from deploytools.aws import AwsContext
from deploytools.lib.aws_errors import describe, error_code
from deploytools.lib.retry import Backoff, retry
from deploytools.output import Reporter
from deploytools.steps.targets.base import TargetFailed

LATEST = "$LATEST"
RETRYABLE = {"ResourceConflictException", "TooManyRequestsException"}


class LambdaUpdateFailed(TargetFailed):
    """Lambda could not apply the new code or configuration (LastUpdateStatus Failed)."""


class FunctionApi:
    """The Lambda calls of one target's function."""

    def __init__(
        self,
        *,
        aws: AwsContext,
        function: str,
        target_name: str,
        timeout: int,
        reporter: Reporter,
        backoff: Backoff,
        polling: Backoff,
    ) -> None:
        self.aws = aws
        self.function = function
        self.target_name = target_name
        self.timeout = timeout  # bounds each wait and each run of retries
        self.reporter = reporter
        self.backoff = backoff  # retries while the function is busy, and the warm-up
        self.polling = polling  # waits for an update to apply

    @property
    def client(self) -> Any:
        return self.aws.client("lambda")

    def call(self, operation: str, *, what: str | None = None, **request: Any) -> Any:
        """One call; a refusal becomes TargetFailed naming `what` (else the operation)."""
        try:
            return getattr(self.client, operation)(**request)
        except ClientError as exc:
            raise self.failed(what or operation, exc) from exc

    def retrying(self, operation: str, **request: Any) -> Any:
        """Call a Lambda API, retrying while another update to the function is in progress."""
        method: Callable[..., Any] = getattr(self.client, operation)

        def busy(exc: Exception) -> bool:
            return isinstance(exc, ClientError) and error_code(exc) in RETRYABLE

        def say(_attempt: int, delay: float, exc: Exception) -> None:
            self.reporter.debug(
                f"{self.target_name}: {operation}: {error_code(exc)}; retrying in {delay:.1f} s"
            )

        try:
            return retry(
                lambda: method(**request),
                backoff=self.backoff,
                transient=busy,
                on_retry=say,
                within=self.timeout,
            )
        except ClientError as exc:
            raise self.failed(operation, exc) from exc

    def wait_updated(
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
            config: dict[str, Any] = self.call("get_function_configuration", **request)
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
            if self.polling.clock() - start > self.timeout:
                raise TargetFailed(
                    f"lambda {self.function}: {what} still {status or state} after "
                    f"{self.timeout} s (targets.{self.target_name}.timeout)"
                )
            self.polling.sleep(self.polling.delay(attempt))

    def failed(self, operation: str, exc: ClientError) -> TargetFailed:
        where = f"lambda {self.function}: {operation}"
        if error_code(exc) == "ResourceNotFoundException":
            message = exc.response.get("Error", {}).get("Message", str(exc))
            return TargetFailed(f"{where}: not found: {message}")
        return TargetFailed(describe(where, exc, default_code="Error"))
