"""One plan comment per pull request and environment: found by its hidden marker, updated in
place, created only when there is none (GitHub's REST API: issue comments)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import requests

from deploytools.errors import DeployError

TIMEOUT = 30


class CommentFailed(DeployError):
    """GitHub did not accept the plan comment."""


def pull_request_number(environ: dict[str, str] | None = None) -> int | None:
    """The pull request of this run, from the event payload; None for other events."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return None
    event = json.loads(Path(path).read_text() or "{}")
    number = (event.get("pull_request") or {}).get("number")
    return int(number) if number is not None else None


def upsert(
    body: str, marker: str, *, api: str, repository: str, number: int, token: str
) -> tuple[str, int]:
    """('updated' | 'created', comment id)."""
    session = requests.Session()
    session.headers.update(
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
    )
    base = api.rstrip("/")
    existing = _find(session, f"{base}/repos/{repository}/issues/{number}/comments", marker)
    if existing is not None:
        url = f"{base}/repos/{repository}/issues/comments/{existing}"
        _json(session.patch(url, json={"body": body}, timeout=TIMEOUT), "update")
        return "updated", existing
    created = _json(
        session.post(
            f"{base}/repos/{repository}/issues/{number}/comments",
            json={"body": body},
            timeout=TIMEOUT,
        ),
        "create",
    )
    return "created", int(created["id"])


def _find(session: requests.Session, url: str, marker: str) -> int | None:
    page = 1
    while True:
        found = _json(
            session.get(url, params={"per_page": 100, "page": page}, timeout=TIMEOUT), "list"
        )
        for comment in found:
            if marker in str(comment.get("body", "")):
                return int(comment["id"])
        if len(found) < 100:
            return None
        page += 1


def _json(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise CommentFailed(
            f"GitHub refused to {what} the plan comment: HTTP {response.status_code} "
            f"{response.text[:200]} (the job needs permissions: pull-requests: write)"
        )
    return response.json()
