"""deploytools releases: the environment's release history, newest first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from deploytools.commands import App, add_env
from deploytools.commands.deploy import make_run
from deploytools.errors import ExitCode

if TYPE_CHECKING:
    from deploytools.steps.release import Release

NAME = "releases"
HELP = "list the release history: id, when, who, commit, what changed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)


def entry(release: Release) -> dict[str, Any]:
    """One release as `releases --json` shows it."""
    return {
        "id": release.id,
        "created": release.created,
        "kind": release.kind.value,
        "status": release.status.value,
        "reason": release.reason,
        "who": release.who.get("github_actor") or release.who.get("caller_arn"),
        "git_sha": release.git_sha,
        "rollback_of": release.rollback_of,
        "changes": list(release.changes),
    }


def run(app: App) -> int:
    from deploytools.pipeline import history

    releases = list(reversed(history(make_run(app))))
    reporter = app.reporter
    if app.args.json:
        reporter.document({"env": app.args.env, "releases": [entry(r) for r in releases]})
        return ExitCode.OK
    if not releases:
        reporter.line(f"{app.args.env}: no release recorded yet (deploytools deploy records one)")
    for release in releases:
        doc = entry(release)
        commit = (release.git_sha or "no commit")[:12]
        reporter.line(f"{release.short()}  {release.created}  {doc['who'] or 'unknown'}  {commit}")
        if release.reason:
            reporter.line(f"  {release.reason}")
        for change in release.changes:
            reporter.line(f"  {change}")
    return ExitCode.OK
