"""botocore's errors in words: the error code, and one line that says where and why.

Duck-typed on `response`, so that importing this module loads no AWS SDK.
"""

from __future__ import annotations


def error_code(exc: BaseException) -> str:
    """A ClientError's code (e.g. "ResourceNotFoundException"); "" for any other error."""
    response = getattr(exc, "response", None)
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


def describe(where: str, exc: BaseException, *, default_code: str = "error") -> str:
    """`where: Code: Message` for a ClientError, `where: exc` for anything else."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return f"{where}: {exc}"
    error = response.get("Error", {})
    code = error.get("Code") or default_code
    return f"{where}: {code}: {error.get('Message', exc)}"
