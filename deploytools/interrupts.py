"""Ctrl-C and SIGTERM stop a run the way Terraform expects: once, gracefully, then cleanly.

A CI cancel sends SIGINT (or SIGTERM) to the whole process group. Python's default would
kill a running `terraform apply` 0.25 s after the first Ctrl-C (subprocess.run), or end this
process at once on SIGTERM with no cleanup at all, orphaning Terraform and its provider
plugins and leaving plan files and the sandbox override behind. Instead:

- children run in their own process group, so a group-wide signal does not reach them
  twice (a second interrupt makes Terraform abort without writing its state);
- the first signal is forwarded once, as SIGINT, and we wait for the child to finish on its
  own (Terraform completes the in-flight operations and writes the state);
- a second signal forwards a second SIGINT (Terraform's own "stop now"); a third kills;
- then `Interrupted` propagates, so every `finally` and context manager runs its cleanup,
  and the CLI exits 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import signal
import subprocess
import threading
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal; cleanup runs as the exception propagates."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def install() -> None:
    """Make SIGTERM (like SIGINT) raise Interrupted in the main thread."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)
        signal.signal(signal.SIGINT, _raise)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def wait_out(child: subprocess.Popen[str]) -> None:
    """After a signal interrupted us while `child` ran: forward it, wait for the child to stop
    on its own, escalate on further signals. Returns when the child has exited."""
    signals = 1
    child.send_signal(signal.SIGINT)
    while True:
        try:
            child.communicate(timeout=None)
            return
        except KeyboardInterrupt:
            signals += 1
            if signals == 2:
                child.send_signal(signal.SIGINT)
            else:
                child.kill()
        except ValueError:  # streams already closed by an earlier communicate
            child.wait()
            return


def signal_number(exc: BaseException) -> int:
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
