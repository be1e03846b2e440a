"""plan: the deploy's steps walked read-only, each saying what it would do.

A step whose tool is missing here (Unavailable) is reported as skipped with the reason;
plan still describes everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from deploytools.checks.base import Severity
from deploytools.config import EnvConfig
from deploytools.config.model import TARGET_MODELS, Target
from deploytools.errors import BadInput, Unavailable
from deploytools.lib.ecr_declared import declared_repositories
from deploytools.lib.zip_selection import DEFAULT_EXCLUDES
from deploytools.output import Status, StepRecord
from deploytools.pipeline import preflight
from deploytools.pipeline.context import Run, pending_in
from deploytools.pipeline.deploy import packages
from deploytools.pipeline.targets import TargetJob, describe_all
from deploytools.steps.images import BuildImages
from deploytools.steps.targets import RefreshInputs, ZipPackage
from deploytools.steps.terraform.port import TerraformInputs
from deploytools.steps.terraform.var_files import resolve_var_files

T = TypeVar("T")


@dataclass(frozen=True)
class PlanResult:
    document: dict[str, Any]
    check_errors: int


def plan(run: Run) -> PlanResult:
    env = run.env()
    doc: dict[str, Any] = {"project": env.model.project, "env": env.env, "region": env.region}
    findings = preflight.check(run, stop_on_errors=False)
    doc["findings"] = [f.as_dict() for f in findings]
    preflight.account(run, env)
    doc["secrets"] = _secrets(run, env)
    doc["images"] = _images(run, env)
    zips = _guarded_packages(run, env, doc)
    outputs = _terraform(run, env, doc, zips)
    resolved = run.env(outputs or None)
    targets = run.selected(resolved)
    doc["targets"] = {name: _describe(t) for name, t in targets.items()}
    predicted = {i["name"]: i.get("uri") for i in doc["images"] if isinstance(i, dict)}
    jobs = [_job(name, t, predicted) for name, t in targets.items()]
    for change in describe_all(run, jobs):
        doc["targets"][change.pop("name")].update(change)
    doc["amplify"] = _amplify(run, resolved)
    doc["smoke"] = [c.model_dump() for c in resolved.model.smoke]
    doc["pending_outputs"] = sorted(resolved.pending_tf)
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return PlanResult(doc, errors)


def _guarded(record: StepRecord, work: Callable[[], T], default: T) -> T:
    """Run a read-only step; a missing tool skips it with the reason."""
    try:
        return work()
    except Unavailable as exc:
        record.status, record.summary = Status.SKIPPED, str(exc).splitlines()[0]
        return default


def _secrets(run: Run, env: EnvConfig) -> dict[str, Any]:
    with run.reporter.step("secrets") as record:
        record.status = Status.UNCHANGED
        if env.model.secrets is None:
            record.summary = "no secrets: section"
            return {"path": None, "required": [], "missing": []}
        required = list(env.model.secrets.required)
        missing = _guarded(record, lambda: run.ports.secrets.missing(run.aws, env), None)
        if missing is not None:
            record.summary = f"missing: {', '.join(missing)}" if missing else "all required present"
        return {"path": env.model.secrets.ssm_path, "required": required, "missing": missing}


def _images(run: Run, env: EnvConfig) -> list[dict[str, Any]]:
    with run.reporter.step("images") as record:
        record.status = Status.UNCHANGED
        names = sorted(env.model.images)
        if not names:
            record.summary = "no images"
            return []
        request = BuildImages(root=run.config.root, names=names)
        planned = _guarded(record, lambda: run.ports.images.plan(run.aws, env, request), None)
        if planned is None:
            return [_image_from_config(env, name) for name in names]
        record.summary = ", ".join(f"{i.name}: {i.action}" for i in planned)
        return [i.as_dict() for i in planned]


def _image_from_config(env: EnvConfig, name: str) -> dict[str, Any]:
    image = env.model.images[name]
    return {
        "name": name,
        "repository": image.repository,
        "platform": image.platform,
        "action": "build, push (not planned: the images step is not available)",
    }


def _guarded_packages(run: Run, env: EnvConfig, doc: dict[str, Any]) -> dict[str, ZipPackage]:
    """Zip packages are local files: plan builds them so Terraform can plan the functions."""
    try:
        zips = packages(run, env)
    except BadInput as exc:
        doc["packages"] = {"skipped": str(exc)}
        return {}
    doc["packages"] = {
        name: {"path": str(z.path), "sha256": z.code_sha256, **_excludes(env, name)}
        for name, z in zips.items()
    }
    return zips


def _excludes(env: EnvConfig, name: str) -> dict[str, list[str]]:
    """What the zip leaves out: the built-in excludes drop tests and training code silently,
    so plan names them beside the target's own."""
    package = getattr(env.model.targets[name], "package", None)
    own = list(package.excludes) if package is not None else []
    return {"builtin_excludes": list(DEFAULT_EXCLUDES), "excludes": own}


