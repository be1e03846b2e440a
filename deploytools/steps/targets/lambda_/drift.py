"""Whether a Lambda target already runs what a deploy asks for: the alias's version, and
$LATEST under it (which Terraform or a hand edit may have changed)."""

from __future__ import annotations

from typing import Any

from deploytools.config.model import LambdaTarget
from deploytools.output import register_secret
from deploytools.steps.targets.base import RefreshInputs
from deploytools.steps.targets.lambda_.api import LATEST, FunctionApi
from deploytools.steps.targets.lambda_.live import Live


def configuration_update(
    target: LambdaTarget, config: dict[str, Any], inputs: RefreshInputs
) -> dict[str, Any]:
    """The update_function_configuration arguments `config` lacks; {} when none."""
    wanted = {**target.environment, **inputs.environment}
    if target.secrets_in_environment:
        for name, value in (inputs.secret_values or {}).items():
            register_secret(str(value))
            wanted[name] = str(value)
    existing = (config.get("Environment") or {}).get("Variables") or {}
    # Merged, not replaced: Terraform may set variables of its own (table names, buckets).
    merged = {**existing, **wanted}
    update: dict[str, Any] = {}
    if merged != existing:
        update["Environment"] = {"Variables": merged}
    handler = target.package.handler if target.package else None
    if handler and handler != config.get("Handler"):
        update["Handler"] = handler
    return update


def already_live(target: LambdaTarget, live: Live, inputs: RefreshInputs) -> bool:
    """The live version runs this code with this configuration: a redeploy changes nothing."""
    previous = live.state
    if previous.revision == LATEST and target.alias:
        return False  # the alias does not exist yet
    if inputs.image is not None:
        if inputs.image != previous.image:
            return False
    elif _sha(inputs) != previous.detail.get("code_sha256"):
        return False
    return not configuration_update(target, live.config, inputs)


def latest_drift(target: LambdaTarget, live: Live, inputs: RefreshInputs) -> str:
    """How $LATEST differs from what the alias serves ("" when it does not)."""
    if live.state.revision == LATEST:
        return ""
    latest = live.latest
    drift = []
    if not runs_code(latest, live.latest_code, inputs.image, _sha(inputs)):
        drift.append("code")
    update = configuration_update(target, latest, inputs)
    if "Environment" in update:
        have = (latest.get("Environment") or {}).get("Variables") or {}
        wanted = update["Environment"]["Variables"]
        changed = sorted(k for k in wanted if have.get(k) != wanted[k])
        drift.append(f"environment {', '.join(changed)}")
    if "Handler" in update:
        drift.append("handler")
    return "; ".join(drift)


def latest_has_code(
    api: FunctionApi, latest: dict[str, Any], image: str | None, sha: str | None
) -> bool:
    """$LATEST (whose configuration is `latest`) already runs this image or zip."""
    if image is None:
        return runs_code(latest, {}, image, sha)
    code = api.call("get_function", FunctionName=api.function).get("Code", {})
    return runs_code(latest, code, image, sha)


def runs_code(
    config: dict[str, Any], code: dict[str, Any], image: str | None, sha: str | None
) -> bool:
    """A function with this configuration and Code runs this image (else this zip)."""
    if image is None:
        return sha is not None and sha == config.get("CodeSha256")
    return image in (code.get("ImageUri"), code.get("ResolvedImageUri"))


def _sha(inputs: RefreshInputs) -> str | None:
    return inputs.package.code_sha256 if inputs.package else None
