"""The Lambda warm-up: its limits and the invoke probe (lib.http_probe probes a URL).

A cold model load can outlast API Gateway's 29 s integration limit: the first requests time out
(504) while the container loads, later ones succeed. So a warm-up is a series of short attempts,
each capped at 29 s, spaced by growing, jittered delays until one succeeds or the budget ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.lib.http_probe import Budget, Probe, snip
from deploytools.lib.retry import Backoff, Jitter

API_GATEWAY_LIMIT = 29.0  # seconds: API Gateway's maximum integration timeout
BACKOFF = Backoff(first=1.0, cap=20.0, attempts=None, jitter=Jitter.EQUAL)


def budget(seconds: float) -> Budget:
    """A warm-up of `seconds`, each attempt between 1 s and API Gateway's limit."""
    return Budget(seconds=seconds, longest=API_GATEWAY_LIMIT, shortest=1.0)


def invoke_probe(
    client: Any, *, function: str, qualifier: str, body: str | None
) -> Callable[[float], Probe]:
    """A probe that invokes the function version synchronously and wants no FunctionError."""
    payload = (body or "{}").encode("utf-8")

    def probe(_timeout: float) -> Probe:
        try:
            response = client.invoke(
                FunctionName=function, Qualifier=qualifier, Payload=payload, LogType="None"
            )
        except (BotoCoreError, ClientError) as exc:
            return Probe(False, f"invoke {function}:{qualifier}: {exc}")
        text = response["Payload"].read().decode("utf-8", errors="replace")
        status = response.get("StatusCode")
        if response.get("FunctionError"):
            return Probe(
                False,
                f"invoke {function}:{qualifier} → {response['FunctionError']} error: {snip(text)}",
            )
        return Probe(status == 200, f"invoke {function}:{qualifier} → {status}: {snip(text)}")

    return probe
