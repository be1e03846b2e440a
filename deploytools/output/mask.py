"""The process-wide set of secret values: registered before use, redacted from all output."""

from __future__ import annotations

import logging
import threading

from deploytools.output import github

REDACTED = "***"
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Mask `value` everywhere from now on (and in the GitHub Actions log, before it is used)."""
    if not value or len(value) < 3:  # masking 1-2 characters would shred every line
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
    if github.in_actions():
        github.add_mask(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def forget_all() -> None:
    """For tests: start from an empty registry."""
    with _lock:
        _secrets.clear()


class RedactingFilter(logging.Filter):
    """Redacts registered secrets from every log record, whatever the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
