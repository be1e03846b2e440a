"""The process-wide set of secret values: registered before use, redacted from all output."""

from __future__ import annotations

import logging
import threading

from deploytools.output import github

REDACTED = "***"
MIN_MASKED_LENGTH = 4  # masking 1-3 characters would shred every line ("WEB_COM***E")
_lock = threading.Lock()
_secrets: set[str] = set()
_too_short_said = False
log = logging.getLogger(__name__)


def register_secret(value: str) -> None:
    """Mask `value` everywhere from now on (and in the GitHub Actions log, before it is used).

    Only secret values belong here: GitHub cannot unmask a value once masked, so a word that
    is not secret would be hidden from every later line of the run.
    """
    global _too_short_said
    if not value:
        return
    if len(value) < MIN_MASKED_LENGTH:
        with _lock:
            said, _too_short_said = _too_short_said, True
        if not said:
            log.warning(
                "a secret value is shorter than %d characters and is not masked "
                "(masking it would garble every line that contains those characters): "
                "use a longer secret",
                MIN_MASKED_LENGTH,
            )
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
    global _too_short_said
    with _lock:
        _secrets.clear()
        _too_short_said = False


class RedactingFilter(logging.Filter):
    """Redacts registered secrets from every log record, whatever the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
