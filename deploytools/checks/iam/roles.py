"""The roles Terraform defines, the policies attached to them, and the workloads that run under
them (an ECS task definition's task role, a Lambda function's role, a Batch job's role).

Everything here is read from the Terraform text as written: references such as
`aws_iam_role.trainer.arn` tie the blocks together. A role with a policy whose actions cannot
be read (a managed policy this module does not know, a document built from variables) is
marked `complete=False`, and no action is reported missing from it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from deploytools.lib.hcl import Block, TfFile

ROLE_REF = re.compile(r"aws_iam_role\.([A-Za-z0-9_-]+)\.(?:arn|id|name)")
DOCUMENT_REF = re.compile(r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json")
POLICY_REF = re.compile(r"aws_iam_policy\.([A-Za-z0-9_-]+)\.arn")
JOB_ROLE = re.compile(r"jobRoleArn\"?\s*[=:]\s*\"?\$?\{?\s*aws_iam_role\.([A-Za-z0-9_-]+)\.arn")
INTERPOLATION = re.compile(r"\$\{[^}]*\}")
# The AWS managed policies a workload role commonly carries, and what they allow.
MANAGED = {
    "AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
    ),
    "AWSLambdaVPCAccessExecutionRole": (
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ),
    "AWSXRayDaemonWriteAccess": (
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
        "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries",
    ),
    "AmazonS3ReadOnlyAccess": ("s3:Get*", "s3:List*", "s3-object-lambda:Get*"),
    "AmazonS3FullAccess": ("s3:*", "s3-object-lambda:*"),
    "AmazonDynamoDBFullAccess": ("dynamodb:*",),
    "AmazonDynamoDBReadOnlyAccess": ("dynamodb:BatchGet*", "dynamodb:Describe*",
                                     "dynamodb:Get*", "dynamodb:List*", "dynamodb:Query",
                                     "dynamodb:Scan", "dynamodb:PartiQLSelect"),
}  # fmt: skip
WORKLOADS = {  # target type -> (Terraform resource type, attribute naming it, role attribute)
    "ecs": ("aws_ecs_task_definition", "family", "task_role_arn"),
    "lambda": ("aws_lambda_function", "function_name", "role"),
    "batch": ("aws_batch_job_definition", "name", "container_properties"),
}


class PolicyStatement(Protocol):
    @property
    def where(self) -> str: ...
    @property
    def effect(self) -> str: ...
    @property
    def actions(self) -> tuple[str, ...]: ...


@dataclass
class Role:
    name: str  # aws_iam_role.<name>
    file: TfFile
    policies: list[str] = field(default_factory=list)  # where-names of statement sources
    managed_actions: list[str] = field(default_factory=list)
    complete: bool = True
    attach_to: str = ""  # the policy block a missing statement belongs in

    @property
    def address(self) -> str:
        return f"aws_iam_role.{self.name}"


@dataclass(frozen=True)
class Workload:
    kind: str  # ecs | lambda | batch
    address: str  # e.g. aws_batch_job_definition.training
    name_pattern: str  # its name as a glob: interpolations become *
    role: str  # aws_iam_role name


def _blocks(files: Iterable[TfFile], kind: str, *types: str) -> list[tuple[TfFile, Block]]:
    return [(tf, b) for tf in files for b in tf.blocks if b.kind == kind and b.type in types]


def roles(files: Sequence[TfFile]) -> dict[str, Role]:
    """Every aws_iam_role, with the sources of the statements that apply to it."""
    found = {b.name: Role(b.name, tf) for tf, b in _blocks(files, "resource", "aws_iam_role")}
    policy_sources = {
        b.name: _sources(b, f"aws_iam_policy.{b.name}")
        for _, b in _blocks(files, "resource", "aws_iam_policy")
    }
    for _, block in _blocks(files, "resource", "aws_iam_role"):
        role = found[block.name]
        if block.body.get("inline_policy"):
            role.policies.append(f"aws_iam_role.{block.name}")
        for arn in _strings(block.body.get("managed_policy_arns")):
            _attach(role, arn, policy_sources)
    for _, block in _blocks(files, "resource", "aws_iam_role_policy"):
        holder = _role_of(found, block)
        if holder is not None:
            sources = _sources(block, f"aws_iam_role_policy.{block.name}")
            holder.policies += sources
            holder.attach_to = holder.attach_to or sources[0]
    for _, block in _blocks(files, "resource", "aws_iam_role_policy_attachment"):
        attached = _role_of(found, block)
        if attached is not None:
            _attach(attached, str(block.body.get("policy_arn", "")), policy_sources)
    for role in found.values():
        role.attach_to = role.attach_to or f"a new aws_iam_role_policy for {role.address}"
    return found


def _role_of(found: dict[str, Role], block: Block) -> Role | None:
    match = ROLE_REF.search(str(block.body.get("role", "")))
    return found.get(match.group(1)) if match else None


def _sources(block: Block, own: str) -> list[str]:
    policy = str(block.body.get("policy", ""))
    documents = DOCUMENT_REF.findall(policy)
    return [f"data.aws_iam_policy_document.{d}" for d in documents] or [own]


def _attach(role: Role, arn: str, policy_sources: dict[str, list[str]]) -> None:
    local = POLICY_REF.search(arn)
    if local and local.group(1) in policy_sources:
        role.policies += policy_sources[local.group(1)]
        return
    managed = MANAGED.get(arn.rsplit("/", 1)[-1]) if ":iam::aws:policy/" in arn else None
    if managed is None:
        role.complete = False  # a policy this module cannot read
    else:
        role.managed_actions += managed


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if isinstance(value, str) else []


def workloads(files: Sequence[TfFile]) -> list[Workload]:
    found = []
    for kind, (resource_type, name_key, role_key) in WORKLOADS.items():
        for _, block in _blocks(files, "resource", resource_type):
            value = str(block.body.get(role_key, ""))
            match = (JOB_ROLE if kind == "batch" else ROLE_REF).search(value)
            if match is None:
                continue
            name = INTERPOLATION.sub("*", str(block.body.get(name_key, "*")))
            found.append(Workload(kind, f"{resource_type}.{block.name}", name, match.group(1)))
    return found


def workload_for(kind: str, name: str | None, candidates: Sequence[Workload]) -> Workload | None:
    """The workload a target deploys to: the only one of its kind, else the one its name fits."""
    of_kind = [w for w in candidates if w.kind == kind]
    if len(of_kind) == 1:
        return of_kind[0]
    if name is None:
        return None
    fitting = [w for w in of_kind if fnmatch.fnmatchcase(name, w.name_pattern)]
    return fitting[0] if len(fitting) == 1 else None


def readable(role: Role, statements: Sequence[PolicyStatement]) -> bool:
    """True when every policy of the role was read, so a missing action is really missing."""
    read = {s.where for s in statements}
    return role.complete and all(source in read for source in role.policies)


def allows(role: Role, statements: Sequence[PolicyStatement], action: str) -> bool:
    """True when one of the role's Allow statements (or managed policies) covers `action`."""
    wanted = action.lower()
    patterns = list(role.managed_actions)
    for statement in statements:
        if statement.where in role.policies and statement.effect.lower() == "allow":
            patterns += statement.actions
    return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in patterns)
