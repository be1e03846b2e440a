"""Terraform state for the sandbox lives with the sandbox, never with the real state.

A root's own backend (S3, or a local terraform.tfstate beside the code) holds the state of
real AWS. Applying sandbox resources there would overwrite it. For a sandbox run, an override
file gives the root a local backend whose state file is under the sandbox's folder, and
TF_DATA_DIR moves `.terraform` (providers, modules, backend settings) beside it. Terraform
merges `*_override.tf` over the root's `terraform` block, so this works whatever backend the
root declares. The file exists only while the run does; it names the run's process, so that
after a run killed outright (SIGKILL: nothing of it could delete the file) the next run takes
it over instead of refusing.

It lives in lib, not in the Terraform step, because a head start (lib/head_start.py) sets
it up at process start, before anything heavy is imported.

`terraform init` writes the provider lock file into the root itself (nothing moves it). A root
that has none keeps the sandbox's beside the sandbox state: put in for the run, taken back
after it, so a sandbox run leaves no file beside the user's code. A root's own lock file is
the user's: a sandbox init that rewrote it (its mirror's hashes) gets the user's bytes back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploytools.errors import BadInput

OVERRIDE_FILE = "deploytools_sandbox_override.tf"  # `check` never lists it: it is ours
LOCK_FILE = ".terraform.lock.hcl"
OWNER = "# deploytools run: pid"


@contextmanager
def sandbox_backend(root: Path, state_dir: Path) -> Iterator[dict[str, str]]:
    """Yields the environment variables for Terraform; the root uses `state_dir` meanwhile."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    override = root / OVERRIDE_FILE
    if override.exists() and not _owner_gone(override):
        raise BadInput(
            f"{override} exists: another sandbox run is using this Terraform root, or one was "
            "interrupted; delete the file if no deploytools run is active"
        )
    state = json.dumps(str(state_dir / "terraform.tfstate"))  # a JSON string is an HCL string
    override.write_text(
        "# Written by deploytools for a sandbox run and deleted after it: state stays with\n"
        "# the sandbox, apart from this root's real backend.\n"
        f"{OWNER} {os.getpid()}\n"
        f'terraform {{\n  backend "local" {{\n    path = {state}\n  }}\n}}\n'
    )
    try:
        with _lock_file_kept(root / LOCK_FILE, state_dir / LOCK_FILE):
            yield {"TF_DATA_DIR": str(state_dir / "data")}
    finally:
        override.unlink(missing_ok=True)


def _owner_gone(override: Path) -> bool:
    """The file names the process that wrote it, and no such process is alive: a run killed
    outright (SIGKILL), whose file nobody else uses. A file naming no process is not ours."""
    try:
        line = next(x for x in override.read_text().splitlines() if x.startswith(OWNER))
        pid = int(line.removeprefix(OWNER))
    except (OSError, StopIteration, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


@contextmanager
def _lock_file_kept(lock: Path, kept: Path) -> Iterator[None]:
    """The root's lock file as it was before the run; the sandbox's own kept at `kept`."""
    users = lock.read_bytes() if lock.is_file() else None
    if users is None and kept.is_file():
        lock.write_bytes(kept.read_bytes())  # the same providers: init stays skippable
    try:
        yield
    finally:
        if users is None:
            if lock.is_file():
                lock.replace(kept)
        elif not lock.is_file() or lock.read_bytes() != users:
            lock.write_bytes(users)
