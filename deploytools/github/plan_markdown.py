"""The plan as Markdown, bounded so it fits a PR comment (GitHub refuses bodies over 65,536)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

COMMENT_LIMIT = 65_536
MARKER = "<!-- deploytools-plan:{project}:{env} -->"


def marker(document: dict[str, Any]) -> str:
    return MARKER.format(project=document["project"], env=document["env"])


def run_url(environ: dict[str, str] | None = None) -> str | None:
    """The Actions run's page, where the full log is; None outside Actions."""
    env = os.environ if environ is None else environ
    if not (env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID")):
        return None
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"


def render(
    document: dict[str, Any],
    steps: Sequence[dict[str, Any]],
    lines: Sequence[str],
    *,
    url: str | None,
    limit: int = COMMENT_LIMIT,
) -> str:
    """Marker, title, step table and plan lines; the lines are cut, never the table, to fit."""
    head = [
        marker(document),
        f"### deploytools plan: {document['project']} / {document['env']}",
        "",
        "| step | result | summary |",
        "|---|---|---|",
        *(f"| {_cell(s['name'])} | {s['status']} | {_cell(s.get('summary', ''))} |" for s in steps),
        "",
        "```",
    ]
    tail = ["```", ""] + ([f"[The run]({url}) has the full log."] if url else [])
    body = "\n".join([*head, *lines, *tail]) + "\n"
    if len(body) <= limit:
        return body
    note = "… truncated to fit a comment: " + (f"the full plan is in [the run]({url})." if url
                                             else "the full plan is in the job's log.")  # fmt: skip
    fixed = len("\n".join([*head, "", *tail, note])) + 2
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit - fixed:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join([*head, *kept, *tail[:2], note]) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
