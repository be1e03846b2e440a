"""The boto3 calls a Python module makes, and the IAM actions they need.

Found from the syntax tree: clients and resources made with `boto3.client("svc")`,
`boto3.resource("svc")` or a `Session`'s, kept in names or attributes (`self.table`), the
sub-resources made from them (`dynamodb.Table(...)`, `s3.Object(...)`), paginators
(`get_paginator("list_objects_v2")`) and chained calls. A method maps to its IAM action
through AWS's database; a method the database has no action for is not judged.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from deploytools.checks.iam import actions as iam_database

# boto3 service names whose IAM prefix differs.
PREFIX = {
    "stepfunctions": "states", "elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing",
    "sesv2": "ses", "sagemaker-runtime": "sagemaker", "bedrock-runtime": "bedrock",
    "bedrock-agent-runtime": "bedrock", "apigatewaymanagementapi": "execute-api",
    "iot-data": "iot", "opensearch": "es", "textract": "textract",
}  # fmt: skip
NEEDS_NO_PERMISSION = {"sts"}  # get_caller_identity and assume_role are judged elsewhere
# (service, method) pairs whose action name is not the method's CamelCase.
ACTION = {
    ("s3", "list_objects"): "ListBucket", ("s3", "list_objects_v2"): "ListBucket",
    ("s3", "head_bucket"): "ListBucket", ("s3", "head_object"): "GetObject",
    ("s3", "upload_file"): "PutObject", ("s3", "upload_fileobj"): "PutObject",
    ("s3", "download_file"): "GetObject", ("s3", "download_fileobj"): "GetObject",
    ("s3", "copy_object"): "PutObject", ("s3", "copy"): "PutObject",
    ("s3", "delete_objects"): "DeleteObject", ("s3", "list_object_versions"): "ListBucketVersions",
    ("s3", "put"): "PutObject", ("s3", "get"): "GetObject", ("s3", "delete"): "DeleteObject",
    ("s3", "load"): "GetObject", ("s3", "copy_from"): "PutObject",
    ("lambda", "invoke"): "InvokeFunction", ("lambda", "invoke_async"): "InvokeFunction",
    ("dynamodb", "batch_writer"): "BatchWriteItem", ("dynamodb", "load"): "DescribeTable",
    ("execute-api", "post_to_connection"): "ManageConnections",
}  # fmt: skip
NOT_CALLS = {
    "get_paginator", "get_waiter", "can_paginate", "close", "meta", "exceptions",
    "generate_presigned_post", "generate_presigned_url",
}  # fmt: skip


@dataclass(frozen=True)
class ApiCall:
    line: int
    service: str  # the boto3 service name, e.g. dynamodb
    method: str  # e.g. update_item
    action: str  # the IAM action, e.g. dynamodb:UpdateItem
    how: str  # the call as written, e.g. table.update_item


def camel(method: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in method.split("_"))


def iam_action(service: str, method: str, child: str = "") -> str | None:
    """The IAM action a boto3 method needs, when AWS's database has it."""
    prefix = PREFIX.get(service, service)
    names = [ACTION.get((prefix, method)), camel(method), camel(method) + child]
    for name in names:
        if name:
            found = iam_database.lookup(f"{prefix}:{name}")
            if found is not None:
                return found.full
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.boto3: set[str] = set()  # names of the boto3 module
        self.factories: dict[str, str] = {}  # from boto3 import client -> "client"
        self.sessions: set[str] = set()
        self.clients: dict[str, str] = {}  # expression text -> service
        self.resources: dict[str, str] = {}
        self.children: dict[str, tuple[str, str]] = {}  # text -> (service, sub-resource)
        self.calls: list[ApiCall] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "boto3":
                self.boto3.add(alias.asname or "boto3")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module in ("boto3", "boto3.session"):
            for alias in node.names:
                if alias.name in ("client", "resource", "Session"):
                    self.factories[alias.asname or alias.name] = alias.name

    def _made(self, node: ast.AST) -> tuple[str, str] | None:
        """("client"|"resource"|"session", service) when `node` makes a client or resource."""
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.factories:
            kind = self.factories[func.id]
        elif isinstance(func, ast.Attribute) and func.attr in ("client", "resource", "Session"):
            owner = ast.unparse(func.value)
            is_module = owner in self.boto3 or owner in {f"{b}.session" for b in self.boto3}
            made_here = self._made(func.value) == ("session", "")
            if not (is_module or owner in self.sessions or made_here):
                return None
            kind = func.attr
        else:
            return None
        if kind == "Session":
            return "session", ""
        service = node.args[0] if node.args else _keyword(node, "service_name")
        if isinstance(service, ast.Constant) and isinstance(service.value, str):
            return kind, service.value
        return None

    def bind(self, node: ast.Assign | ast.AnnAssign) -> None:
        if isinstance(node, ast.Assign):
            self._bind([ast.unparse(t) for t in node.targets], node.value)
        elif node.value is not None:
            self._bind([ast.unparse(node.target)], node.value)

    def _bind(self, names: list[str], value: ast.AST) -> None:
        made = self._made(value)
        child = self._child(value)
        for name in names:
            if made is not None and made[0] == "session":
                self.sessions.add(name)
            elif made is not None:
                (self.clients if made[0] == "client" else self.resources)[name] = made[1]
            elif child is not None:
                self.children[name] = child

    def _child(self, node: ast.AST) -> tuple[str, str] | None:
        """(service, sub-resource) for `resource.Table(...)` and the like."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            service = self._resource_of(node.func.value)
            if service is not None and node.func.attr[:1].isupper():
                return service, node.func.attr
        return None

    def _resource_of(self, node: ast.AST) -> str | None:
        made = self._made(node)
        if made is not None and made[0] == "resource":
            return made[1]
        return self.resources.get(ast.unparse(node))

    def _client_of(self, node: ast.AST) -> str | None:
        made = self._made(node)
        if made is not None and made[0] == "client":
            return made[1]
        return self.clients.get(ast.unparse(node))

    def record(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute):
            self._record(node, node.func)

    def _record(self, node: ast.Call, func: ast.Attribute) -> None:
        method, owner = func.attr, func.value
        service = self._client_of(owner)
        if service is not None and service not in NEEDS_NO_PERMISSION:
            if method == "get_paginator" and node.args:
                name = node.args[0]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    self._add(node, service, name.value)
            elif method not in NOT_CALLS:
                self._add(node, service, method)
            return
        child = self._child(owner) or self.children.get(ast.unparse(owner))
        if child is not None:
            self._add(node, child[0], method, child[1])
        elif (resource := self.resources.get(ast.unparse(owner))) and not method[:1].isupper():
            self._add(node, resource, method)

    def _add(self, node: ast.Call, service: str, method: str, child: str = "") -> None:
        action = iam_action(service, method, child)
        if action is not None:
            how = ast.unparse(node.func)
            how = how if len(how) <= 60 else f"{service}….{method}"
            self.calls.append(ApiCall(node.lineno, service, method, action, how))


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def api_calls(source: str) -> list[ApiCall]:
    """The boto3 calls of one module, in source order; [] when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    nodes = list(ast.walk(tree))
    scanner = _Scanner()
    for node in nodes:  # imports, then bindings (twice: one may use another), then calls
        if isinstance(node, ast.Import | ast.ImportFrom):
            scanner.visit(node)
    assignments = [n for n in nodes if isinstance(n, ast.Assign | ast.AnnAssign)]
    for node in assignments + assignments:
        scanner.bind(node)
    for node in nodes:
        if isinstance(node, ast.Call):
            scanner.record(node)
    return sorted(set(scanner.calls), key=lambda c: (c.line, c.action))
