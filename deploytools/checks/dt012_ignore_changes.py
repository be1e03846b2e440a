"""DT012: a Terraform resource deploytools refreshes does not ignore what deploytools owns.

deploytools changes the live code and environment of a Lambda function, the task definition
revision of an ECS service and the container of a Batch job definition. A resource without
`lifecycle { ignore_changes = [...] }` for those attributes is put back by the next
`terraform apply`, silently undoing the deploy. The finding names the missing attributes.
Only for the resource types of the configured target types.

Suppress one with a `# deploytools: allow DT012 <reason>` comment in or above the block.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.checks.tf_refreshed import RESOURCE_OF_TARGET, target_types, text_of

RULE = "DT012"
LAMBDA_CODE = ("filename", "source_code_hash", "s3_bucket", "s3_key", "s3_object_version")


def owned(resource_type: str, body: Mapping[str, Any]) -> list[str]:
    """The attributes of this resource deploytools changes after Terraform."""
    if resource_type == "aws_ecs_service":
        return ["task_definition"]
    if resource_type == "aws_batch_job_definition":
        return ["container_properties"]
    if "image_uri" in body or text_of(body.get("package_type", "")) == "Image":
        return ["image_uri", "environment"]
    code = [name for name in LAMBDA_CODE if name in body] or ["filename", "source_code_hash"]
    return [*code, "environment"]


def ignored(body: Mapping[str, Any]) -> set[str] | None:
    """The attributes `ignore_changes` names; None for `ignore_changes = all`."""
    names: set[str] = set()
    lifecycles = body.get("lifecycle") or []
    for lifecycle in lifecycles if isinstance(lifecycles, list) else [lifecycles]:
        value = lifecycle.get("ignore_changes") if isinstance(lifecycle, Mapping) else None
        if value is None:
            continue
        if text_of(value) == "all":
            return None
        for item in value if isinstance(value, list) else [value]:
            # `environment`, `scaling_config[0].desired_size`: the top attribute counts
            names.add(text_of(item).split("[", 1)[0].split(".", 1)[0])
    return names


@rule(
    RULE,
    "Terraform would undo deploytools",
    description=(
        "A resource deploytools refreshes (aws_lambda_function, aws_ecs_service, "
        "aws_batch_job_definition) lacks ignore_changes for what deploytools owns."
    ),
    severity=Severity.WARNING,
    needs_config=True,
)
def ignore_changes(ctx: CheckContext) -> Iterator[Finding]:
    refreshed = {RESOURCE_OF_TARGET[t] for t in target_types(ctx) if t in RESOURCE_OF_TARGET}
    for tf in ctx.terraform_files():
        for block in tf.blocks:
            if block.kind != "resource" or block.type not in refreshed:
                continue
            if tf.allowed(RULE, block.span):
                continue
            names = ignored(block.body)
            if names is None:
                continue
            missing = [name for name in owned(block.type, block.body) if name not in names]
            if not missing:
                continue
            wanted = sorted(names | set(missing))
            yield Finding(
                ctx.rel(tf.path),
                block.span.line if block.span else 1,
                RULE,
                f"{block.type}.{block.name} does not ignore {', '.join(missing)}: the next "
                "terraform apply undoes what deploytools deployed",
                fix=f"add `lifecycle {{ ignore_changes = [{', '.join(wanted)}] }}`",
                severity=Severity.WARNING,
            )
