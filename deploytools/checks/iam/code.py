"""DT009's code half: an action a workload's code calls that its role's policies do not allow.

The failure this catches: a Batch job stuck in RUNNING (or an API answering 500) because its
role lacks `dynamodb:UpdateItem`, found in production instead of before the deploy. For each
ECS, Lambda and Batch target whose code the config names (`env_from_code`, a Lambda
`package.source`), the Terraform workload it deploys to gives the role; the boto3 calls in
the code give the actions. Only the action is compared, not the resource: which table a call
reaches is known at run time only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding
from deploytools.checks.iam.calls import api_calls
from deploytools.checks.iam.roles import (
    PolicyStatement,
    Role,
    allows,
    readable,
    roles,
    workload_for,
    workloads,
)
from deploytools.checks.index import SKIP_DIRS
from deploytools.config.interpolate import Resolver
from deploytools.config.model import Config
from deploytools.lib.hcl import TfFile

RULE = "DT009"
NAME_OF = {"ecs": "service", "lambda": "function", "batch": "job_definition"}


def code_findings(ctx: CheckContext, statements: Sequence[PolicyStatement]) -> Iterator[Finding]:
    if ctx.config is None or not ctx.config.model.targets:
        return
    files: list[TfFile] = ctx.terraform_files()
    defined, running = roles(files), workloads(files)
    model = ctx.config.model
    for target_name, target in model.targets.items():
        if target.type not in NAME_OF:
            continue
        workload = workload_for(target.type, _deployed_name(model, target_name), running)
        role = defined.get(workload.role) if workload is not None else None
        if workload is None or role is None or not readable(role, statements):
            continue
        reported: set[str] = set()
        for path in _code(ctx, target):
            for call in api_calls(ctx.read(path)):
                if call.action in reported or allows(role, statements, call.action):
                    continue
                reported.add(call.action)
                yield _finding(ctx, path, call.line, target_name, call.how, call.action, role)


def _deployed_name(model: Config, target_name: str) -> str | None:
    """The target's resource name in the first environment (placeholders filled in)."""
    target = model.targets[target_name]
    written = getattr(target, NAME_OF[target.type], None) or f"{{project}}-{{env}}-{target_name}"
    resolver = Resolver(model.project, next(iter(model.environments)))
    name = resolver.text(str(written))
    return None if resolver.pending else name  # a {tf.*} name: only the only workload fits


def _code(ctx: CheckContext, target: object) -> Iterator[Path]:
    assert ctx.config is not None
    folders = list(getattr(target, "env_from_code", []))
    package = getattr(target, "package", None)
    if package is not None:
        folders.append(package.source)
    seen: set[Path] = set()
    for folder in folders:
        path = ctx.config.root / folder
        found = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
        for file in found:
            if file.suffix == ".py" and file not in seen and not _skipped(path, file):
                seen.add(file)
                yield file


def _skipped(base: Path, file: Path) -> bool:
    return file != base and bool(SKIP_DIRS.intersection(file.relative_to(base).parts[:-1]))


def _finding(
    ctx: CheckContext, path: Path, line: int, target: str, how: str, action: str, role: Role
) -> Finding:
    where = ctx.rel(role.file.path)
    return Finding(
        ctx.rel(path),
        line,
        RULE,
        f"targets.{target} calls {how} ({action}), but its role {role.address} ({where}) "
        "does not allow it",
        fix=f'add statement {{ actions = ["{action}"], resources = [<the ARN it reaches>] }} '
        f"to {role.attach_to}",
    )
