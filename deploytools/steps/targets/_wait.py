"""How the target waits poll: after 2 s, then 1.5 times longer each time, never more than 15 s."""

from __future__ import annotations

from deploytools.lib.retry import Backoff

# A deadline (the target's timeout) bounds these polls, not a number of tries.
DEFAULT_POLLING = Backoff(first=2.0, factor=1.5, cap=15.0, attempts=None)
# Every 2 s, for waits that report each change of state as it happens.
STATUS_POLLING = Backoff(first=2.0, factor=1.0, attempts=None)
