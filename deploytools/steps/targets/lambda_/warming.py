"""The warm-up of a new version: its URL (e.g. through API Gateway) or an invoke of the alias,
until healthy or the budget is spent."""

from __future__ import annotations

from typing import Any

from botocore.config import Config as BotoConfig

from deploytools.aws import AwsContext
from deploytools.config.model import LambdaTarget
from deploytools.lib.http_probe import Probe, ProbeRun, http_probe, until_healthy
from deploytools.steps.targets import warmup
from deploytools.steps.targets.lambda_.api import FunctionApi


def warm_up(api: FunctionApi, target: LambdaTarget, version: str) -> ProbeRun | None:
    """Probe until healthy; None when the target has no warm-up."""
    settings = target.warmup
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
            _invoke_client(api.aws, settings.budget),
            function=api.function,
            qualifier=target.alias or version,
            body=settings.body,
        )

    def progress(attempt: int, outcome: Probe) -> None:
        if not outcome.healthy:
            api.reporter.progress(
                f"{api.target_name}: warm-up attempt {attempt}: {outcome.description}"
            )

    return until_healthy(
        probe,
        budget=warmup.budget(settings.budget),
        backoff=api.backoff,
        on_attempt=progress,
    )


def _invoke_client(aws: AwsContext, budget: int) -> Any:
    # One attempt per invoke (our loop retries), and room for a cold model load.
    config = aws.boto_config.merge(
        BotoConfig(
            read_timeout=min(max(budget, 60), 900),
            retries={"mode": "standard", "max_attempts": 1},
        )
    )
    return aws.session().client("lambda", endpoint_url=aws.endpoint_for("lambda"), config=config)
