"""The one gateway to subprocesses: list arguments, logged, checked explicitly."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from deploytools import interrupts
from deploytools.errors import BadInput, CommandFailed, CommandTimedOut

log = logging.getLogger(__name__)

DEVNULL = subprocess.DEVNULL
Stream = IO[bytes] | int | None  # a file, DEVNULL, or None to inherit this process's


def run(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    timeout: float | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command; `env` is added to the current environment, never a shell string."""
    argv = [str(a) for a in args]
    interrupts.check()  # a worker thread starts nothing once the run is interrupted
    log.debug("run: %s (cwd=%s)", " ".join(argv), cwd or ".")
    try:
        # Its own process group: a signal sent to ours reaches the child only as
        # deploytools/interrupts.py forwards it, exactly once per signal.
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env=_full_env(env),
            stdin=subprocess.PIPE if input is not None else None,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            text=True,
            process_group=0,
        )
    except FileNotFoundError as exc:
        raise BadInput(f"{argv[0]} is not installed or not on PATH") from exc
    with interrupts.tracking(child):
        try:
            stdout, stderr = child.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            child.kill()
            child.communicate()
            raise CommandTimedOut(argv, exc.timeout) from exc
        except KeyboardInterrupt:  # Interrupted (SIGTERM) included
            interrupts.wait_out(child)
            raise
    interrupts.check()  # in a worker: the child ended because the run was interrupted
    result = subprocess.CompletedProcess(argv, child.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stderr or "")
    return result


def spawn(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: Stream = None,
    stdout: Stream = None,
    stderr: Stream = None,
    start_new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a long-lived process the caller owns (poll, terminate, wait).

    `start_new_session` lets it outlive this command and keeps a Ctrl-C in the terminal from
    reaching it.
    """
    argv = [str(a) for a in args]
    log.debug("spawn: %s (cwd=%s)", " ".join(argv), cwd or ".")
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=_full_env(env),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=start_new_session,
        )
    except FileNotFoundError as exc:
        raise BadInput(f"{argv[0]} is not installed or not on PATH") from exc


def _full_env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    return {**os.environ, **env} if env else None
