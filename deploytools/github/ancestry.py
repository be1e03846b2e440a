"""Refuse to deploy a commit that is older than the live release's: with two runs queued, the
older one must not undo the newer (`git merge-base --is-ancestor`)."""

from __future__ import annotations

from pathlib import Path

from deploytools import proc
from deploytools.errors import BadInput, DeployError


class OlderCommit(DeployError):
    """The commit being deployed is an ancestor of the one that is live."""


def check_not_older(root: Path, *, deploying: str | None, live: str | None, release: str) -> str:
    """'' when the deploy may go ahead, else a warning to print; raises OlderCommit."""
    if not deploying or not live or deploying == live:
        return ""
    try:
        known = proc.run(["git", "cat-file", "-e", f"{live}^{{commit}}"], cwd=root, check=False)
        if known.returncode != 0:
            return (
                f"cannot tell whether {deploying[:12]} is older than the live release {release} "
                f"({live[:12]}): that commit is not in this clone (check out with fetch-depth: 0)"
            )
        older = proc.run(
            ["git", "merge-base", "--is-ancestor", deploying, live], cwd=root, check=False
        )
    except BadInput:  # git is not installed
        return "cannot tell whether this commit is older than the live release: no git here"
    if older.returncode == 0:
        raise OlderCommit(
            f"refusing to deploy {deploying[:12]}: it is older than {live[:12]}, the commit of "
            f"the live release {release}; deploy a newer commit, or pass --allow-older"
        )
    return ""
