"""DT009: IAM policies broader than the workload needs.

The Terraform half reads every `Allow` statement of
- `data "aws_iam_policy_document"` blocks (`statement { actions, resources }`), and
- `policy` arguments written inline as `jsonencode({...})` or as a JSON heredoc, in any
  resource (`aws_iam_policy`, `aws_iam_role_policy`, `aws_iam_user_policy`,
  `aws_iam_group_policy`, `aws_iam_role.inline_policy`, bucket/key/repository policies, ...),

and flags a statement that
- allows `Action "*"` (everything on every service), or
- allows a whole service (`"s3:*"`: its write actions included), or
- allows, on `Resource "*"`, a write action (AWS's access levels Write, Permissions
  management, Tagging; or a wildcard such as `s3:Put*` that covers one) that accepts a
  resource ARN. Actions AWS grants only on "*" (`xray:PutTraceSegments`,
  `cloudwatch:PutMetricData`) cannot be scoped and are not findings. Which is which comes from
  AWS's IAM database (`deploytools.checks.iam.actions`); an action it does not know is judged
  by its verb.

Key policies (an `aws_kms_key`'s `policy`, the documents it references, or a statement with
principals and only kms actions) are not judged: there "*" means the key itself. A comment
containing `deploytools: allow DT009 <reason>` or `Resource "*" required` inside the statement
or on the line directly above it exempts the statement. Deny statements, `not_actions` and
statements built by `dynamic` blocks or expressions are not judged.

The code half (a role missing an action its code calls) is `deploytools.checks.iam.code`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.checks.iam import actions as iam_database
from deploytools.checks.iam.code import code_findings
from deploytools.lib.hcl import Block, Span, TfFile, expression

RULE = "DT009"
# Verbs that change something; an action is a write when its verb starts with one of them.
WRITE_VERBS = (
    "Abort", "Accept", "Activate", "Add", "Allocate", "Associate", "Attach", "Authorize",
    "Cancel", "Change", "Complete", "Copy", "Create", "Deactivate", "Delete", "Deregister",
    "Detach", "Disable", "Disassociate", "Enable", "Execute", "Import", "Initiate", "Invoke",
    "Modify", "Move", "Pass", "Publish", "Purge", "Put", "Reboot", "Register", "Reject",
    "Release", "Remove", "Replace", "Reset", "Restore", "Revoke", "Rotate", "Run", "Schedule",
    "Send", "Set", "Start", "Stop", "Submit", "Tag", "Terminate", "Transfer", "Untag",
    "Update", "Upload", "Write",
)  # fmt: skip
EXEMPT = re.compile(r'deploytools:\s*allow\s+DT009\b|Resource\s+"\*"\s+required', re.I)
SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")
POLICY_ATTRIBUTES = ("policy",)  # assume_role_policy is a trust policy: no Resource to judge
KEY_RESOURCES = ("aws_kms_key", "aws_kms_replica_key", "aws_kms_replica_external_key")
DOCUMENT_REF = re.compile(r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json")


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement as written in Terraform, with where it is."""

    file: TfFile
    where: str  # e.g. data.aws_iam_policy_document.task
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    span: Span | None  # the statement's text; None when it could not be located
    principals: bool = False  # a resource-based policy's statement
    key_policy: bool = False

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    def line_of(self, *keys: str) -> int:
        """The line of the first of `keys` inside the statement, else the statement's."""
        if self.span is None:
            return 1
        text = self.file.text[self.span.start : self.span.end]
        for key in keys:
            match = re.search(rf'(^|[\s{{,])"?{key}"?\s*[=:]', text)
            if match:
                return self.file.line_of(self.span.start + match.start(0) + len(match.group(1)))
        return self.span.line

    @property
    def exempt(self) -> bool:
        if self.span is None:
            return False
        return any(EXEMPT.search(c) for c in self.file.comments(self.line - 1, self.span.end_line))


