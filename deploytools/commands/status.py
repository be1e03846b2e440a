"""deploytools status: what is live on every target, and drift from the last release."""

from __future__ import annotations

import argparse

from deploytools.commands import App, add_env, add_only
from deploytools.commands.deploy import make_run
from deploytools.errors import ExitCode

NAME = "status"
HELP = "show what is live on every target and any drift from the last release"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)
    add_only(parser)


def run(app: App) -> int:
    from deploytools.pipeline import status

    report = status(make_run(app))
    reporter = app.reporter
    if app.args.json:
        reporter.document(reporter.steps_document(**report.as_dict()))
        return ExitCode.OK
    release = report.release
    if release is None:
        reporter.line(f"{report.env}: no release recorded yet (deploytools deploy records one)")
    else:
        by = release.who.get("github_actor") or release.who.get("caller_arn") or "unknown"
        reporter.line(f"{report.env}: release {release.short()}")
        reporter.line(f"  created {release.created} by {by}, git {release.git_sha or 'unknown'}")
        for name, image in sorted(release.images.items()):
            reporter.line(f"  image {name}: {image.get('uri')}")
        if release.amplify:
            reporter.line(f"  amplify: {release.amplify}")
    for target in report.targets:
        reporter.line(f"  {target.line()}")
    if report.drift:
        reporter.line("drift: live differs from the release record (deploy or rollback to fix)")
    return ExitCode.OK
