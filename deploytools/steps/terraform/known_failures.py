"""Terraform failures that name what this machine (or the endpoint) lacks, in one line each.

Terraform's own text for these is long (a provider's Go stack trace runs to hundreds of
lines) and does not say what to do here: a provider missing from the offline mirror, a
provider that crashed, an AWS API the endpoint does not implement (moto's gaps, such as EKS
access entries), a Lambda layer of an account the endpoint does not hold (AWS-managed layers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_WRAPPED = re.compile(r"\s+")
_MISSING_PROVIDER = re.compile(
    r"provider registry\.terraform\.io/(?P<name>[\w.-]+/[\w.-]+) was not found in any of the "
    r"search locations(?: - (?P<where>/\S+))?"
)
_NO_VERSION = re.compile(
    r"Could not retrieve the list of available versions for provider (?P<name>[\w.-]+/[\w.-]+): "
    r"no available releases match the given constraints (?P<wanted>[^.]+?)(?: Error:|$)"
)
_CRASHED = re.compile(r"The (?P<plugin>[\w.-]+) plugin crashed!")
_PANIC = re.compile(r"^(panic: .+|fatal error: .+)$", re.M)
_RESOURCE = re.compile(r"with (?P<resource>[\w.\[\]\"-]+),\s+on (?P<file>\S+) line (?P<line>\d+)")
# An API moto has no route for answers an HTML page (which the SDK cannot decode), or says
# it is not implemented; a JSON 404 is a resource that does not exist, not this.
_UNIMPLEMENTED = re.compile(
    r"operation error (?P<service>[\w ]+): (?P<operation>\w+), https response error "
    r"StatusCode: (?:404|500|501)\b.{0,120}?(?:deserialization failed|not been implemented)"
)
_FOREIGN_LAYER = re.compile(r"LayerVersion does not exist \['(?P<arn>arn:aws:lambda:[^']+)'")


def summarise(text: str, *, emulated: bool) -> str | None:
    """One line naming what is missing and the fix, or None for any other failure.

    `emulated`: the AWS endpoints are overridden (the sandbox, moto), so an API that answers
    404 is one the endpoint lacks, not a resource that does not exist.
    """
    flat = _WRAPPED.sub(" ", text)
    for summary in (_missing_provider, _crash, _foreign_layer, _unimplemented_api):
        found = summary(text, flat, emulated)
        if found:
            return found
    return None


def _missing_provider(text: str, flat: str, emulated: bool) -> str | None:
    missing = _MISSING_PROVIDER.search(flat)
    if missing:
        where = missing["where"]
        mirror = f" ({where}; it has {_mirrored(Path(where))})" if where else ""
        return (
            f"provider {missing['name']} is not in the Terraform provider mirror{mirror}, and "
            "this machine cannot download providers: add it to the mirror from a machine that "
            "can (`terraform providers mirror DIR` in a root that requires it), or use a "
            "provider the mirror has"
        )
    version = _NO_VERSION.search(flat)
    if version:
        return (
            f"provider {version['name']}: no version in the Terraform provider mirror matches "
            f"{version['wanted'].strip()}; widen the root's version constraint or add that "
            "version to the mirror"
        )
    return None


def _mirrored(mirror: Path) -> str:
    """`hashicorp/aws 5.100.0, ...`: what a filesystem mirror holds."""
    found = sorted(
        f"{ns.name}/{kind.name} {version.name}"
        for host in _dirs(mirror)
        for ns in _dirs(host)
        for kind in _dirs(ns)
        for version in _dirs(kind)
    )
    return ", ".join(found) or "no provider"


def _dirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def _crash(text: str, flat: str, emulated: bool) -> str | None:
    crashed = _CRASHED.search(flat)
    if not crashed:
        return None
    panic = _PANIC.search(text)
    first = panic.group(1).strip() if panic else "no panic message"
    return (
        f"the Terraform provider {crashed['plugin']} crashed{_where(flat)}: {first}; a bug in "
        "the provider, not the root (its stack trace is left out): retry, or pin another "
        "provider version"
    )


def _unimplemented_api(text: str, flat: str, emulated: bool) -> str | None:
    if not emulated:
        return None
    found = _UNIMPLEMENTED.search(flat)
    if not found:
        return None
    api = f"{found['service'].strip()} {found['operation']}"
    return (
        f"{_resource_name(flat)}calls {api}, which the sandbox's AWS (moto) does not implement; "
        "leave the resource out of sandbox runs (count = var.deploytools_sandbox ? 0 : 1, with "
        "variable \"deploytools_sandbox\" declared) or deploy it to AWS"
    )


def _foreign_layer(text: str, flat: str, emulated: bool) -> str | None:
    if not emulated:
        return None
    found = _FOREIGN_LAYER.search(flat)
    if not found:
        return None
    return (
        f"{_resource_name(flat)}uses the Lambda layer {found['arn']}, which the sandbox does not "
        "hold (AWS-managed layers live in AWS's own accounts); publish a copy in the root "
        "(aws_lambda_layer_version from its zip) for sandbox runs, or leave the layer out when "
        "var.deploytools_sandbox is true"
    )


def _where(flat: str) -> str:
    found = _RESOURCE.search(flat)
    return f" on {found['resource']} ({found['file']} line {found['line']})" if found else ""


def _resource_name(flat: str) -> str:
    found = _RESOURCE.search(flat)
    return f"{found['resource']} ({found['file']} line {found['line']}) " if found else ""


def emulated_endpoints(env: Mapping[str, str]) -> bool:
    """Whether Terraform talks to overridden AWS endpoints (the sandbox, moto)."""
    return any(key.startswith("AWS_ENDPOINT_URL") and value for key, value in env.items())
