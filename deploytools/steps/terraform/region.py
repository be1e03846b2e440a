"""One region for Terraform and deploytools: passed in, then read back from the plan.

A root that declares its own `region` (or `aws_region`) variable gets the config's region
for it; a provider block whose region still differs (a literal, another variable) is
refused before anything is applied, since deploytools would then look for the resources in
one region while Terraform made them in another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploytools.errors import BadInput

REGION_VARIABLES = ("region", "aws_region")
_VARIABLE = re.compile(r'^\s*variable\s+"(?P<name>[A-Za-z0-9_-]+)"', re.MULTILINE)


def declared_variables(root: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(root.glob("*.tf")):
        try:
            names.update(m["name"] for m in _VARIABLE.finditer(path.read_text(errors="replace")))
        except OSError:
            continue
    return names


def region_variables(root: Path, region: str, env: Mapping[str, str]) -> dict[str, str]:
    """TF_VAR_region / TF_VAR_aws_region for the variables the root declares (unless set)."""
    declared = declared_variables(root)
    return {
        f"TF_VAR_{name}": region
        for name in REGION_VARIABLES
        if name in declared and f"TF_VAR_{name}" not in env
    }


def provider_region(plan: Mapping[str, Any]) -> str | None:
    """The default AWS provider's region as the plan resolved it, when the plan says."""
    config = (plan.get("configuration") or {}).get("provider_config", {}).get("aws") or {}
    expression = (config.get("expressions") or {}).get("region") or {}
    if isinstance(expression.get("constant_value"), str):
        return str(expression["constant_value"])
    for reference in expression.get("references") or []:
        if reference.startswith("var."):
            value = ((plan.get("variables") or {}).get(reference[4:]) or {}).get("value")
            return value if isinstance(value, str) else None
    return None


def refuse_mismatch(plan: Mapping[str, Any], *, expected: str, root: Path) -> None:
    found = provider_region(plan)
    if found and expected and found != expected:
        raise BadInput(
            f"{root}: the AWS provider's region is {found} but deploytools deploys to "
            f"{expected}; set the provider's region from a `region` variable (deploytools "
            f"passes TF_VAR_region) or change `region:` in deploytools.yml"
        )