def is_write(action: str) -> bool:
    """True for a write action, or a wildcard that can match one (IAM ignores case)."""
    if action == "*":
        return True
    verb = action.partition(":")[2].lower()
    verbs = [v.lower() for v in WRITE_VERBS]
    if "*" in verb:
        prefix = verb.split("*", 1)[0]
        return any(v.startswith(prefix) or prefix.startswith(v) for v in verbs)
    return verb.startswith(tuple(verbs))


def scopable_write(action: str) -> bool:
    """A write action (or a pattern covering one) that AWS lets a policy scope to an ARN."""
    if action == "*":
        return True
    service = action.partition(":")[0]
    if not iam_database.known_service(service):
        return is_write(action)
    return any(a.writes and a.resource_level for a in iam_database.matching(action))


def _is_key_policy(statement: Statement) -> bool:
    if statement.key_policy:
        return True
    kms_only = all(a.lower().startswith("kms:") for a in statement.actions)
    return statement.principals and kms_only


def problems(statement: Statement) -> Iterator[tuple[int, str, str]]:
    """(line, message, fix) for each way the statement is too broad."""
    if statement.effect.lower() != "allow" or _is_key_policy(statement):
        return
    action_line = statement.line_of("actions", "Action")
    if "*" in statement.actions:
        yield (
            action_line,
            f'{statement.where} allows Action "*" (every action on every service)',
            "list the actions the workload calls, e.g. s3:GetObject, s3:PutObject",
        )
        return
    wildcards = sorted(a for a in statement.actions if SERVICE_WILDCARD.match(a))
    if wildcards:
        yield (
            action_line,
            f"{statement.where} allows every action of a service: {', '.join(wildcards)}",
            "list the actions the workload calls instead of the service wildcard",
        )
    if "*" not in statement.resources:
        return
    writes = sorted(a for a in statement.actions if a not in wildcards and scopable_write(a))
    if writes:
        shown = ", ".join(writes[:4]) + (", …" if len(writes) > 4 else "")
        yield (
            statement.line_of("resources", "Resource"),
            f'{statement.where} allows write actions on Resource "*": {shown}',
            "name the ARNs (bucket/*, the table, the parameter path); these actions accept them",
        )


def _strings(value: Any) -> tuple[str, ...] | None:
    """A list of literal strings, or None when any item is an expression we cannot judge."""
    items = value if isinstance(value, list) else [value]
    if any(not isinstance(item, str) for item in items):
        return None
    return tuple(items)


# -- aws_iam_policy_document -----------------------------------------------------------------


def _statement_spans(tf: TfFile, block: Block) -> list[Span]:
    if block.span is None:
        return []
    body = tf.text[block.span.start : block.span.end]
    spans = []
    for match in re.finditer(r"^[ \t]*statement[ \t]*\{", body, re.M):
        spans.append(tf.bracket_span(block.span.start + match.end() - 1))
    return spans


def _document_statements(tf: TfFile, block: Block, key_documents: set[str]) -> Iterator[Statement]:
    statements = block.body.get("statement") or []
    spans = _statement_spans(tf, block)
    where = f"data.aws_iam_policy_document.{block.name}"
    for index, body in enumerate(statements):
        if not isinstance(body, dict) or "actions" not in body:
            continue
        actions = _strings(body.get("actions", []))
        resources = _strings(body.get("resources", []))
        if actions is None or resources is None:
            continue
        span = spans[index] if len(spans) == len(statements) else block.span
        effect = str(body.get("effect", "Allow"))
        principals = bool(body.get("principals"))
        key = block.name in key_documents
        yield Statement(tf, where, effect, actions, resources, span, principals, key)


# -- jsonencode({...}) and JSON heredocs ------------------------------------------------------


def _policy_data(value: Any, parse: Callable[[str], Any]) -> Any:
    if not isinstance(value, str):
        return None
    text = expression(value)
    if text is not None:
        call = re.match(r"^\s*jsonencode\s*\((.*)\)\s*$", text, re.S)
        return parse(call.group(1)) if call else None
    heredoc = re.match(r"^<<-?([A-Za-z_][A-Za-z0-9_]*)\n(.*)\n\s*\1\s*$", value, re.S)
    if heredoc:
        try:
            return json.loads(heredoc.group(2))
        except ValueError:
            return None
    return None


