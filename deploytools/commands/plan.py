"""deploytools plan: what deploy would do, read-only."""

from __future__ import annotations

import argparse
from typing import Any

from botocore.exceptions import ClientError

from deploytools.checks import Severity, run_checks
from deploytools.commands import App, add_env
from deploytools.config import EnvConfig
from deploytools.errors import ExitCode

NAME = "plan"
HELP = "show what deploy would do for an environment; changes nothing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_env(parser)


def run(app: App) -> int:
    reporter = app.reporter
    env = app.env_config()
    plan: dict[str, Any] = {"project": env.model.project, "env": env.env, "region": env.region}
    with reporter.step("check") as step:
        findings = run_checks(app.check_context())
        errors = [f for f in findings if f.severity is Severity.ERROR]
        step.summary = f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
        plan["findings"] = [f.as_dict() for f in findings]
    aws = app.aws(env)
    with reporter.step("account") as step:
        account = aws.assert_account(env.environment.account_id, env=env.env)
        step.summary = f"account {account} matches environment {env.env}"
    with reporter.step("secrets") as step:
        plan["secrets"] = _secrets(aws.client("ssm"), env)
        missing = plan["secrets"]["missing"]
        step.summary = f"missing: {', '.join(missing)}" if missing else "all required present"
    with reporter.step("images") as step:
        plan["images"] = _images(aws.client("ecr"), env)
        step.summary = ", ".join(f"{i['name']} → {i['repository']}" for i in plan["images"])
    plan["terraform"] = _terraform(env)
    plan["targets"] = {name: _describe(t) for name, t in env.model.targets.items()}
    plan["pending_outputs"] = sorted(env.pending_tf)
    _print(app, plan)
    if app.args.json:
        reporter.document(reporter.steps_document(plan=plan))
    return ExitCode.CHECK_FINDINGS if errors else ExitCode.OK


def _secrets(ssm: Any, env: EnvConfig) -> dict[str, Any]:
    if env.model.secrets is None:
        return {"path": None, "present": [], "missing": []}
    path = env.model.secrets.ssm_path
    present: set[str] = set()
    paginator = ssm.get_paginator("describe_parameters")
    filters = [{"Key": "Path", "Option": "Recursive", "Values": [path.rstrip("/") or "/"]}]
    for page in paginator.paginate(ParameterFilters=filters):
        present.update(p["Name"].rsplit("/", 1)[-1] for p in page["Parameters"])
    missing = [n for n in env.model.secrets.required if n not in present]
    return {"path": path, "present": sorted(present), "missing": missing}


def _images(ecr: Any, env: EnvConfig) -> list[dict[str, Any]]:
    result = []
    for name, image in env.model.images.items():
        try:
            ecr.describe_repositories(repositoryNames=[image.repository])
            exists = True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryNotFoundException":
                raise
            exists = False
        result.append(
            {
                "name": name,
                "repository": image.repository,
                "platform": image.platform,
                "repository_exists": exists,
                "action": "build, push" + ("" if exists else " (create repository)"),
            }
        )
    return result


def _terraform(env: EnvConfig) -> dict[str, Any] | None:
    tf = env.model.terraform
    return None if tf is None else {"dir": tf.dir, "pending_outputs": sorted(env.pending_tf)}


def _describe(target: Any) -> dict[str, Any]:
    return target.model_dump(exclude_none=True, exclude_defaults=False)  # type: ignore[no-any-return]


def _print(app: App, plan: dict[str, Any]) -> None:
    line = app.reporter.line
    for image in plan["images"]:
        line(f"  image {image['name']}: {image['action']} → {image['repository']} ({image['platform']})")
    if plan["terraform"]:
        line(f"  terraform: plan and apply {plan['terraform']['dir']}")
    for name, target in plan["targets"].items():
        resource = next(
            (target[k] for k in ("service", "function", "deployment", "job_definition") if k in target),
            "",
        )
        line(f"  target {name} ({target['type']}): refresh {resource} to image {target.get('image', 'zip package')}")
    if plan["pending_outputs"]:
        line(f"  unresolved until Terraform runs: {', '.join('{tf.' + o + '}' for o in plan['pending_outputs'])}")
