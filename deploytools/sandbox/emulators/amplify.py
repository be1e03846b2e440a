"""An emulator of Amplify Hosting's control plane (moto has none), speaking the real REST-JSON.

boto3 and Terraform's `aws_amplify_app` reach it through an endpoint override
(`endpoint_url=`, or `AWS_ENDPOINT_URL_AMPLIFY`). Requests are not signature-checked.

Operations and what they cover (paths as in botocore's amplify/2017-07-25/service-2.json):

  CreateApp            POST   /apps
  ListApps             GET    /apps                     ?maxResults&nextToken (pages)
  GetApp               GET    /apps/{appId}
  UpdateApp            POST   /apps/{appId}
  DeleteApp            DELETE /apps/{appId}
      App fields kept: name, description, repository, platform (WEB | WEB_COMPUTE |
      WEB_DYNAMIC), environmentVariables, buildSpec, customRules, customHeaders,
      enableBranchAutoBuild, enableBranchAutoDeletion, enableBasicAuth, iamServiceRoleArn,
      computeRoleArn, enableAutoBranchCreation, autoBranchCreationPatterns,
      autoBranchCreationConfig, cacheConfig, jobConfig, tags; generated: appId, appArn,
      defaultDomain ({appId}.amplifyapp.com), createTime, updateTime, productionBranch.
      oauthToken/accessToken are accepted and never returned (as in AWS).
  CreateBranch         POST   /apps/{appId}/branches
  ListBranches         GET    /apps/{appId}/branches
  GetBranch            GET    /apps/{appId}/branches/{branchName}
  UpdateBranch         POST   /apps/{appId}/branches/{branchName}
  DeleteBranch         DELETE /apps/{appId}/branches/{branchName}
      Branch fields kept: description, stage, framework, enableAutoBuild,
      environmentVariables, buildSpec, enableNotification, enableBasicAuth,
      enablePerformanceMode, enablePullRequestPreview, displayName, ttl, tags; generated:
      branchArn, createTime, updateTime, activeJobId, totalNumberOfJobs, customDomains.
  StartJob             POST   /apps/{appId}/branches/{branchName}/jobs   (RELEASE, RETRY, MANUAL)
  ListJobs             GET    /apps/{appId}/branches/{branchName}/jobs   (newest first, pages)
  GetJob               GET    /apps/{appId}/branches/{branchName}/jobs/{jobId}
  StopJob              DELETE /apps/{appId}/branches/{branchName}/jobs/{jobId}/stop
  TagResource, UntagResource, ListTagsForResource   /tags/{resourceArn}  (for Terraform)

A job is PENDING for `pending_seconds`, then RUNNING through the steps BUILD, DEPLOY, VERIFY.
Executed: BUILD, by the builder (deploytools.sandbox.amplify_build): the build spec's
preBuild and build commands for the app root, for real, in a Node container (Debian's Node
18; npm, corepack and the app's packages from registry.npmjs.org, through a download cache
kept between builds), then the artifact checks (baseDirectory exists; on WEB_COMPUTE it holds
a Next.js server build); a failing command or a missing (or server-less) baseDirectory fails
the step and the job, with the reason (the command, its exit code, the first error line it
printed) as statusReason and the output's tail as the step's log (GET /logs/...). A build
that passed leaves its baseDirectory under <sandbox dir>/amplify-artifacts/{appId}/{branch}/
{jobId}. Simulated: BUILD when the builder cannot run it (no Docker engine, no Node image, the
app root not in the source; its statusReason then says `simulated: …`); DEPLOY and VERIFY
always (there is no hosting: they take a third of `job_seconds` each and their logs say
`simulated: …`).

Hooks for tests that need a job in a given state at a given moment, whatever the machine's
load: `hold(app, branch, job)` keeps a job from ending (its last step runs on) until
`release(…)`, after which it ends as it would have, or at once if that time has passed; every
function in `observers` is called with (operation, answer) after each operation, outside the
lock (so it may call `hold` and `release`, or take `lock` to look at the state).

Errors are the real ones (BadRequestException, NotFoundException, ...) in the
`x-amzn-ErrorType` header and a {"message": ...} body, so botocore raises the same
ClientError codes as against AWS. Not covered: domains, webhooks, backend environments,
deployments (CreateDeployment/StartDeployment), artifacts.

Environment of the emulator `deploytools sandbox up` starts:
DEPLOYTOOLS_SANDBOX_AMPLIFY_JOB_SECONDS (default 3) the simulated steps' duration;
DEPLOYTOOLS_SANDBOX_NODE_IMAGE the image builds run in (default deploytools/node:npm-local,
made on first use by deploytools.sandbox.node_image);
DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE (default the sandbox's working folder) where the app's
source is when its repository is not a local path;
DEPLOYTOOLS_SANDBOX_BUILD_CACHE (default ~/.cache/deploytools/amplify-builds) the builds'
download cache.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from deploytools.sandbox import amplify_build, containers, loopback_http, node_image
from deploytools.sandbox.amplify_build import Builder, BuildOutcome, BuildRequest
from deploytools.sandbox.emulators import Emulator, EmulatorContext
from deploytools.sandbox.loopback_http import Answer, Request
from deploytools.sandbox.state import state_dir

JOB_STEPS = ("BUILD", "DEPLOY", "VERIFY")
PLATFORMS = ("WEB", "WEB_COMPUTE", "WEB_DYNAMIC")
STAGES = ("PRODUCTION", "BETA", "DEVELOPMENT", "EXPERIMENTAL", "PULL_REQUEST")
JOB_TYPES = ("RELEASE", "RETRY", "MANUAL", "WEB_HOOK")
ACCOUNT = "123456789012"  # moto's default account, so ARNs agree across the sandbox
DEFAULT_PAGE = 100

APP_FIELDS = (
    "name", "description", "repository", "platform", "environmentVariables", "buildSpec",
    "customRules", "customHeaders", "enableBranchAutoBuild", "enableBranchAutoDeletion",
    "enableBasicAuth", "basicAuthCredentials", "iamServiceRoleArn", "computeRoleArn",
    "enableAutoBranchCreation", "autoBranchCreationPatterns", "autoBranchCreationConfig",
    "cacheConfig", "jobConfig",
)  # fmt: skip
BRANCH_FIELDS = (
    "description", "stage", "framework", "enableAutoBuild", "environmentVariables", "buildSpec",
    "enableNotification", "enableBasicAuth", "basicAuthCredentials", "enablePerformanceMode",
    "enablePullRequestPreview", "pullRequestEnvironmentName", "displayName", "ttl",
    "enableSkewProtection", "computeRoleArn", "backendEnvironmentArn",
)  # fmt: skip


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequestException", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFoundException", message)


@dataclass
class Job:
    job_id: str
    job_type: str
    started: float
    commit_id: str
    commit_message: str
    build: BuildOutcome | None = None  # None while the build runs
    build_end: float | None = None
    stopped: float | None = None
    held_until: float = 0.0  # the job does not end before this: inf while held (hold/release)

    @property
    def failed(self) -> bool:
        return self.build is not None and not self.build.ok


@dataclass
class Branch:
    fields: dict[str, Any]
    created: float
    updated: float
    jobs: list[Job] = field(default_factory=list)


@dataclass
class App:
    app_id: str
    fields: dict[str, Any]
    created: float
    updated: float
    tags: dict[str, str] = field(default_factory=dict)
    branches: dict[str, Branch] = field(default_factory=dict)
    access_token: str | None = None  # kept for tests to see; never returned, as in AWS


class AmplifyState:
    """The emulated apps; every method is one API operation and holds the lock throughout."""

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        pending_seconds: float = 0.5,
        job_seconds: float = 3.0,
        builder: Builder | str = "no builder was given to the emulator",
        page_size: int = DEFAULT_PAGE,
        base_url: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.region = region
        self.pending_seconds = pending_seconds
        self.job_seconds = job_seconds
        self.builder = builder  # or why builds cannot run
        self.page_size = page_size
        self.base_url = base_url
        self.clock = clock
        self.apps: dict[str, App] = {}
        self.lock = threading.Lock()
        self.observers: list[Callable[[str, Any], None]] = []  # (operation, answer), see above

    # --- apps --------------------------------------------------------------------------
    def app_arn(self, app_id: str) -> str:
        return f"arn:aws:amplify:{self.region}:{ACCOUNT}:apps/{app_id}"

    def _app(self, app_id: str) -> App:
        if app_id not in self.apps:
            raise not_found(f"App {app_id} not found.")
        return self.apps[app_id]

    def create_app(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("name is required")
        platform = body.get("platform", "WEB")
        if platform not in PLATFORMS:
            raise bad_request(f"platform must be one of {', '.join(PLATFORMS)}")
        _check_rules(body.get("customRules"))
        now = self.clock()
        app_id = "d" + secrets.token_hex(7)[:13]
        fields = {k: body[k] for k in APP_FIELDS if k in body}
        fields.setdefault("platform", platform)
        app = App(app_id, fields, now, now, tags=dict(body.get("tags") or {}))
        app.access_token = body.get("accessToken") or body.get("oauthToken")
        self.apps[app_id] = app
        return {"app": self._app_view(app)}

    def get_app(self, app_id: str) -> dict[str, Any]:
        return {"app": self._app_view(self._app(app_id))}

    def update_app(self, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app(app_id)
        if "platform" in body and body["platform"] not in PLATFORMS:
            raise bad_request(f"platform must be one of {', '.join(PLATFORMS)}")
        _check_rules(body.get("customRules"))
        for key in APP_FIELDS:
            if key in body:
                app.fields[key] = body[key]
        app.access_token = body.get("accessToken") or body.get("oauthToken") or app.access_token
        app.updated = self.clock()
        return {"app": self._app_view(app)}

    def delete_app(self, app_id: str) -> dict[str, Any]:
        view = self._app_view(self._app(app_id))
        del self.apps[app_id]
        return {"app": view}

    def list_apps(self, query: dict[str, str]) -> dict[str, Any]:
        apps = sorted(self.apps.values(), key=lambda a: (a.created, a.app_id))
        page, token = self._page(apps, query)
        result: dict[str, Any] = {"apps": [self._app_view(a) for a in page]}
        if token:
            result["nextToken"] = token
        return result

    def _page(self, items: list[Any], query: dict[str, str]) -> tuple[list[Any], str | None]:
        try:
            start = int(query.get("nextToken") or 0)
            size = int(query.get("maxResults") or self.page_size)
        except ValueError as exc:
            raise bad_request("invalid nextToken or maxResults") from exc
        size = max(1, min(size, self.page_size))
        end = start + size
        return items[start:end], (str(end) if end < len(items) else None)

    def _app_view(self, app: App) -> dict[str, Any]:
        view: dict[str, Any] = {
            "description": "",
            "repository": "",
            "environmentVariables": {},
            "enableBranchAutoBuild": False,
            "enableBasicAuth": False,
            "customRules": [],
            **{k: v for k, v in app.fields.items() if k != "basicAuthCredentials"},
            "appId": app.app_id,
            "appArn": self.app_arn(app.app_id),
            "defaultDomain": f"{app.app_id}.amplifyapp.com",
            "createTime": app.created,
            "updateTime": app.updated,
            "tags": dict(app.tags),
            "repositoryCloneMethod": "TOKEN",
        }
        production = self._production_branch(app)
        if production:
            view["productionBranch"] = production
        return view

    def _production_branch(self, app: App) -> dict[str, Any] | None:
        for name, branch in app.branches.items():
            if branch.fields.get("stage") != "PRODUCTION":
                continue
            done = [j for j in branch.jobs if self._status(app, branch, j)[0] == "SUCCEED"]
            result: dict[str, Any] = {"branchName": name, "status": "NOT_DEPLOYED"}
            if done:
                result["status"] = "SUCCEED"
                result["lastDeployTime"] = self._status(app, branch, done[0])[1]
            return result
        return None

    # --- branches ----------------------------------------------------------------------
    def _branch(self, app: App, name: str) -> Branch:
        if name not in app.branches:
            raise not_found(f"Branch {name} not found for app {app.app_id}.")
        return app.branches[name]

    def create_branch(self, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app(app_id)
        name = body.get("branchName")
        if not isinstance(name, str) or not name:
            raise bad_request("branchName is required")
        if name in app.branches:
            raise bad_request(f"Branch {name} already exists for app {app_id}.")
        stage = body.get("stage", "NONE")
        if stage not in (*STAGES, "NONE"):
            raise bad_request(f"stage must be one of {', '.join(STAGES)}")
        now = self.clock()
        fields = {k: body[k] for k in BRANCH_FIELDS if k in body}
        fields["branchName"] = name
        branch = Branch(fields, now, now)
        app.branches[name] = branch
        return {"branch": self._branch_view(app, branch)}

    def get_branch(self, app_id: str, name: str) -> dict[str, Any]:
        app = self._app(app_id)
        return {"branch": self._branch_view(app, self._branch(app, name))}

    def update_branch(self, app_id: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app(app_id)
        branch = self._branch(app, name)
        if "stage" in body and body["stage"] not in STAGES:
            raise bad_request(f"stage must be one of {', '.join(STAGES)}")
        for key in BRANCH_FIELDS:
            if key in body:
                branch.fields[key] = body[key]
        branch.updated = self.clock()
        return {"branch": self._branch_view(app, branch)}

    def delete_branch(self, app_id: str, name: str) -> dict[str, Any]:
        app = self._app(app_id)
        view = self._branch_view(app, self._branch(app, name))
        del app.branches[name]
        return {"branch": view}

    def list_branches(self, app_id: str, query: dict[str, str]) -> dict[str, Any]:
        app = self._app(app_id)
        branches = sorted(app.branches.values(), key=lambda b: b.created)
        page, token = self._page(branches, query)
        result: dict[str, Any] = {"branches": [self._branch_view(app, b) for b in page]}
        if token:
            result["nextToken"] = token
        return result

    def _branch_view(self, app: App, branch: Branch) -> dict[str, Any]:
        name = branch.fields["branchName"]
        return {
            "description": "",
            "stage": "NONE",
            "framework": "",
            "displayName": name.replace("/", "-"),
            "enableNotification": False,
            "environmentVariables": {},
            "enableAutoBuild": True,
            "enableBasicAuth": False,
            "enablePullRequestPreview": False,
            "ttl": "5",
            **{k: v for k, v in branch.fields.items() if k != "basicAuthCredentials"},
            "branchArn": f"{self.app_arn(app.app_id)}/branches/{name}",
            "branchName": name,
            "createTime": branch.created,
            "updateTime": branch.updated,
            "customDomains": [],
            "activeJobId": branch.jobs[0].job_id if branch.jobs else "",
            "totalNumberOfJobs": str(len(branch.jobs)),
        }

    # --- jobs --------------------------------------------------------------------------
    def start_job(self, app_id: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self._app(app_id)
        branch = self._branch(app, name)
        job_type = body.get("jobType")
        if job_type not in JOB_TYPES:
            raise bad_request(f"jobType must be one of {', '.join(JOB_TYPES)}")
        if job_type == "RETRY":
            previous = self._job(app, branch, str(body.get("jobId", "")))
            commit_id, message = previous.commit_id, previous.commit_message
        else:
            commit_id = str(body.get("commitId") or "HEAD")
            message = str(body.get("commitMessage") or body.get("jobReason") or job_type)
        job = Job(
            job_id=str(len(branch.jobs) + 1),
            job_type=str(job_type),
            started=self.clock(),
            commit_id=commit_id,
            commit_message=message,
        )
        branch.jobs.insert(0, job)
        self._build(app, branch, job)
        return {"jobSummary": self._summary(app, branch, job)}

    def _build(self, app: App, branch: Branch, job: Job) -> None:
        """Start the job's BUILD step: in a thread when it runs, on the clock when simulated."""
        if isinstance(self.builder, str):
            job.build = amplify_build.simulated(self.builder)
            job.build_end = job.started + self.pending_seconds + self.job_seconds / len(JOB_STEPS)
            return
        environment = {
            **(app.fields.get("environmentVariables") or {}),
            **(branch.fields.get("environmentVariables") or {}),
        }
        request = BuildRequest(
            build_spec=str(branch.fields.get("buildSpec") or app.fields.get("buildSpec") or ""),
            app_root=str(environment.get("AMPLIFY_MONOREPO_APP_ROOT", "")),
            repository=str(app.fields.get("repository") or ""),
            platform=str(app.fields.get("platform") or "WEB"),
            environment={str(k): str(v) for k, v in environment.items()},
            job=f"{app.app_id}/{branch.fields['branchName']}/{job.job_id}",
        )
        builder = self.builder

        def run() -> None:
            try:
                outcome = builder.build(request)
            except Exception as exc:  # the job must end, whatever the engine did
                outcome = BuildOutcome(False, f"BUILD failed: the sandbox's builder: {exc}", "")
            with self.lock:
                job.build, job.build_end = outcome, max(self.clock(), job.started)

        threading.Thread(target=run, name=f"amplify-build-{job.job_id}", daemon=True).start()

    def hold(self, app_id: str, name: str, job_id: str) -> None:
        """Keep the job from ending (its last step runs on) until `release`; a test hook."""
        with self.lock:
            self._find_job(app_id, name, job_id).held_until = math.inf

    def release(self, app_id: str, name: str, job_id: str) -> None:
        """Let a held job end: when it would have, or now if that time has passed."""
        with self.lock:
            self._find_job(app_id, name, job_id).held_until = self.clock()

    def _find_job(self, app_id: str, name: str, job_id: str) -> Job:
        app = self._app(app_id)
        return self._job(app, self._branch(app, name), job_id)

    def _job(self, app: App, branch: Branch, job_id: str) -> Job:
        for job in branch.jobs:
            if job.job_id == job_id:
                return job
        raise not_found(f"Job {job_id} not found for branch {branch.fields['branchName']}.")

    def get_job(self, app_id: str, name: str, job_id: str) -> dict[str, Any]:
        app = self._app(app_id)
        branch = self._branch(app, name)
        job = self._job(app, branch, job_id)
        summary = self._summary(app, branch, job)
        return {"job": {"summary": summary, "steps": self._steps(app, branch, job)}}

    def stop_job(self, app_id: str, name: str, job_id: str) -> dict[str, Any]:
        app = self._app(app_id)
        branch = self._branch(app, name)
        job = self._job(app, branch, job_id)
        if self._status(app, branch, job)[0] in ("PENDING", "RUNNING"):
            job.stopped = self.clock()
        return {"jobSummary": self._summary(app, branch, job)}

    def list_jobs(self, app_id: str, name: str, query: dict[str, str]) -> dict[str, Any]:
        app = self._app(app_id)
        branch = self._branch(app, name)
        page, token = self._page(branch.jobs, query)
        result: dict[str, Any] = {"jobSummaries": [self._summary(app, branch, j) for j in page]}
        if token:
            result["nextToken"] = token
        return result

    def _timeline(self, job: Job) -> list[tuple[str, float, float]]:
        """(step, start, end): BUILD until the build ends (inf while it runs), then the
        simulated steps; a failed build ends the job."""
        each = self.job_seconds / len(JOB_STEPS)
        start = job.started + self.pending_seconds
        if job.build_end is None:
            return [("BUILD", start, math.inf)]
        end = max(start, job.build_end)
        steps = [("BUILD", start, end)]
        if not job.failed:
            steps += [("DEPLOY", end, end + each), ("VERIFY", end + each, end + 2 * each)]
        last, last_start, last_end = steps[-1]
        steps[-1] = (last, last_start, max(last_end, job.held_until))
        return steps

    def _status(self, app: App, branch: Branch, job: Job) -> tuple[str, float | None]:
        """The job's status now, and its end time once finished."""
        now = self.clock()
        if job.stopped is not None:
            return "CANCELLED", job.stopped
        if now < job.started + self.pending_seconds:
            return "PENDING", None
        end = self._timeline(job)[-1][2]
        if now < end:
            return "RUNNING", None
        return ("FAILED" if job.failed else "SUCCEED"), end

    def _summary(self, app: App, branch: Branch, job: Job) -> dict[str, Any]:
        status, end = self._status(app, branch, job)
        branch_arn = f"{self.app_arn(app.app_id)}/branches/{branch.fields['branchName']}"
        summary: dict[str, Any] = {
            "jobArn": f"{branch_arn}/jobs/{job.job_id}",
            "jobId": job.job_id,
            "commitId": job.commit_id,
            "commitMessage": job.commit_message,
            "commitTime": job.started,
            "startTime": job.started,
            "status": status,
            "jobType": job.job_type,
        }
        if end is not None:
            summary["endTime"] = end
        return summary

    def _steps(self, app: App, branch: Branch, job: Job) -> list[dict[str, Any]]:
        now = self.clock()
        steps: list[dict[str, Any]] = []
        logs = f"{self.base_url}/logs/{app.app_id}/{branch.fields['branchName']}/{job.job_id}"
        for name, start, end in self._timeline(job):
            if now < start or (job.stopped is not None and job.stopped < start):
                break
            failed = name == "BUILD" and job.failed
            if job.stopped is not None and job.stopped < end:
                status, end_time = "CANCELLED", job.stopped
            elif now < end:  # a build that runs ends at infinity
                status, end_time = "RUNNING", now
            else:
                status, end_time = ("FAILED" if failed else "SUCCEED"), end
            step: dict[str, Any] = {
                "stepName": name,
                "startTime": start,
                "endTime": end_time,
                "status": status,
                "logUrl": f"{logs}/{name}",
            }
            if name == "BUILD" and job.build is not None and job.build.reason:
                step["statusReason"] = job.build.reason
            steps.append(step)
        return steps

    def log_text(self, app_id: str, name: str, job_id: str, step: str) -> str:
        app = self._app(app_id)
        branch = self._branch(app, name)
        job = self._job(app, branch, job_id)
        lines = [f"# deploytools sandbox: Amplify job {job_id} ({job.job_type}), step {step}"]
        lines.append(f"# platform {app.fields.get('platform')}, branch {name}")
        if step == "BUILD":
            lines.append(job.build.log.rstrip("\n") if job.build else "(the build is running)")
        else:
            lines.append(f"simulated: {step} (the sandbox hosts nothing)")
        return "\n".join(lines) + "\n"

    # --- tags --------------------------------------------------------------------------
    def _tagged(self, arn: str) -> App:
        for app in self.apps.values():
            if self.app_arn(app.app_id) == arn:
                return app
        raise ApiError(404, "ResourceNotFoundException", f"Resource {arn} not found.")

    def list_tags(self, arn: str) -> dict[str, Any]:
        return {"tags": dict(self._tagged(arn).tags)}

    def tag(self, arn: str, body: dict[str, Any]) -> dict[str, Any]:
        self._tagged(arn).tags.update(body.get("tags") or {})
        return {}

    def untag(self, arn: str, query: dict[str, list[str]]) -> dict[str, Any]:
        app = self._tagged(arn)
        for key in query.get("tagKeys", []):
            app.tags.pop(key, None)
        return {}


