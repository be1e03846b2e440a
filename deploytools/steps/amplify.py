"""Step 5: the Amplify Hosting app for a Next.js SSR frontend in a monorepo.

Public API (the pipeline calls these; `env` must carry Terraform outputs for {tf.*} values):

    deploy_amplify(aws, env, *, root, reporter, record, polling=POLLING) -> AmplifyResult
        Create or update the app (found by name, all pages of ListApps) on platform
        WEB_COMPUTE, with AMPLIFY_MONOREPO_APP_ROOT = app_root = appRoot in the build spec,
        the build spec from the file, and the environment from the config; ensure the branch
        (framework "Next.js - SSR", auto-build off: the pipeline starts jobs); start a RELEASE
        job and wait for it. Raises AmplifyJobFailed naming the failed step, AmplifyTimeout,
        or a BadInput subclass (before any change) for a wrong build spec or config.
    plan_amplify(aws, env, *, root) -> AmplifyPlan
        The same comparison, read-only.
    read_build_spec(root, amplify) -> BuildSpec
        The build spec's text and its appRoots; raises BuildSpecProblem.

An existing app on platform WEB (static hosting: every SSR route is a 404) is moved to
WEB_COMPUTE, and the run says so. The repository access token is read from SSM
(`frontend.amplify.access_token_parameter`) and registered as a secret; it is never in config.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.config.model import Amplify
from deploytools.errors import BadInput, DeployError
from deploytools.output import Reporter, StepRecord, register_secret
from deploytools.steps.secrets import put_parameter_command

PLATFORM = "WEB_COMPUTE"
FRAMEWORK = "Next.js - SSR"
APP_ROOT_VARIABLE = "AMPLIFY_MONOREPO_APP_ROOT"
RUNNING = frozenset({"CREATED", "PENDING", "PROVISIONING", "RUNNING", "CANCELLING"})
TF_PLACEHOLDER = re.compile(r"\{tf\.[A-Za-z0-9_-]+\}")


class AmplifyNotConfigured(BadInput):
    """The config has no frontend.amplify section."""


class BuildSpecProblem(BadInput):
    """amplify.yml is missing, unreadable, or disagrees with the config."""


class AmbiguousApp(BadInput):
    """Several Amplify apps share the configured name; deploytools will not guess."""


class AccessTokenMissing(BadInput):
    """The SSM parameter named by access_token_parameter does not exist."""


class UnresolvedOutputs(BadInput):
    """An environment value still holds a {tf.*} placeholder with no Terraform output."""


class AmplifyApiError(DeployError):
    """An Amplify API call failed."""


class AmplifyJobFailed(DeployError):
    """The Amplify build/deploy job ended FAILED or CANCELLED."""

    def __init__(
        self, message: str, *, job_id: str, step: str | None, reason: str, log_url: str
    ) -> None:
        self.job_id, self.step, self.reason, self.log_url = job_id, step, reason, log_url
        super().__init__(message)


class AmplifyTimeout(DeployError):
    """The job did not finish in time (it keeps running in Amplify)."""


@dataclass(frozen=True)
class Polling:
    """How the job is waited for: backoff between polls, a progress line now and then."""

    first: float = 2.0
    factor: float = 1.5
    most: float = 15.0
    timeout: float = 1800.0
    progress_every: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


POLLING = Polling()


@dataclass(frozen=True)
class BuildSpec:
    path: Path
    text: str
    app_roots: tuple[str, ...]


@dataclass(frozen=True)
class DesiredApp:
    name: str
    repository: str
    branch: str
    stage: str
    app_root: str
    environment: Mapping[str, str]
    build_spec: BuildSpec
    pending: tuple[str, ...] = ()  # {tf.*} names without a value yet (plan only)


@dataclass(frozen=True)
class AmplifyResult:
    app_id: str
    app_name: str
    branch: str
    job_id: str
    status: str
    default_domain: str
    url: str
    platform_fixed: bool
    created: bool
    changes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "app": self.app_name,
            "branch": self.branch,
            "job_id": self.job_id,
            "status": self.status,
            "default_domain": self.default_domain,
            "url": self.url,
            "platform_fixed": self.platform_fixed,
            "created": self.created,
            "changes": list(self.changes),
        }


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
class _Diff:
    """What an update changes; `fields` is the UpdateApp body."""

    fields: dict[str, Any] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    platform_fix: bool = False


def amplify_config(env: EnvConfig) -> Amplify:
    amplify = env.model.frontend.amplify if env.model.frontend else None
    if amplify is None:
        raise AmplifyNotConfigured("deploytools.yml has no frontend.amplify section")
    return amplify


def normalize_root(value: str) -> str:
    return value.strip().removeprefix("./").strip("/")


def read_build_spec(root: Path, amplify: Amplify) -> BuildSpec:
    path = root / amplify.build_spec
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildSpecProblem(f"{amplify.build_spec}: cannot read the build spec: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildSpecProblem(f"{amplify.build_spec}: invalid YAML: {exc}") from exc
    applications = data.get("applications") if isinstance(data, dict) else None
    if not isinstance(applications, list):
        raise BuildSpecProblem(
            f"{amplify.build_spec}: not a monorepo build spec (no applications: list); "
            f"Amplify needs 'applications: - appRoot: {amplify.app_root}' when "
            f"{APP_ROOT_VARIABLE} is set"
        )
    roots = tuple(
        normalize_root(str(a["appRoot"]))
        for a in applications
        if isinstance(a, dict) and a.get("appRoot")
    )
    wanted = normalize_root(amplify.app_root)
    if wanted not in roots:
        found = ", ".join(roots) or "none"
        raise BuildSpecProblem(
            f"{amplify.build_spec}: no application has appRoot {wanted} (found: {found}); "
            f"frontend.amplify.app_root, appRoot and {APP_ROOT_VARIABLE} must be equal"
        )
    return BuildSpec(path=path, text=text, app_roots=roots)


def desired_app(env: EnvConfig, *, root: Path, allow_pending: bool = False) -> DesiredApp:
    """The app as the config wants it; refuses unresolved {tf.*} values unless planning."""
    amplify = amplify_config(env)
    spec = read_build_spec(root, amplify)
    app_root = normalize_root(amplify.app_root)
    given = amplify.environment.get(APP_ROOT_VARIABLE)
    if given is not None and normalize_root(given) != app_root:
        raise BadInput(
            f"frontend.amplify.environment.{APP_ROOT_VARIABLE} is {given!r} but app_root is "
            f"{app_root!r}; remove it (deploytools sets it from app_root)"
        )
    environment = {**amplify.environment, APP_ROOT_VARIABLE: app_root}
    pending = sorted({p for value in environment.values() for p in TF_PLACEHOLDER.findall(value)})
    if pending and not allow_pending:
        names = [k for k, v in environment.items() if TF_PLACEHOLDER.search(v)]
        raise UnresolvedOutputs(
            f"frontend.amplify.environment {', '.join(names)} use {', '.join(pending)}, which "
            "Terraform did not output; add the output or change the value"
        )
    production = env.environment.protected or env.env in ("prod", "production")
    stage = "PRODUCTION" if production else "DEVELOPMENT"
    return DesiredApp(
        name=amplify.app,
        repository=amplify.repository,
        branch=amplify.branch,
        stage=stage,
        app_root=app_root,
        environment=environment,
        build_spec=spec,
        pending=tuple(pending),
    )


def _call(client: Any, operation: str, **kwargs: Any) -> Any:
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
        page = _call(client, "list_apps", **({"nextToken": token} if token else {}))
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


def _spa_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Static-site catch-alls (→ /index.html) that shadow every SSR route."""
    return [
        r
        for r in rules
        if r.get("target", "").rstrip("/") in ("/index.html", "index.html")
        and str(r.get("status", "")) in ("200", "404-200")
    ]


