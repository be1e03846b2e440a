"""Who invokes a Lambda function, and whether they bypass its alias.

An API Gateway integration, an event source mapping or a function URL that names the
unqualified function (or `$LATEST`) runs whatever code `$LATEST` has: moving the alias back
changes nothing they serve. The Lambda target reads these callers so that a deploy and a
rollback move `$LATEST` too, and say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.lib.aws_errors import error_code

LATEST = "$LATEST"
# arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>], also inside the
# apigateway `.../functions/<arn>/invocations` form.
_FUNCTION_ARN = re.compile(
    r":function:(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9_$-]+))?"
)


@dataclass(frozen=True)
class Caller:
    """Something that invokes the function; `qualifier` None means the unqualified function."""

    kind: str  # API Gateway integration | event source mapping | function URL
    name: str  # which one: api/integration id, mapping UUID, URL
    qualifier: str | None

    @property
    def bypasses_alias(self) -> bool:
        return self.qualifier in (None, LATEST)

    def describe(self) -> str:
        target = "the unqualified function" if self.qualifier is None else self.qualifier
        return f"{self.kind} {self.name} invokes {target}"


def invoked_qualifier(uri: str, function: str) -> tuple[bool, str | None]:
    """(whether `uri` names `function`, the qualifier it names or None)."""
    match = _FUNCTION_ARN.search(uri)
    if match is None or match["name"] != function:
        return False, None
    return True, match["qualifier"]


@dataclass(frozen=True)
class CallerReport:
    callers: tuple[Caller, ...]
    unread: tuple[str, ...]  # what could not be read, and why

    @property
    def bypassing(self) -> tuple[Caller, ...]:
        return tuple(c for c in self.callers if c.bypasses_alias)


def read_callers(aws: AwsContext, function: str) -> CallerReport:
    """The integrations, mappings and URL that invoke `function`; read-only."""
    callers: list[Caller] = []
    unread: list[str] = []
    lambda_ = aws.client("lambda")
    try:
        callers += _mappings(lambda_, function)
    except (ClientError, BotoCoreError) as exc:
        unread.append(f"event source mappings: {_why(exc)}")
    try:
        callers += _function_url(lambda_, function)
    except (ClientError, BotoCoreError) as exc:
        unread.append(f"function URL: {_why(exc)}")
    if aws.endpoint_for("lambda") and not aws.endpoint_for("apigatewayv2"):
        # An emulated Lambda with a real API Gateway would mix two worlds; none is read.
        unread.append("API Gateway integrations: no apigatewayv2 endpoint beside Lambda's")
    else:
        try:
            callers += _integrations(aws.client("apigatewayv2"), function)
        except (ClientError, BotoCoreError) as exc:
            unread.append(f"API Gateway integrations: {_why(exc)}")
    return CallerReport(tuple(callers), tuple(unread))


def _mappings(client: Any, function: str) -> list[Caller]:
    found = []
    for page in client.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
        for mapping in page.get("EventSourceMappings", []):
            named, qualifier = invoked_qualifier(str(mapping.get("FunctionArn", "")), function)
            if named:
                found.append(Caller("event source mapping", str(mapping["UUID"]), qualifier))
    return found


def _function_url(client: Any, function: str) -> list[Caller]:
    try:
        url = client.get_function_url_config(FunctionName=function)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []
        raise
    return [Caller("function URL", str(url.get("FunctionUrl", "")), None)]


def _integrations(client: Any, function: str) -> list[Caller]:
    found = []
    for page in client.get_paginator("get_apis").paginate():
        for api in page.get("Items", []):
            api_id = str(api["ApiId"])
            integrations = client.get_integrations(ApiId=api_id).get("Items", [])
            for integration in integrations:
                uri = str(integration.get("IntegrationUri", ""))
                named, qualifier = invoked_qualifier(uri, function)
                if named:
                    where = f"{api.get('Name', api_id)}/{integration['IntegrationId']}"
                    found.append(Caller("API Gateway integration", where, qualifier))
    return found


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return error_code(exc) or "error"
    return type(exc).__name__