def _check_rules(rules: Any) -> None:
    for rule in rules or []:
        if not isinstance(rule, dict) or not rule.get("source") or not rule.get("target"):
            raise bad_request("customRules: every rule needs source and target")


SEGMENT = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{pattern}$"), op)
    for method, pattern, op in (
        ("POST", "/apps", "create_app"),
        ("GET", "/apps", "list_apps"),
        ("GET", f"/apps/{SEGMENT}", "get_app"),
        ("POST", f"/apps/{SEGMENT}", "update_app"),
        ("DELETE", f"/apps/{SEGMENT}", "delete_app"),
        ("POST", f"/apps/{SEGMENT}/branches", "create_branch"),
        ("GET", f"/apps/{SEGMENT}/branches", "list_branches"),
        ("GET", f"/apps/{SEGMENT}/branches/{SEGMENT}", "get_branch"),
        ("POST", f"/apps/{SEGMENT}/branches/{SEGMENT}", "update_branch"),
        ("DELETE", f"/apps/{SEGMENT}/branches/{SEGMENT}", "delete_branch"),
        ("POST", f"/apps/{SEGMENT}/branches/{SEGMENT}/jobs", "start_job"),
        ("GET", f"/apps/{SEGMENT}/branches/{SEGMENT}/jobs", "list_jobs"),
        ("GET", f"/apps/{SEGMENT}/branches/{SEGMENT}/jobs/{SEGMENT}", "get_job"),
        ("DELETE", f"/apps/{SEGMENT}/branches/{SEGMENT}/jobs/{SEGMENT}/stop", "stop_job"),
        ("GET", f"/tags/{SEGMENT}", "list_tags"),
        ("POST", f"/tags/{SEGMENT}", "tag"),
        ("DELETE", f"/tags/{SEGMENT}", "untag"),
        ("GET", f"/logs/{SEGMENT}/{SEGMENT}/{SEGMENT}/{SEGMENT}", "log_text"),
    )
]
WITH_BODY = {"create_app", "update_app", "create_branch", "update_branch", "start_job", "tag"}
WITH_QUERY = {"list_apps", "list_branches", "list_jobs"}


