"""When an early `terraform plan` (lib/head_start.py) may stand for the run's own.

The head start plans without the state lock, so it never holds up another run's apply. It
may also have read the state before this run held the environment's lock, so its result
counts only when the state is still the one it read: the plan file's prior state has the
serial and lineage of the state file as this run reads it, with the lock held (every write
to a state raises its serial). Terraform's own check stays: applying a saved plan whose
state changed meanwhile fails as "Saved plan is stale".

Only a state that is a local file can be compared without another Terraform process, so
only such roots record a head start: every sandbox run, and roots on the local backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from deploytools.lib.head_start import HeadStart
from deploytools.output.mask import redact

EARLY_PLAN = "head-start.tfplan"


def early_args(args: Sequence[str], work_dir: Path) -> list[str]:
    """The plan's arguments as the head start runs them: no state lock, its own plan file."""
    early = []
    for arg in args:
        if arg.startswith("-lock-timeout="):
            early.append("-lock=false")
        elif arg.startswith("-out="):
            early.append(f"-out={work_dir / EARLY_PLAN}")
        else:
            early.append(arg)
    return early


def take(
    head: HeadStart,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    state: Path | None,
    plan_file: Path,
) -> subprocess.CompletedProcess[str] | None:
    """The head start's plan, moved to `plan_file`, when it is this plan on this state."""
    early = head.work_dir / EARLY_PLAN
    done = head.result_for(argv, cwd=cwd, env=env)
    if done is None:
        return None
    if done.returncode in (0, 2) and state is not None and _same_state(early, state):
        os.replace(early, plan_file)
        return done
    early.unlink(missing_ok=True)  # it holds planned values, secrets too
    return None


def remember(
    head: HeadStart,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    state: Path | None,
    sandbox: tuple[Path, Path] | None,
) -> bool:
    """Record this plan for the next run, unless its state is not a local file or anything
    it carries is a secret this run knows of."""
    if state is None:
        return False
    if any(redact(text) != text for text in [*argv, *env.values()]):
        return False
    return head.remember(argv, cwd=cwd, env=env, sandbox=sandbox)


def _same_state(plan_file: Path, state: Path) -> bool:
    try:
        with zipfile.ZipFile(plan_file) as plan:
            planned = _identity(plan.read("tfstate"))
        current = _identity(state.read_bytes())
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return planned is not None and planned == current


def _identity(data: bytes) -> tuple[str, int] | None:
    try:
        doc = json.loads(data)
        return str(doc["lineage"]), int(doc["serial"])
    except (ValueError, KeyError, TypeError):
        return None
