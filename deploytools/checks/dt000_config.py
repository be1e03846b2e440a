"""DT000: deploytools.yml itself is valid (every other rule trusts it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.checks.hcl_coverage import unparseable_findings
from deploytools.config.interpolate import PLACEHOLDER
from deploytools.steps.terraform.outputs import declared_outputs

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>.*)$")


@rule(
    "DT000",
    "deploytools.yml is invalid",
    description=(
        "Unknown keys, wrong types, undefined images or environments, missing files, and "
        "{tf.<output>} references to outputs the Terraform root does not declare."
    ),
)
def config_is_valid(ctx: CheckContext) -> Iterator[Finding]:
    for problem in ctx.config_problems:
        match = PROBLEM.match(problem)
        if match:
            file, line, message = match["file"], int(match["line"]), match["message"]
        else:
            file, line, message = "deploytools.yml", 1, problem
        yield Finding(file, line, "DT000", message, fix="Correct the key as the message says.")
    yield from undeclared_outputs(ctx)
    yield from unparseable_findings(ctx)


def undeclared_outputs(ctx: CheckContext) -> Iterator[Finding]:
    """`{tf.NAME}` where the Terraform root has no `output "NAME"`: caught before a deploy
    changes anything, not after the apply."""
    config = ctx.config
    if config is None or config.model.terraform is None:
        return
    tf_dir = (config.root / config.model.terraform.dir).resolve()
    declared = declared_outputs(tf_dir)
    if declared is None:
        return
    text = ctx.read(config.path)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for name in PLACEHOLDER.findall(line):
            scope, _, output = name.partition(".")
            if scope == "tf" and output and output not in declared:
                yield Finding(
                    ctx.rel(config.path),
                    number,
                    "DT000",
                    f"{{tf.{output}}}: {config.model.terraform.dir} declares no output "
                    f"'{output}' (it has: {', '.join(sorted(declared)) or 'none'})",
                    fix=f'Add output "{output}" to the Terraform root, or use one it has.',
                )
