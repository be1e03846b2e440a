"""DT013: a caller pins a revision of a Batch job definition deploytools refreshes.

deploytools deploys a Batch target by registering a new revision; jobs submitted by name
(or by the ARN without `:N`) run the newest ACTIVE one, and a rollback registers another.
A caller holding `name:N` or `…:job-definition/name:N` never sees either. Flagged: in
Terraform, `aws_batch_job_definition.<n>.arn` (the ARN with its revision) passed to another
resource or module, or a literal `…job-definition/<name>:N`; in code and config files, a
`<name>:N` string for a configured job definition.

Suppress one with a `# deploytools: allow DT013 <reason>` comment (Terraform) on or above it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.lib.hcl import TfFile

RULE = "DT013"
CODE_FILES = ("*.py", "*.js", "*.ts", "*.json", "*.yml", "*.yaml", "*.sh", "*.env")
_ARN_REF = re.compile(r"\baws_batch_job_definition\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.arn\b")
_PINNED_ARN = re.compile(r":job-definition/([A-Za-z0-9_${}.-]+):(\d+)\b")
FIX_TF = "use .arn_prefix (the ARN without the revision) or .name: Batch runs the newest revision"
FIX_CODE = "submit with the name (or the ARN without :N): Batch then runs the newest revision"


def configured_names(ctx: CheckContext) -> list[re.Pattern[str]]:
    """Each Batch target's job definition name as a pattern ({env} and friends match any)."""
    if ctx.config is None:
        return []
    patterns = []
    for target in ctx.config.model.targets.values():
        name = getattr(target, "job_definition", None) if target.type == "batch" else None
        if isinstance(name, str) and name:
            parts = re.split(r"\{[^}]*\}", name)
            patterns.append(re.compile("[A-Za-z0-9_-]*".join(re.escape(p) for p in parts)))
    return patterns


def _terraform(ctx: CheckContext, tf: TfFile) -> Iterator[Finding]:
    for number, line in enumerate(tf.lines, 1):
        for match in _ARN_REF.finditer(line):
            if tf.allowed(RULE, None, line=number) or _inside_own_block(tf, number, match[1]):
                continue
            yield Finding(
                ctx.rel(tf.path),
                number,
                RULE,
                f"aws_batch_job_definition.{match[1]}.arn names one revision: callers never "
                "run what deploytools registers later",
                FIX_TF,
                Severity.WARNING,
            )
        for match in _PINNED_ARN.finditer(line):
            if not tf.allowed(RULE, None, line=number):
                yield _pinned(ctx, tf.path, number, f"{match[1]}:{match[2]}", FIX_TF)


def _inside_own_block(tf: TfFile, line: int, name: str) -> bool:
    for block in tf.blocks:
        own = block.type == "aws_batch_job_definition" and block.name == name
        if own and block.span and block.span.line <= line <= block.span.end_line:
            return True
    return False


def _pinned(ctx: CheckContext, path: Path, line: int, pinned: str, fix: str) -> Finding:
    return Finding(
        ctx.rel(path),
        line,
        RULE,
        f"job definition {pinned} is pinned to revision {pinned.rsplit(':', 1)[1]}: callers "
        "never run what deploytools registers later",
        fix,
        Severity.WARNING,
    )


@rule(
    RULE,
    "Batch job definition pinned to a revision",
    description="Code or Terraform names `name:N` of a job definition deploytools refreshes.",
    severity=Severity.WARNING,
    needs_config=True,
)
def batch_revision_pin(ctx: CheckContext) -> Iterator[Finding]:
    names = configured_names(ctx)
    if not names:
        return
    for tf in ctx.terraform_files():
        yield from _terraform(ctx, tf)
    for path in ctx.files(*CODE_FILES):
        for number, line in enumerate(ctx.read(path).splitlines(), 1):
            for match in re.finditer(r"([A-Za-z0-9_-]+):(\d+)\b", line):
                if any(p.fullmatch(match[1]) for p in names):
                    yield _pinned(ctx, path, number, match[0], FIX_CODE)