def dispatch(
    state: AmplifyState, method: str, raw_path: str, body: dict[str, Any]
) -> tuple[str, Any]:
    """(operation, result) for one request; raises ApiError as AWS would answer."""
    parts = urlsplit(raw_path)
    # Path parameters arrive percent-encoded (branch names with '/', ARNs): match, then decode.
    for route_method, pattern, operation in ROUTES:
        match = pattern.match(parts.path)
        if route_method != method or not match:
            continue
        args: list[Any] = [unquote(g) for g in match.groups()]
        query = parse_qs(parts.query)
        if operation == "untag":
            args.append(query)
        elif operation in WITH_QUERY:
            args.append({k: v[-1] for k, v in query.items()})
        elif operation in WITH_BODY:
            args.append(body)
        with state.lock:
            result = getattr(state, operation)(*args)
        for observer in list(state.observers):
            observer(operation, result)
        return operation, result
    raise ApiError(404, "NotFoundException", f"no Amplify operation for {method} {parts.path}")


def make_handle(state: AmplifyState) -> loopback_http.Handle:
    def handle(request: Request) -> Answer:
        try:
            body = json.loads(request.body) if request.body.strip() else {}
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
            operation, result = dispatch(state, request.method, request.path, body)
        except json.JSONDecodeError:
            return _error(ApiError(400, "BadRequestException", "the body is not valid JSON"))
        except ApiError as exc:
            return _error(exc)
        if operation == "log_text":
            return _send(200, str(result).encode(), "text/plain; charset=utf-8")
        return _send(200, json.dumps(result).encode(), "application/json")

    return handle


