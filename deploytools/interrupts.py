"""Ctrl-C and SIGTERM stop a run the way Terraform expects: once, gracefully, then cleanly.

A CI cancel sends SIGINT (or SIGTERM) to the whole process group. Python's default would
kill a running `terraform apply` 0.25 s after the first Ctrl-C (subprocess.run), or end this
process at once on SIGTERM with no cleanup at all, orphaning Terraform and its provider
plugins and leaving plan files and the sandbox override behind. Instead:

- children run in their own process group, so a group-wide signal does not reach them
  twice (a second interrupt makes Terraform abort without writing its state);
- every child that is running, in any thread, is tracked: the first signal is forwarded to
  each once, as SIGINT, and we wait for them to finish on their own (Terraform completes the
  in-flight operations and writes the state); a second signal forwards a second SIGINT
  (Terraform's own "stop now"); a third kills each child's process group;
- Python delivers signals to the main thread only, so worker threads (concurrent builds,
  target rollouts) learn of the interrupt here: their waits (`sleep`) and checkpoints
  (`check`) raise `Interrupted` as soon as it arrives, and they start no new command;
- in the main thread `Interrupted` propagates, so every `finally` and context manager runs
  its cleanup (which may still run commands and AWS calls); the CLI then waits for commands
  still running in worker threads (`settle`) and exits 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

_state = threading.RLock()  # re-entrant: the handler may run while the main thread holds it
_stop = threading.Event()
_signals: list[int] = []  # the signals received, in order
_children: dict[int, subprocess.Popen[Any]] = {}  # pid -> a running child, any thread's
_forwarded: dict[int, int] = {}  # pid -> how many signals it was sent
_installed = False
_settling = False  # the run has unwound: a signal now only escalates to the children left


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal; cleanup runs as the exception propagates."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def install() -> None:
    """Make SIGTERM (like SIGINT) raise Interrupted in the main thread, forwarded to children."""
    global _installed
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        _installed = True


def _on_signal(signum: int, frame: FrameType | None) -> None:
    with _state:
        _signals.append(signum)
        _stop.set()
        for child in list(_children.values()):
            _escalate(child)
    if not _settling:
        raise Interrupted(signum)


def settle() -> None:
    """At the exit point, after an interrupt and its cleanup: wait for the commands worker
    threads still run (so the interpreter's exit does not wait on those threads unseen);
    further signals now only escalate to those commands."""
    global _settling
    _settling = True
    while True:
        with _state:
            if not _children:
                return
        time.sleep(0.05)


def requested() -> int | None:
    """The first signal received, or None while the run goes on."""
    with _state:
        return _signals[0] if _signals else None


def check() -> None:
    """In a worker thread: raise Interrupted once a signal has arrived (the main thread gets
    its own from the handler, and must stay free to clean up after it)."""
    signum = requested()
    if signum is not None and threading.current_thread() is not threading.main_thread():
        raise Interrupted(signum)


def sleep(seconds: float) -> None:
    """time.sleep that a signal cuts short in every thread (Interrupted)."""
    if threading.current_thread() is threading.main_thread():
        time.sleep(seconds)  # the handler raises here
        return
    if _stop.wait(max(0.0, seconds)):
        check()


def checked(stream: Iterable[T]) -> Iterator[T]:
    """`stream`'s items, with `check` before each: a long Docker push or build (an HTTP
    stream from the engine) stops at its next progress message; closing the stream drops the
    connection, which makes the engine cancel the operation."""
    for item in stream:
        try:
            check()
        except Interrupted:
            close = getattr(stream, "close", None)
            if close is not None:
                with suppress(Exception):
                    close()
            raise
        yield item


@contextmanager
def tracking(child: subprocess.Popen[Any]) -> Iterator[None]:
    """While `child` runs, a signal reaches it (forwarded, escalated) whatever thread waits."""
    with _state:
        _children[child.pid] = child
        if _signals and threading.current_thread() is not threading.main_thread():
            _escalate(child)  # started just as the signal came: it must not run on
    try:
        yield
    finally:
        with _state:
            _children.pop(child.pid, None)
            _forwarded.pop(child.pid, None)


def _escalate(child: subprocess.Popen[Any]) -> None:
    """SIGINT, SIGINT again, then SIGKILL to the child's whole process group."""
    count = _forwarded.get(child.pid, 0) + 1
    _forwarded[child.pid] = count
    with suppress(ProcessLookupError, PermissionError):
        if child.poll() is not None:
            return
        if count <= 2:
            child.send_signal(signal.SIGINT)
        else:
            os.killpg(child.pid, signal.SIGKILL)


def wait_out(child: subprocess.Popen[Any]) -> None:
    """After a signal interrupted us while `child` ran: let it stop on its own (the handler
    forwarded the signal; without the handler, forward it here), escalating on further
    signals. Returns when the child has exited."""
    if not _installed:
        with _state:
            _escalate(child)
    while True:
        try:
            child.communicate(timeout=None)
            return
        except KeyboardInterrupt:
            if not _installed:
                with _state:
                    _escalate(child)
        except ValueError:  # streams already closed by an earlier communicate
            child.wait()
            return


def signal_number(exc: BaseException) -> int:
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