def _compare(app: dict[str, Any], desired: DesiredApp) -> _Diff:
    diff = _Diff()
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


def _branch_changes(branch: dict[str, Any], desired: DesiredApp) -> dict[str, Any]:
    wanted = {"framework": FRAMEWORK, "stage": desired.stage, "enableAutoBuild": False}
    return {k: v for k, v in wanted.items() if branch.get(k) != v}


def _get_branch(client: Any, app_id: str, branch: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = _call(client, "get_branch", appId=app_id, branchName=branch)
    except AmplifyApiError as exc:
        if _not_found(exc):
            return None
        raise
    return result["branch"]  # type: ignore[no-any-return]


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
    diff = _compare(app, desired)
    branch = _get_branch(client, app["appId"], desired.branch)
    branch_action = (
        "create"
        if branch is None
        else "update"
        if _branch_changes(branch, desired)
        else "unchanged"
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


def _access_token(aws: AwsContext, amplify: Amplify) -> str | None:
    if not amplify.access_token_parameter:
        return None
    name = amplify.access_token_parameter
    try:
        value = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"][
            "Value"
        ]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise AccessTokenMissing(
                f"frontend.amplify.access_token_parameter {name} is not in SSM Parameter Store; "
                f"add it: {put_parameter_command(name)}"
            ) from exc
        raise AmplifyApiError(f"ssm GetParameter {name}: {exc}") from exc
    register_secret(value)
    return str(value)


def _commit_id(repository: str) -> str | None:
    """Build the exact commit being deployed when this workflow runs in the app's repository."""
    sha, repo = os.environ.get("GITHUB_SHA"), os.environ.get("GITHUB_REPOSITORY")
    if sha and repo and repository.rstrip("/").removesuffix(".git").endswith(f"/{repo}"):
        return sha
    return None


def deploy_amplify(
    aws: AwsContext,
    env: EnvConfig,
    *,
    root: Path,
    reporter: Reporter,
    record: StepRecord,
    polling: Polling = POLLING,
) -> AmplifyResult:
    """Create or update the app and branch, start a RELEASE job, and wait for it."""
    desired = desired_app(env, root=root)
    amplify = amplify_config(env)
    client = aws.client("amplify")
    app = find_app(client, desired.name)
    token = _access_token(aws, amplify)
    created = app is None
    diff = _Diff()
    if app is None:
        body: dict[str, Any] = {
            "name": desired.name,
            "description": f"managed by deploytools ({env.model.project}, {env.env})",
            "repository": desired.repository,
            "platform": PLATFORM,
            "environmentVariables": dict(desired.environment),
            "buildSpec": desired.build_spec.text,
            "enableBranchAutoBuild": False,
        }
        if token:
            body["accessToken"] = token
        app = _call(client, "create_app", **body)["app"]
        record.change(f"created Amplify app {desired.name} ({app['appId']}) on {PLATFORM}")
    else:
        diff = _compare(app, desired)
        if diff.platform_fix:
            reporter.warn(
                f"Amplify app {desired.name} ({app['appId']}) was on platform "
                f"{app.get('platform')}, which serves static files only (SSR routes return "
                f"404); updated it to {PLATFORM}"
            )
        if diff.fields:
            if token and "repository" in diff.fields:
                diff.fields["accessToken"] = token
            app = _call(client, "update_app", appId=app["appId"], **diff.fields)["app"]
            for change in diff.changes:
                record.change(f"app {desired.name}: {change}")
    app_id = app["appId"]
    branch = _get_branch(client, app_id, desired.branch)
    wanted = {"framework": FRAMEWORK, "stage": desired.stage, "enableAutoBuild": False}
    if branch is None:
        branch = _call(client, "create_branch", appId=app_id, branchName=desired.branch, **wanted)[
            "branch"
        ]
        record.change(f"created branch {desired.branch} ({FRAMEWORK}, {desired.stage})")
    elif updates := _branch_changes(branch, desired):
        branch = _call(client, "update_branch", appId=app_id, branchName=desired.branch, **updates)[
            "branch"
        ]
        record.change(
            f"branch {desired.branch}: {', '.join(f'{k}={v}' for k, v in updates.items())}"
        )
    _wait_for_running(client, app_id, desired.branch, reporter, polling)
    start: dict[str, Any] = {
        "appId": app_id,
        "branchName": desired.branch,
        "jobType": "RELEASE",
        "jobReason": f"deploytools deploy --env {env.env}",
    }
    if commit := _commit_id(desired.repository):
        start["commitId"] = commit
    job_id = str(_call(client, "start_job", **start)["jobSummary"]["jobId"])
    record.change(f"started RELEASE job {job_id}")
    status = _wait(client, app_id, desired.branch, job_id, reporter, polling, raise_on_failure=True)
    domain = str(app.get("defaultDomain", ""))
    url = f"https://{branch.get('displayName') or desired.branch}.{domain}" if domain else ""
    result = AmplifyResult(
        app_id=app_id,
        app_name=desired.name,
        branch=desired.branch,
        job_id=job_id,
        status=status,
        default_domain=domain,
        url=url,
        platform_fixed=diff.platform_fix,
        created=created,
        changes=tuple(record.changed),
    )
    record.detail["amplify"] = result.as_dict()
    record.summary = f"{desired.name} job {job_id} {status}" + (
        f" (platform fixed to {PLATFORM})" if diff.platform_fix else ""
    )
    return result


def _wait_for_running(
    client: Any, app_id: str, branch: str, reporter: Reporter, polling: Polling
) -> None:
    """A job already running on the branch (e.g. a console build) must end first."""
    latest = _call(client, "list_jobs", appId=app_id, branchName=branch, maxResults=1)
    summaries = latest.get("jobSummaries", [])
    if summaries and summaries[0].get("status") in RUNNING:
        job_id = str(summaries[0]["jobId"])
        reporter.progress(f"amplify: job {job_id} is already running on {branch}; waiting for it")
        _wait(client, app_id, branch, job_id, reporter, polling, raise_on_failure=False)


def _wait(
    client: Any,
    app_id: str,
    branch: str,
    job_id: str,
    reporter: Reporter,
    polling: Polling,
    *,
    raise_on_failure: bool,
) -> str:
    started = polling.clock()
    delay = polling.first
    last_status, last_progress = "", started
    while True:
        job = _call(client, "get_job", appId=app_id, branchName=branch, jobId=job_id)["job"]
        status = str(job["summary"]["status"])
        now = polling.clock()
        if status == "SUCCEED":
            return status
        if status in ("FAILED", "CANCELLED"):
            if raise_on_failure:
                region = str(client.meta.region_name)
                raise _failure(region, app_id, branch, job_id, status, job.get("steps", []))
            return status
        if status != last_status or now - last_progress >= polling.progress_every:
            running = [s["stepName"] for s in job.get("steps", []) if s.get("status") == "RUNNING"]
            step = f", step {running[0]}" if running else ""
            reporter.progress(f"amplify job {job_id}: {status}{step} ({now - started:.0f}s)")
            last_status, last_progress = status, now
        if now - started >= polling.timeout:
            raise AmplifyTimeout(
                f"Amplify job {job_id} on {app_id}/{branch} is still {status} after "
                f"{polling.timeout:.0f}s; it keeps running in Amplify (see the console)"
            )
        polling.sleep(min(delay, max(0.0, polling.timeout - (now - started))))
        delay = min(polling.most, delay * polling.factor)


def console_url(region: str, app_id: str, branch: str, job_id: str) -> str:
    return (
        f"https://console.aws.amazon.com/amplify/home?region={region}#/{app_id}/{branch}/{job_id}"
    )


def _failure(
    region: str, app_id: str, branch: str, job_id: str, status: str, steps: list[dict[str, Any]]
) -> AmplifyJobFailed:
    failed = next((s for s in steps if s.get("status") == "FAILED"), None)
    if failed is None:
        return AmplifyJobFailed(
            f"Amplify job {job_id} on {app_id}/{branch} ended {status} (no step failed: "
            "it was stopped)",
            job_id=job_id,
            step=None,
            reason=status,
            log_url="",
        )
    name = str(failed.get("stepName", "?"))
    reason = str(failed.get("statusReason") or "no reason given")
    log_url = str(failed.get("logUrl") or "")
    message = f"Amplify job {job_id} on {app_id}/{branch} failed at step {name}: {reason}"
    if "X-Amz-Signature" in log_url or "Signature=" in log_url:
        # A presigned URL is a bearer credential for the log: keep it out of CI output.
        message += f"; log: {console_url(region, app_id, branch, job_id)}"
    elif log_url:
        message += f"; log: {log_url}"
    return AmplifyJobFailed(message, job_id=job_id, step=name, reason=reason, log_url=log_url)
