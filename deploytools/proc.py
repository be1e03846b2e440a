"""The one gateway to subprocesses: list arguments, logged, checked explicitly."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from deploytools.errors import BadInput, CommandFailed

log = logging.getLogger(__name__)


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
    full_env = {**os.environ, **env} if env else None
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=full_env,
            input=input,
            text=True,
            capture_output=capture,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BadInput(f"{argv[0]} is not installed or not on PATH") from exc
    if check and result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stderr or "")
    return result
