"""The app and branch brought to what the config wants: compared field by field, then created
or updated (WEB_COMPUTE, Next.js SSR, auto-build off, no static-site rewrites), or only planned."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.lib.amplify_buildspec import APP_ROOT_VARIABLE
from deploytools.output import Reporter, StepRecord
from deploytools.steps.amplify.api import call, find_app, get_branch
from deploytools.steps.amplify.desired import DesiredApp, desired_app

PLATFORM = "WEB_COMPUTE"
FRAMEWORK = "Next.js - SSR"


@dataclass(frozen=True)
class AmplifyPlan:
    app_name: str
    app_id: str | None
    action: str  # create | update | unchanged
    platform_fix: bool
    changes: tuple[str, ...]
    branch: str
    branch_action: str  # create | update | unchanged
    job: str = "RELEASE"
    pending: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "app": self.app_name,
            "app_id": self.app_id,
            "action": self.action,
            "platform_fix": self.platform_fix,
            "changes": list(self.changes),
            "branch": self.branch,
            "branch_action": self.branch_action,
            "job": self.job,
            "pending_outputs": list(self.pending),
        }

    def line(self) -> str:
        what = {"create": "create app", "update": "update app", "unchanged": "app unchanged"}
        detail = f" ({'; '.join(self.changes)})" if self.changes else ""
        return (
            f"amplify {self.app_name}: {what[self.action]}{detail}; branch {self.branch}: "
            f"{self.branch_action}; start a {self.job} job and wait"
        )


@dataclass
class Diff:
    """What an update changes; `fields` is the UpdateApp body."""

    fields: dict[str, Any] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    platform_fix: bool = False


@dataclass(frozen=True)
class AppOutcome:
    """The app after ensure_app, and what it took."""

    app: dict[str, Any]
    diff: Diff
    created: bool


def _spa_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Static-site catch-alls (→ /index.html) that shadow every SSR route."""
    return [
        r
        for r in rules
        if r.get("target", "").rstrip("/") in ("/index.html", "index.html")
        and str(r.get("status", "")) in ("200", "404-200")
    ]


def compare(app: dict[str, Any], desired: DesiredApp) -> Diff:
    diff = Diff()
    if app.get("platform") != PLATFORM:
        diff.platform_fix = True
        diff.fields["platform"] = PLATFORM
        diff.changes.append(f"platform {app.get('platform')} → {PLATFORM}")
    current = app.get("environmentVariables") or {}
    if not desired.pending and dict(current) != dict(desired.environment):
        added = sorted(set(desired.environment) - set(current))
        removed = sorted(set(current) - set(desired.environment))
        changed = sorted(
            k
            for k in set(current) & set(desired.environment)
            if current[k] != desired.environment[k]
        )
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (("add", added), ("change", changed), ("remove", removed))
            if names
        ]
        diff.fields["environmentVariables"] = dict(desired.environment)
        diff.changes.append("environment: " + "; ".join(parts))
    elif desired.pending:
        diff.changes.append("environment: resolved after Terraform")
    if (app.get("buildSpec") or "").strip() != desired.build_spec.text.strip():
        diff.fields["buildSpec"] = desired.build_spec.text
        diff.changes.append(f"build spec from {desired.build_spec.path.name}")
    if app.get("repository") and app["repository"] != desired.repository:
        diff.fields["repository"] = desired.repository
        diff.changes.append(f"repository → {desired.repository}")
    if app.get("enableBranchAutoBuild"):
        diff.fields["enableBranchAutoBuild"] = False
        diff.changes.append("branch auto-build off (deploytools starts jobs)")
    rules = app.get("customRules") or []
    spa = _spa_rules(rules)
    if spa:
        diff.fields["customRules"] = [r for r in rules if r not in spa]
        diff.changes.append(f"remove {len(spa)} static-site rewrite(s) to /index.html")
    return diff


def _wanted_branch(desired: DesiredApp) -> dict[str, Any]:
    return {"framework": FRAMEWORK, "stage": desired.stage, "enableAutoBuild": False}


def branch_changes(branch: dict[str, Any], desired: DesiredApp) -> dict[str, Any]:
    return {k: v for k, v in _wanted_branch(desired).items() if branch.get(k) != v}


def plan_amplify(aws: AwsContext, env: EnvConfig, *, root: Path) -> AmplifyPlan:
    """What deploy_amplify would do; read-only."""
    desired = desired_app(env, root=root, allow_pending=True)
    client = aws.client("amplify")
    app = find_app(client, desired.name)
    if app is None:
        return AmplifyPlan(
            app_name=desired.name,
            app_id=None,
            action="create",
            platform_fix=False,
            changes=(f"platform {PLATFORM}", f"{APP_ROOT_VARIABLE}={desired.app_root}"),
            branch=desired.branch,
            branch_action="create",
            pending=desired.pending,
        )
    diff = compare(app, desired)
    branch = get_branch(client, app["appId"], desired.branch)
    branch_action = (
        "create" if branch is None else "update" if branch_changes(branch, desired) else "unchanged"
    )
    return AmplifyPlan(
        app_name=desired.name,
        app_id=app["appId"],
        action="update" if diff.fields else "unchanged",
        platform_fix=diff.platform_fix,
        changes=tuple(diff.changes),
        branch=desired.branch,
        branch_action=branch_action,
        pending=desired.pending,
    )


def ensure_app(
    client: Any,
    desired: DesiredApp,
    *,
    description: str,
    token: str | None,
    reporter: Reporter,
    record: StepRecord,
) -> AppOutcome:
    """Create the app, or update what differs (the platform fix said out loud)."""
    app = find_app(client, desired.name)
    if app is None:
        body: dict[str, Any] = {
            "name": desired.name,
            "description": description,
            "repository": desired.repository,
            "platform": PLATFORM,
            "environmentVariables": dict(desired.environment),
            "buildSpec": desired.build_spec.text,
            "enableBranchAutoBuild": False,
        }
        if token:
            body["accessToken"] = token
        created = call(client, "create_app", **body)["app"]
        record.change(f"created Amplify app {desired.name} ({created['appId']}) on {PLATFORM}")
        return AppOutcome(created, Diff(), created=True)
    diff = compare(app, desired)
    if diff.platform_fix:
        reporter.warn(
            f"Amplify app {desired.name} ({app['appId']}) was on platform "
            f"{app.get('platform')}, which serves static files only (SSR routes return "
            f"404); updated it to {PLATFORM}"
        )
    if diff.fields:
        if token and "repository" in diff.fields:
            diff.fields["accessToken"] = token
        app = call(client, "update_app", appId=app["appId"], **diff.fields)["app"]
        for change in diff.changes:
            record.change(f"app {desired.name}: {change}")
    return AppOutcome(app, diff, created=False)


def ensure_branch(
    client: Any, app_id: str, desired: DesiredApp, record: StepRecord
) -> dict[str, Any]:
    """The branch as a Next.js SSR branch of this stage, without auto-build."""
    branch = get_branch(client, app_id, desired.branch)
    if branch is None:
        wanted = _wanted_branch(desired)
        made: dict[str, Any] = call(
            client, "create_branch", appId=app_id, branchName=desired.branch, **wanted
        )["branch"]
        record.change(f"created branch {desired.branch} ({FRAMEWORK}, {desired.stage})")
        return made
    if updates := branch_changes(branch, desired):
        branch = call(client, "update_branch", appId=app_id, branchName=desired.branch, **updates)[
            "branch"
        ]
        record.change(
            f"branch {desired.branch}: {', '.join(f'{k}={v}' for k, v in updates.items())}"
        )
    return branch