def _json_statement_spans(tf: TfFile, search_from: int, limit: int) -> list[Span]:
    """Spans of the statement objects after the first `Statement` key in text[from:limit]."""
    key = re.compile(r'"?Statement"?\s*[=:]\s*([\[{])').search(tf.text, search_from, limit)
    if key is None:
        return []
    open_at = key.start(1)
    if tf.text[open_at] == "{":
        return [tf.bracket_span(open_at)]
    spans = []
    close = tf.bracket_span(open_at).end
    i = open_at + 1
    while i < close:
        if tf.text[i] == "{":
            span = tf.bracket_span(i)
            spans.append(span)
            i = span.end
        else:
            i += 1
    return spans


def _policy_attributes(block: Block) -> Iterator[tuple[str, Any]]:
    for name in POLICY_ATTRIBUTES:
        if name in block.body:
            yield name, block.body[name]
    for inline in block.body.get("inline_policy") or []:
        if isinstance(inline, dict) and "policy" in inline:
            yield "inline_policy.policy", inline["policy"]


def _inline_statements(
    tf: TfFile, block: Block, parse: Callable[[str], Any]
) -> Iterator[Statement]:
    search_from = block.span.start if block.span else 0
    limit = block.span.end if block.span else len(tf.text)
    for attribute, value in _policy_attributes(block):
        data = _policy_data(value, parse)
        if not isinstance(data, dict):
            continue
        raw = data.get("Statement") or []
        statements: Sequence[Any] = raw if isinstance(raw, list) else [raw]
        attr = re.compile(rf"^[ \t]*{attribute.split('.')[-1]}[ \t]*=", re.M)
        found = attr.search(tf.text, search_from, limit)
        start = found.start() if found else search_from
        spans = _json_statement_spans(tf, start, limit)
        if found:
            search_from = found.end()
        where = f"{block.type}.{block.name}"
        for index, body in enumerate(statements):
            if not isinstance(body, dict) or "Action" not in body:
                continue
            actions = _strings(body.get("Action", []))
            resources = _strings(body.get("Resource", []))
            if actions is None or resources is None:
                continue
            span = spans[index] if len(spans) == len(statements) else block.span
            effect = str(body.get("Effect", "Allow"))
            principals = "Principal" in body
            key = block.type in KEY_RESOURCES
            yield Statement(tf, where, effect, actions, resources, span, principals, key)


def terraform_statements(ctx: CheckContext) -> Iterator[Statement]:
    """Every IAM statement written literally in the repository's Terraform."""
    files = ctx.terraform_files()
    key_documents = {
        name
        for tf in files
        for block in tf.blocks
        if block.kind == "resource" and block.type in KEY_RESOURCES
        for name in DOCUMENT_REF.findall(str(block.body.get("policy", "")))
    }
    for tf in files:
        for block in tf.blocks:
            if block.kind == "data" and block.type == "aws_iam_policy_document":
                yield from _document_statements(tf, block, key_documents)
            elif block.kind == "resource":
                yield from _inline_statements(tf, block, ctx.cache.expression)


def _terraform_findings(ctx: CheckContext) -> Iterator[Finding]:
    for statement in terraform_statements(ctx):
        if statement.exempt:
            continue
        for line, message, fix in problems(statement):
            yield Finding(ctx.rel(statement.file.path), line, RULE, message, fix=fix)


@rule(
    RULE,
    "IAM policy broader than the workload needs",
    description=(
        'Action "*", a service wildcard such as "s3:*", or write actions that accept an ARN '
        'on Resource "*", in Terraform IAM policies; and boto3 calls in a workload\'s code '
        "that its role's policies do not allow."
    ),
)
def iam_findings(ctx: CheckContext) -> Iterator[Finding]:
    yield from _terraform_findings(ctx)
    yield from code_findings(ctx, list(terraform_statements(ctx)))
