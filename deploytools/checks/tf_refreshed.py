"""What deploytools refreshes, seen from Terraform: the resource types of the configured target
types, and the line of an attribute inside a block (for the DT011 to DT013 findings)."""

from __future__ import annotations

import re

from deploytools.checks.base import CheckContext
from deploytools.lib.hcl import Block, TfFile

# target type -> the Terraform resource type whose live value deploytools changes
RESOURCE_OF_TARGET = {
    "lambda": "aws_lambda_function",
    "ecs": "aws_ecs_service",
    "batch": "aws_batch_job_definition",
}


def target_types(ctx: CheckContext) -> set[str]:
    """The configured target types ({} without a config)."""
    if ctx.config is None:
        return set()
    return {target.type for target in ctx.config.model.targets.values()}


def aliased_lambdas(ctx: CheckContext) -> list[str]:
    """The aliases of the configured Lambda targets that have one."""
    if ctx.config is None:
        return []
    aliases = [getattr(t, "alias", None) for t in ctx.config.model.targets.values()]
    return sorted({a for a in aliases if a and isinstance(a, str)})


def attribute_line(tf: TfFile, block: Block, attribute: str) -> int:
    """The line of `attribute = …` inside the block, else the block's first line."""
    if block.span is None:
        return 1
    found = re.compile(rf"^\s*{re.escape(attribute)}\s*=", re.M).search(
        tf.text, block.span.start, block.span.end
    )
    return tf.line_of(found.start()) if found else block.span.line


def text_of(value: object) -> str:
    """An attribute's value as written (the expression without its `${}`)."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return str(value)
