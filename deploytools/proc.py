"""The one gateway to subprocesses: list arguments, logged, checked explicitly."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

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
    log.debug("run: %s (cwd=%s)", " ".join(argv), cwd or ".")
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=_full_env(env),
            input=input,
            text=True,
            capture_output=capture,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BadInput(f"{argv[0]} is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child by now
        raise CommandTimedOut(argv, exc.timeout) from exc
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
