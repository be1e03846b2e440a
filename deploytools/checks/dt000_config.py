"""DT000: deploytools.yml itself is valid (every other rule trusts it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deploytools.checks.base import CheckContext, Finding, rule

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>.*)$")


@rule(
    "DT000",
    "deploytools.yml is invalid",
    description="Unknown keys, wrong types, undefined images or environments, missing files.",
)
def config_is_valid(ctx: CheckContext) -> Iterator[Finding]:
    for problem in ctx.config_problems:
        match = PROBLEM.match(problem)
        if match:
            file, line, message = match["file"], int(match["line"]), match["message"]
        else:
            file, line, message = "deploytools.yml", 1, problem
        yield Finding(file, line, "DT000", message, fix="Correct the key as the message says.")