def _error(exc: ApiError) -> Answer:
    payload = json.dumps({"message": exc.message}).encode()
    return _send(exc.status, payload, "application/json", error=exc.code)


def _internal_error(exc: Exception) -> Answer:
    return _error(ApiError(500, "InternalFailure", f"sandbox Amplify emulator: {exc}"))


def _send(status: int, payload: bytes, kind: str, error: str | None = None) -> Answer:
    headers = {"Content-Type": kind, "x-amzn-RequestId": secrets.token_hex(16)}
    if error:
        headers["x-amzn-ErrorType"] = f"{error}:"
    return Answer(status, headers, payload)


@dataclass
class AmplifyEmulator:
    """A running emulator: `url` for endpoint_url=, `state` for tests that look inside."""

    url: str
    state: AmplifyState
    stop: Callable[[], None]


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    region: str = "us-east-1",
    pending_seconds: float = 0.5,
    job_seconds: float = 3.0,
    builder: Builder | str = "no builder was given to the emulator",
    page_size: int = DEFAULT_PAGE,
) -> AmplifyEmulator:
    """Start an emulator on loopback (port 0: a free one) in a daemon thread."""
    state = AmplifyState(
        region=region,
        pending_seconds=pending_seconds,
        job_seconds=job_seconds,
        builder=builder,
        page_size=page_size,
    )
    served = loopback_http.serve(
        make_handle(state), _internal_error, name="amplify-emulator", host=host, port=port
    )
    state.base_url = served.url
    return AmplifyEmulator(url=served.url, state=state, stop=served.stop)


def start(ctx: EmulatorContext) -> Emulator:
    """The sandbox's entry point: serves Amplify until the sandbox stops."""
    seconds = float(os.environ.get("DEPLOYTOOLS_SANDBOX_AMPLIFY_JOB_SECONDS", "3"))
    emulator = serve(
        host=ctx.host,
        job_seconds=seconds,
        pending_seconds=min(1.0, seconds / 4),
        builder=sandbox_builder(),
    )
    return Emulator(name="amplify", services={"amplify": emulator.url}, stop=emulator.stop)


def sandbox_builder() -> Builder | str:
    """Builds on the local Docker engine, or why there are none."""
    workloads = containers.connect(None)
    if isinstance(workloads, str):
        return workloads
    image = os.environ.get("DEPLOYTOOLS_SANDBOX_NODE_IMAGE") or node_image.NODE_IMAGE
    source = Path(os.environ.get("DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE") or os.getcwd())
    client = workloads.client
    return amplify_build.ContainerBuilder(
        client,
        image,
        source,
        workloads.sandbox,
        make_image=(lambda: node_image.ensure(client)) if image == node_image.NODE_IMAGE else None,
        cache=amplify_build.default_cache(),
        artifacts=state_dir() / "amplify-artifacts",
    )
