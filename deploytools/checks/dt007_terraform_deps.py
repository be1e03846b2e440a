"""DT007: Terraform ordering and packaging pitfalls.

- A `kubernetes_*`, `kubectl_*` or `helm_release` resource without `depends_on` on the EKS
  cluster or node group (`aws_eks_cluster.*`, `aws_eks_node_group.*`,
  `aws_eks_fargate_profile.*`, or `module.<m>` where module <m> is an EKS module: its source
  or, when the module is declared elsewhere, its name contains "eks"). Without it Terraform
  may create the workload before any node can run it, and destroy the cluster first.
- An `archive_file` (data source or resource) with `source_dir` and no `excludes`: the zip
  then carries tests, caches and virtualenvs (DT004's territory at deploy time). Archives of
  a single `source_file` or of inline `source` content are not flagged.

Suppress one with a `# deploytools: allow DT007 <reason>` comment in or above the block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.lib.hcl import Block, TfFile, expression

RULE = "DT007"
KUBERNETES_TYPE = re.compile(r"^(kubernetes_|kubectl_|helm_release$)")
EKS_RESOURCE = re.compile(r"^(aws_eks_cluster|aws_eks_node_group|aws_eks_fargate_profile)\.")
MODULE_REF = re.compile(r"^module\.([A-Za-z_][A-Za-z0-9_-]*)")


def _references(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    refs = []
    for item in items:
        text = expression(item) if isinstance(item, str) else None
        refs.append((text if text is not None else str(item)).strip())
    return refs


def _eks_modules(files: list[TfFile]) -> dict[Path, set[str]]:
    """Per directory: the names of modules whose source looks like an EKS module."""
    found: dict[Path, set[str]] = {}
    for tf in files:
        for block in tf.blocks:
            if block.kind == "module" and "eks" in str(block.body.get("source", "")).lower():
                found.setdefault(tf.path.parent, set()).add(block.name)
    return found


def _declared_modules(files: list[TfFile]) -> dict[Path, set[str]]:
    declared: dict[Path, set[str]] = {}
    for tf in files:
        for block in tf.blocks:
            if block.kind == "module":
                declared.setdefault(tf.path.parent, set()).add(block.name)
    return declared


def _waits_for_eks(refs: list[str], eks: set[str], declared: set[str]) -> bool:
    for ref in refs:
        if EKS_RESOURCE.match(ref):
            return True
        module = MODULE_REF.match(ref)
        if module:
            name = module.group(1)
            if name in eks or (name not in declared and "eks" in name.lower()):
                return True
    return False


def _kubernetes_finding(ctx: CheckContext, tf: TfFile, block: Block) -> Finding:
    line = block.span.line if block.span else 1
    return Finding(
        ctx.rel(tf.path),
        line,
        RULE,
        f"{block.type}.{block.name} has no depends_on on the EKS cluster or node group",
        fix=(
            "add `depends_on = [module.eks]` (or aws_eks_node_group.<name>) so the workload "
            "is created after the nodes exist and destroyed before the cluster"
        ),
    )


def _archive_finding(ctx: CheckContext, tf: TfFile, block: Block) -> Finding:
    line = block.span.line if block.span else 1
    kind = "data source" if block.kind == "data" else "resource"
    return Finding(
        ctx.rel(tf.path),
        line,
        RULE,
        f"archive_file {kind} {block.name!r} zips source_dir without excludes",
        fix=(
            'add `excludes = ["tests/**", "**/__pycache__/**", ".venv/**", ...]`, or let '
            "deploytools build the Lambda zip (deterministic, excludes applied)"
        ),
    )


@rule(
    RULE,
    "Terraform resource ordering and packaging",
    description=(
        "Kubernetes/Helm resources without depends_on on the EKS cluster/node group; "
        "archive_file without excludes."
    ),
)
def terraform_dependencies(ctx: CheckContext) -> Iterator[Finding]:
    files = ctx.terraform_files()
    eks_modules = _eks_modules(files)
    declared = _declared_modules(files)
    for tf in files:
        folder = tf.path.parent
        for block in tf.blocks:
            if tf.allowed(RULE, block.span):
                continue
            if block.kind == "resource" and KUBERNETES_TYPE.match(block.type):
                refs = _references(block.body.get("depends_on") or [])
                eks = eks_modules.get(folder, set())
                if not _waits_for_eks(refs, eks, declared.get(folder, set())):
                    yield _kubernetes_finding(ctx, tf, block)
            elif _zips_everything(block):
                yield _archive_finding(ctx, tf, block)


def _zips_everything(block: Block) -> bool:
    return (
        block.type == "archive_file"
        and block.kind in ("data", "resource")
        and "source_dir" in block.body
        and not block.body.get("excludes")
    )
