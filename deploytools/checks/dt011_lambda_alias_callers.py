"""DT011: a caller in Terraform invokes the unqualified Lambda function instead of its alias.

An `aws_apigatewayv2_integration` (`integration_uri`), an `aws_api_gateway_integration`
(`uri`) or an `aws_lambda_event_source_mapping` (`function_name`) that names the function
itself (`aws_lambda_function.<n>.arn` / `.invoke_arn` / `.function_name`, a module's
function output, or a function ARN without a qualifier), and an `aws_lambda_function_url`
without `qualifier`, run `$LATEST`: the warm-up and the alias rollback do not protect them.
deploytools then moves `$LATEST` on every deploy and rollback too, and says so; pointing the
caller at the alias makes both exact. Only when a Lambda target has an alias.

Suppress one with a `# deploytools: allow DT011 <reason>` comment in or above the block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.checks.tf_refreshed import aliased_lambdas, attribute_line, text_of

RULE = "DT011"
CALLER_ATTRIBUTE = {
    "aws_apigatewayv2_integration": "integration_uri",
    "aws_api_gateway_integration": "uri",
    "aws_lambda_event_source_mapping": "function_name",
}
_FUNCTION_REF = re.compile(
    r"\baws_lambda_function\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.(arn|invoke_arn|function_name)\b"
)
_MODULE_FUNCTION = re.compile(r"\bmodule\.[A-Za-z0-9_-]+\.(function_\w+|invoke_arn|arn)\b")


def unqualified(value: str) -> bool:
    """The expression names the function itself (or $LATEST), not an alias or version."""
    if "alias" in value or "qualified" in value:
        return False
    if _FUNCTION_REF.search(value) or _MODULE_FUNCTION.search(value):
        return True
    if ":function:" not in value:
        return False
    named = value.split(":function:", 1)[1].removesuffix("/invocations")
    return ":" not in named or named.endswith(":$LATEST")


@rule(
    RULE,
    "Lambda callers that bypass the alias",
    description=(
        "An API Gateway integration, event source mapping or function URL invokes the "
        "unqualified function: the alias rollback changes nothing it serves."
    ),
    severity=Severity.WARNING,
    needs_config=True,
)
def lambda_alias_callers(ctx: CheckContext) -> Iterator[Finding]:
    aliases = aliased_lambdas(ctx)
    if not aliases:
        return
    alias = aliases[0]
    for tf in ctx.terraform_files():
        for block in tf.blocks:
            if block.kind != "resource" or tf.allowed(RULE, block.span):
                continue
            where = f"{block.type}.{block.name}"
            if block.type == "aws_lambda_function_url":
                if "qualifier" in block.body:
                    continue
                line = block.span.line if block.span else 1
                message = f"{where} has no qualifier: the URL invokes $LATEST, not alias {alias}"
                fix = f"set `qualifier = {alias!r}` (the alias name)".replace("'", '"')
            elif block.type in CALLER_ATTRIBUTE:
                attribute = CALLER_ATTRIBUTE[block.type]
                value = text_of(block.body.get(attribute, ""))
                if not unqualified(value):
                    continue
                line = attribute_line(tf, block, attribute)
                message = (
                    f"{where} invokes the unqualified function ({attribute} = {value}): "
                    f"rolling back alias {alias} changes nothing it serves"
                )
                fix = (
                    "use the alias: aws_lambda_alias.<name>.invoke_arn / .arn (or the module's "
                    "alias_arn output); until then deploytools moves $LATEST on every deploy "
                    "and rollback too"
                )
            else:
                continue
            yield Finding(ctx.rel(tf.path), line, RULE, message, fix, Severity.WARNING)
