"""What a Lambda target runs now: the alias's version (else $LATEST) and its configuration."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from deploytools.lib.aws_errors import error_code
from deploytools.steps.targets.base import TargetState
from deploytools.steps.targets.lambda_.api import LATEST, FunctionApi

Live = tuple[TargetState, dict[str, Any]]  # the state, and that version's configuration


def read_live(api: FunctionApi, *, name: str, alias: str | None) -> Live | None:
    """What runs (behind the alias, else $LATEST), with that version's configuration."""
    version = LATEST
    if alias:
        try:
            version = api.client.get_alias(FunctionName=api.function, Name=alias)["FunctionVersion"]
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise api.failed("get_alias", exc) from exc
    try:
        function = api.client.get_function(FunctionName=api.function, Qualifier=version)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise api.failed("get_function", exc) from exc
    config, code = function["Configuration"], function.get("Code", {})
    names = sorted((config.get("Environment") or {}).get("Variables") or {})
    image = None
    if config.get("PackageType") == "Image":
        image = published_image(config) or code.get("ImageUri")
    state = TargetState(
        target=name,
        type="lambda",
        resource=api.function,
        image=image,
        revision=version,
        detail={
            "alias": alias if version != LATEST else None,
            "code_sha256": config.get("CodeSha256", ""),
            "package_type": config.get("PackageType", "Zip"),
            # Names only: values may be secrets, and the release record is kept in SSM.
            "environment": names,
        },
    )
    if version != LATEST:
        missing = _missing_on_latest(api, names)
        if missing:
            state.detail["latest_missing"] = missing
    return state, config


def _missing_on_latest(api: FunctionApi, names: list[str]) -> list[str]:
    """Variables of the served version that $LATEST lost (a Terraform apply that does not
    ignore `environment` strips them; the next publish would lose them too)."""
    latest = api.call("get_function_configuration", FunctionName=api.function)
    have = (latest.get("Environment") or {}).get("Variables") or {}
    return [name for name in names if name not in have]


def fingerprint(config: dict[str, Any]) -> tuple[object, ...]:
    """What makes two versions serve the same: code and the configuration deploytools sets."""
    environment = (config.get("Environment") or {}).get("Variables") or {}
    return (
        config.get("CodeSha256"),
        tuple(sorted(environment.items())),
        config.get("Handler"),
        config.get("Runtime"),
    )


def published_image(config: dict[str, Any]) -> str | None:
    """The image a version was published with, from the description `publish` gives it.

    A version's description never changes, so this names exactly what that version runs.
    (AWS also reports it as the version's Code.ImageUri; moto reports the function's latest
    image for every version, which would make every old version look current.)
    """
    description = str(config.get("Description") or "")
    prefix = "deploytools: "
    if description.startswith(prefix) and "@sha256:" in description:
        return description[len(prefix) :]
    return None
