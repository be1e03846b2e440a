"""Published versions and the alias: publish once per code and configuration, find a version
that already has them, move the alias, and put a version's code back on $LATEST."""

from __future__ import annotations

import urllib.request
from typing import Any

from botocore.exceptions import ClientError

from deploytools.lib.aws_errors import error_code
from deploytools.steps.targets import lambda_code_cache
from deploytools.steps.targets.base import TargetFailed
from deploytools.steps.targets.lambda_.api import LATEST, RETRYABLE, FunctionApi
from deploytools.steps.targets.lambda_.drift import latest_has_code
from deploytools.steps.targets.lambda_.live import fingerprint, published_image


def publish(api: FunctionApi, code_sha256: str, image: str | None) -> str:
    """Publish $LATEST (which must still have `code_sha256`); the new version's number."""
    description = f"deploytools: {image or 'zip ' + code_sha256}"[:256]
    try:
        published = api.retrying(
            "publish_version",
            FunctionName=api.function,
            CodeSha256=code_sha256,
            Description=description,
        )
    except TargetFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, ClientError) and error_code(cause) == "PreconditionFailedException":
            raise TargetFailed(
                f"lambda {api.function}: its code changed while deploying (another deploy?); "
                "nothing was published"
            ) from exc
        raise
    version = str(published["Version"])
    api.wait_updated(f"version {version}", qualifier=version)
    return version


def published_like(api: FunctionApi, config: dict[str, Any], image: str | None) -> str | None:
    """The newest published version with $LATEST's code and configuration, if any."""
    wanted = fingerprint(config)
    found: list[int] = []
    try:
        pages = api.client.get_paginator("list_versions_by_function").paginate(
            FunctionName=api.function
        )
        for page in pages:
            for version in page.get("Versions", []):
                number = str(version.get("Version"))
                if number == LATEST or fingerprint(version) != wanted:
                    continue
                named = published_image(version)
                if image is not None and named is not None and named != image:
                    continue
                found.append(int(number))
    except ClientError as exc:
        raise api.failed("list_versions_by_function", exc) from exc
    return str(max(found)) if found else None


def point_alias(api: FunctionApi, alias: str, version: str) -> None:
    """Move `alias` to `version`, creating the alias if Terraform has not."""
    request = {"FunctionName": api.function, "Name": alias, "FunctionVersion": version}
    try:
        api.client.update_alias(**request)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            api.retrying("create_alias", **request)
            return
        if error_code(exc) in RETRYABLE:
            api.retrying("update_alias", **request)
            return
        raise api.failed("update_alias", exc) from exc


def move_latest_to(api: FunctionApi, version: str, *, image: str | None) -> None:
    """Give $LATEST the code and environment of a published version."""
    function = api.call(
        "get_function", what=f"version {version}", FunctionName=api.function, Qualifier=version
    )
    config, code = function["Configuration"], function.get("Code", {})
    latest = api.wait_updated("the previous update", settled_is_enough=True)
    if not latest_has_code(api, latest, image, config.get("CodeSha256")):
        if config.get("PackageType") == "Image":
            uri = image or published_image(config) or code.get("ImageUri")
            api.retrying("update_function_code", FunctionName=api.function, ImageUri=uri)
        else:
            zipped = lambda_code_cache.load(api.function, str(config["CodeSha256"]))
            if zipped is None:
                zipped = _download(api, code, version)
            api.retrying("update_function_code", FunctionName=api.function, ZipFile=zipped)
        latest = api.wait_updated(f"$LATEST back on version {version}'s code")
    environment = (config.get("Environment") or {}).get("Variables") or {}
    if environment != ((latest.get("Environment") or {}).get("Variables") or {}):
        api.retrying(
            "update_function_configuration",
            FunctionName=api.function,
            Environment={"Variables": environment},
        )
        api.wait_updated(f"$LATEST back on version {version}'s configuration")


def _download(api: FunctionApi, code: dict[str, Any], version: str) -> bytes:
    """A version's zip from the URL Lambda gives for it (AWS only: an emulator's URL
    names AWS's own hosts, which this run must not reach)."""
    location = str(code.get("Location") or "")
    if api.aws.endpoint_for("lambda") is None and location.startswith("https://"):
        with urllib.request.urlopen(location, timeout=60) as answer:  # noqa: S310 (https only)
            data: bytes = answer.read()
            return data
    raise TargetFailed(
        f"lambda {api.function}: the alias is back on version {version}, but $LATEST "
        f"still runs the newer code: version {version}'s zip is not in this machine's "
        "deploytools cache and Lambda gives no URL to fetch it; redeploy that commit"
    )
