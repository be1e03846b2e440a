"""Amplify API calls with their errors worded once, and the lookups of app and branch."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.errors import BadInput, DeployError


class AmplifyApiError(DeployError):
    """An Amplify API call failed."""


class AmbiguousApp(BadInput):
    """Several Amplify apps share the configured name; deploytools will not guess."""


def call(client: Any, operation: str, **kwargs: Any) -> Any:
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AmplifyApiError(
            f"amplify {operation}: {error.get('Code', 'error')}: {error.get('Message', exc)}"
        ) from exc
    except BotoCoreError as exc:
        raise AmplifyApiError(f"amplify {operation}: {exc}") from exc


def _not_found(exc: AmplifyApiError) -> bool:
    return isinstance(exc.__cause__, ClientError) and exc.__cause__.response.get("Error", {}).get(
        "Code"
    ) in ("NotFoundException", "ResourceNotFoundException")


def find_app(client: Any, name: str) -> dict[str, Any] | None:
    """The app with this name (every page of ListApps); names are not unique in Amplify."""
    matches: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = call(client, "list_apps", **({"nextToken": token} if token else {}))
        matches += [a for a in page.get("apps", []) if a.get("name") == name]
        token = page.get("nextToken")
        if not token:
            break
    if len(matches) > 1:
        ids = ", ".join(a["appId"] for a in matches)
        raise AmbiguousApp(
            f"{len(matches)} Amplify apps are named {name} ({ids}); delete the extra ones or "
            "rename frontend.amplify.app"
        )
    return matches[0] if matches else None


def get_branch(client: Any, app_id: str, branch: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = call(client, "get_branch", appId=app_id, branchName=branch)
    except AmplifyApiError as exc:
        if _not_found(exc):
            return None
        raise
    return result["branch"]  # type: ignore[no-any-return]
