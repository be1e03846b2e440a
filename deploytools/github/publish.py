"""What `plan` leaves in GitHub Actions: the Markdown plan in the step summary, `changes` as a
step output, and (with --comment, in a pull request) the one plan comment."""

from __future__ import annotations

import os
import re
from typing import Any

from deploytools.github import plan_markdown, pr_comment
from deploytools.output import Reporter, github, redact

NO_TF_CHANGES = re.compile(r"Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy")


def has_changes(document: dict[str, Any], steps: list[dict[str, Any]]) -> bool:
    """Whether deploy would change something: Terraform's plan, an image to build, a target."""
    for step in steps:
        summary = str(step.get("summary", ""))
        planned = step["name"] == "terraform plan" and summary.startswith("Plan:")
        if planned and not NO_TF_CHANGES.search(summary):
            return True
    for image in document.get("images") or []:
        if "build" in str(image.get("action", "")):
            return True
    for target in (document.get("targets") or {}).values():
        change = str(target.get("change") or "")
        if change and "already live" not in change:
            return True
    return False


def publish(
    document: dict[str, Any], lines: list[str], reporter: Reporter, *, comment: bool
) -> bool:
    """Summary, output and comment; returns has_changes()."""
    steps = [s.as_dict() for s in reporter.steps]
    changes = has_changes(document, steps)
    github.set_output("changes", "true" if changes else "false")
    body = redact(plan_markdown.render(document, steps, lines, url=plan_markdown.run_url()))
    github.write_summary(body)
    if comment:
        _comment(body, plan_markdown.marker(document), reporter)
    return changes


def _comment(body: str, marker: str, reporter: Reporter) -> None:
    number = pr_comment.pull_request_number()
    token = os.environ.get("GITHUB_TOKEN", "")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if number is None or not token or not repository:
        reporter.line("plan comment: skipped (not a pull request run with GITHUB_TOKEN)")
        return
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    how, comment_id = pr_comment.upsert(
        body, marker, api=api, repository=repository, number=number, token=token
    )
    reporter.line(f"plan comment: {how} comment {comment_id} on pull request #{number}")
