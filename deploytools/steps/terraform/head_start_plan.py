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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class EarlyPlan:
    """The plan command as the head start runs it, and where its state lies."""

    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    state: Path | None  # the local state file; None for another backend


def take(
    head: HeadStart, plan: EarlyPlan, plan_file: Path
) -> subprocess.CompletedProcess[str] | None:
    """The head start's plan, moved to `plan_file`, when it is this plan on this state."""
    early = head.work_dir / EARLY_PLAN
    done = head.result_for(plan.argv, cwd=plan.cwd, env=plan.env)
    if done is None:
        return None
    ok = done.returncode in (0, 2)
    if ok and plan.state is not None and _same_state(early, plan.state):
        os.replace(early, plan_file)
        return done
    early.unlink(missing_ok=True)  # it holds planned values, secrets too
    return None


def remember(head: HeadStart, plan: EarlyPlan, sandbox: tuple[Path, Path] | None) -> bool:
    """Record this plan for the next run, unless its state is not a local file or anything
    it carries is a secret this run knows of."""
    if plan.state is None:
        return False
    if any(redact(text) != text for text in [*plan.argv, *plan.env.values()]):
        return False
    return head.remember(plan.argv, cwd=plan.cwd, env=plan.env, sandbox=sandbox)


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
