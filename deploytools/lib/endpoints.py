"""An AWS endpoint that stopped answering (refused, cut, timed out), found in an error's chain,
and the one line that says so and what to do.

Duck-typed on botocore's exceptions (their `kwargs` name the endpoint), so that importing this
module loads no AWS SDK.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unreachable:
    url: str  # the endpoint botocore could not reach
    error: BaseException  # botocore's own exception


def unreachable(exc: BaseException | None) -> Unreachable | None:
    """botocore failing to reach an endpoint, if that is what `exc` was raised from."""
    seen: set[int] = set()
    current = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kwargs = getattr(current, "kwargs", None)
        if type(current).__module__.startswith("botocore") and isinstance(kwargs, dict):
            url = kwargs.get("endpoint_url")
            if url:
                return Unreachable(str(url), current)
        current = current.__cause__ or current.__context__
    return None


def advice(url: str, *, command: str = "the command") -> str:
    return (
        f"the AWS endpoint {url} stopped answering; check that it is running (the sandbox: "
        f"deploytools sandbox status; AWS: this machine's network and any AWS_ENDPOINT_URL "
        f"setting), then run {command} again"
    )


def explained(message: str, exc: BaseException) -> str:
    """`message`, and what to do when an unreachable endpoint caused it."""
    down = unreachable(exc)
    if down is None or "stopped answering" in message:
        return message
    return f"{message}; {advice(down.url)}"


def operation(error: str, down: Unreachable) -> str:
    """What was being done: `error` without botocore's own sentence at its end."""
    return error.removesuffix(f": {down.error}").strip() or str(down.error)
