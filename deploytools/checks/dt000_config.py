"""DT000: deploytools.yml itself is valid (every other rule trusts it), and so is the Terraform
the rules read: a module folder that a `source` names exists, and python-hcl2 can parse every
.tf file (one it cannot is a warning, so DT007/DT008/DT009 never report clean unread)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.config.interpolate import PLACEHOLDER
from deploytools.lib.ecr_declared import declared_repositories
from deploytools.lib.terraform_outputs import declared_outputs

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>.*)$")


@rule(
    "DT000",
    "deploytools.yml is invalid",
    description=(
        "Unsafe or unreadable YAML, unknown keys, wrong types, undefined images or "
        "environments, missing files or paths outside the repository, names AWS refuses, "
        "malformed placeholders, {tf.<output>} references to outputs the Terraform root does "
        "not declare, `create_repository: true` for a repository the Terraform root declares, "
        "local module folders that do not exist, and .tf files python-hcl2 cannot parse."
    ),
)
def config_is_valid(ctx: CheckContext) -> Iterator[Finding]:
    config_file = ctx.rel(ctx.config_path) if ctx.config_path else "deploytools.yml"
    for problem in ctx.config_problems:
        match = PROBLEM.match(problem)
        if match:
            line, message = int(match["line"]), match["message"]
        else:
            line, message = 1, problem
        yield Finding(
            config_file, line, "DT000", message, fix="Correct the key as the message says."
        )
    yield from undeclared_outputs(ctx)
    yield from repositories_created_twice(ctx)
    yield from terraform_problems(ctx)


def repositories_created_twice(ctx: CheckContext) -> Iterator[Finding]:
    """`create_repository: true` (written out) for a repository `aws_ecr_repository` declares:
    two owners of one repository, and the second create fails."""
    config = ctx.config
    if config is None or config.model.terraform is None:
        return
    tf_dir = (config.root / config.model.terraform.dir).resolve()
    declared = declared_repositories(tf_dir) if config.model.images else {}
    for name, image in config.model.images.items():
        repository = image.repository or f"{config.model.project}-{name}"
        address = declared.get(repository)
        if address is None or "create_repository" not in image.model_fields_set:
            continue
        if image.create_repository:
            yield Finding(
                ctx.rel(config.path),
                config.line(("images", name, "create_repository")),
                "DT000",
                f"images.{name}.create_repository: true, but {config.model.terraform.dir} "
                f"declares the repository {repository} ({address}): one owner only",
                fix="Remove create_repository (deploytools then applies the Terraform "
                "repository first), or remove the aws_ecr_repository.",
            )


def terraform_problems(ctx: CheckContext) -> Iterator[Finding]:
    for missing in ctx.terraform.missing_modules:
        yield Finding(
            missing.rel,
            missing.line,
            "DT000",
            f'module "{missing.module}": source "{missing.source}" is not a folder '
            f"({missing.folder} does not exist)",
            fix="Add the module folder to the repository, or correct the source path.",
        )
    for unread in ctx.terraform.unparseable:
        yield Finding(
            unread.rel,
            unread.line,
            "DT000",
            f"python-hcl2 cannot parse this file (stopped at column {unread.column}); DT007, "
            "DT008 and DT009 did not read it",
            fix="Run terraform validate; if Terraform accepts the file, report the construct "
            "to python-hcl2 and review the file by hand.",
            severity=Severity.WARNING,
        )


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