def _terraform(
    run: Run, env: EnvConfig, doc: dict[str, Any], zips: dict[str, ZipPackage]
) -> Mapping[str, object]:
    section = env.model.terraform
    if section is None:
        doc["terraform"] = None
        return {}
    declared = declared_repositories((run.config.root / section.dir).resolve())
    first = sorted(
        {declared[str(i.repository)] for i in env.model.images.values() if i.repository in declared}
    )
    doc["terraform"] = {
        "dir": section.dir,
        "pending_outputs": sorted(env.pending_tf),
        "apply_first": first,  # the repositories the root declares, before the images push
    }
    try:
        inputs = TerraformInputs(
            root=run.config.root,
            images={i["name"]: i["uri"] for i in doc["images"] if i.get("uri")},
            packages=zips,
            var_files=resolve_var_files(run.config.root, section.var_files),
            apply=False,
            sandbox=run.policy.terraform_state(env.model.project, env.env),
        )
        return run.ports.terraform.apply(run.aws, env, inputs, reporter=run.reporter).values
    except Unavailable as exc:  # terraform is not installed here
        with run.reporter.step("terraform") as record:
            record.status, record.summary = Status.SKIPPED, str(exc).splitlines()[0]
        doc["terraform"]["skipped"] = str(exc)
        return {}


def _job(name: str, target: Target, predicted: dict[str, str | None]) -> TargetJob:
    # Only names that identify the resource must be known to describe it; a warm-up URL
    # waiting for {tf.api_url} does not stop plan from reading the function.
    pending = pending_in({k: getattr(target, k) for k in target.IDENTITY_KEYS})
    skip = None
    if pending:
        skip = "needs Terraform output(s) " + ", ".join(sorted(pending)) + " (not applied yet)"
    inputs = RefreshInputs(image=predicted.get(target.image or ""))
    return TargetJob(name, target, inputs=inputs, skip=skip)


def _amplify(run: Run, env: EnvConfig) -> dict[str, Any] | None:
    amplify = env.model.frontend.amplify if env.model.frontend else None
    if amplify is None:
        return None
    with run.reporter.step("amplify") as record:
        record.status = Status.UNCHANGED
        planned = _guarded(
            record, lambda: run.ports.amplify.plan(run.aws, env, root=run.config.root), None
        )
        if planned is None:
            return {"app": amplify.app, "branch": amplify.branch, "skipped": record.summary}
        record.summary = planned.line()
        return {**planned.as_dict(), "summary": planned.line()}


def _describe(target: Target) -> dict[str, Any]:
    described: dict[str, Any] = target.model_dump(exclude_none=True, exclude_defaults=False)
    return described


def render(plan_doc: dict[str, Any]) -> list[str]:
    """The human lines after the step lines (the same wording plan has always had)."""
    lines = []
    for image in plan_doc["images"]:
        repository = image.get("repository", "?")
        platform = image.get("platform", "linux/amd64")
        action = image.get("action", "?")
        lines.append(f"  image {image['name']}: {action} → {repository} ({platform})")
    for name, package in plan_doc.get("packages", {}).items():
        if isinstance(package, dict) and "builtin_excludes" in package:
            own = ", ".join(package["excludes"]) or "none"
            lines.append(
                f"  package {name}: leaves out the built-in excludes "
                f"({', '.join(package['builtin_excludes'])}) and its own ({own})"
            )
    if plan_doc["terraform"]:
        first = plan_doc["terraform"].get("apply_first")
        if first:
            lines.append(f"  terraform: apply {', '.join(first)} first (-target), before the push")
        lines.append(f"  terraform: plan and apply {plan_doc['terraform']['dir']}")
    for name, target in plan_doc["targets"].items():
        resource = target.get(TARGET_MODELS[target["type"]].RESOURCE_KEY, "")
        image = target.get("image", "zip package")
        change = target.get("change") or target.get("skipped") or target.get("error")
        lines.append(
            f"  target {name} ({target['type']}): refresh {resource} to image {image}"
            + (f": {change}" if change else "")
        )
    if plan_doc["pending_outputs"]:
        names = ", ".join("{tf." + o + "}" for o in plan_doc["pending_outputs"])
        lines.append(f"  unresolved until Terraform runs: {names}")
    return lines
