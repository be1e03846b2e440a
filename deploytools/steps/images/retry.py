"""Which registry and Docker errors deserve a retry (lib.retry does the retrying).

A registry that answers 5xx, resets the connection or times out may well succeed a moment
later; one that says 401/403/404, `denied` or `name unknown` will say it again, so we stop
at once and show its reason.
"""

from __future__ import annotations

import re

_PERMANENT = re.compile(
    r"\b(401|403|404)\b|unauthori[sz]ed|denied|forbidden|name unknown|name_unknown|"
    r"authentication required|no basic auth credentials|manifest invalid|tag invalid|"
    r"repository .* not found|requested access to the resource"
)
_TRANSIENT = re.compile(
    r"\b(5\d\d)\b|\b429\b|internal server error|bad gateway|service unavailable|unavailable|"
    r"gateway timeout|too ?many ?requests|connection reset|connection refused|broken pipe|"
    r"connection aborted|time(d)? ?out|deadline exceeded|\beof\b|tls handshake|"
    r"temporary failure|try again"
)


def is_transient(message: str) -> bool:
    """True for errors worth retrying; permanent markers win over transient ones."""
    text = message.lower()
    if _PERMANENT.search(text):
        return False
    return _TRANSIENT.search(text) is not None
