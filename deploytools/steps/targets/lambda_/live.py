"""What a Lambda target runs now: the alias's version (else $LATEST) and its configuration,
and $LATEST under it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from deploytools.lib.aws_errors import error_code
from deploytools.steps.targets.base import TargetState
from deploytools.steps.targets.lambda_.api import LATEST, FunctionApi


@dataclass(frozen=True)
class Live:
    """What runs on the function, read in one go."""

    state: TargetState
    config: dict[str, Any]  # the served version's configuration
    latest: dict[str, Any]  # $LATEST's configuration (the same when $LATEST is served)
    latest_code: dict[str, Any]  # $LATEST's Code: ImageUri, ResolvedImageUri


def read_live(api: FunctionApi, *, name: str, alias: str | None) -> Live | None:
    """What runs (behind the alias, else $LATEST), and $LATEST under it: two GetFunction
    calls (the alias as the qualifier names its version), one without an alias."""
    served = None
    if alias:
        served = _get_function(api, alias)
    latest = _get_function(api, None)
    if latest is None:
        return None
    function = served or latest
    config, code = function["Configuration"], function.get("Code", {})
    version = str(config.get("Version") or LATEST) if served else LATEST
    names = sorted(_variables(config))
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
    latest_config = latest["Configuration"]
    if version != LATEST:
        # Variables of the served version that $LATEST lost (a Terraform apply that does not
        # ignore `environment` strips them; the next publish would lose them too).
        have = _variables(latest_config)
        missing = [n for n in names if n not in have]
        if missing:
            state.detail["latest_missing"] = missing
    return Live(state, config, latest_config, latest.get("Code", {}))


def _get_function(api: FunctionApi, qualifier: str | None) -> dict[str, Any] | None:
    """GetFunction's answer; None when the function (or the alias) does not exist."""
    request = {"FunctionName": api.function}
    if qualifier:
        request["Qualifier"] = qualifier
    try:
        answer: dict[str, Any] = api.client.get_function(**request)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise api.failed("get_function", exc) from exc
    return answer


def _variables(config: dict[str, Any]) -> dict[str, str]:
    variables: dict[str, str] = (config.get("Environment") or {}).get("Variables") or {}
    return variables


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
