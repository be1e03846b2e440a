"""DT002: images for Lambda/ECS not built for linux/amd64; workflows building with attestations.

buildx (since 0.10) and docker/build-push-action add provenance attestations by default, which
turns the pushed image into an OCI index; Lambda rejects it. An arm64 image fails at start
on x86_64 Lambda and on ECS tasks without an ARM runtime platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.config.yamlpos import DuplicateKey, Located, YamlSyntax, load
from deploytools.lib.dockerfile import parse, stages

RULE = "DT002"
PLATFORM = "linux/amd64"
CHECKED_TARGETS = ("lambda", "ecs")
WORKFLOWS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
BUILDX_BUILD = re.compile(r"\bdocker\s+buildx\s+build\b")
PROVENANCE_OFF = re.compile(
    r"--provenance(?:=|\s+)(?:false|0)\b|--attest\s+type=provenance,disabled=true"
)
NO_ATTESTATIONS_ENV = "BUILDX_NO_DEFAULT_ATTESTATIONS"
FIX_RUN = (
    "Add --provenance=false (and --sbom=false, --platform linux/amd64) to docker buildx build, "
    "or run `deploytools build --push`, which does."
)
FIX_ACTION = (
    "Add `provenance: false` (and `sbom: false`) under `with:` of docker/build-push-action."
)


@rule(
    RULE,
    "An image for Lambda/ECS is not linux/amd64, or a workflow builds with provenance on",
    description=(
        "Lambda rejects the OCI index that provenance/SBOM attestations create, and x86_64 "
        "Lambda and ECS cannot run arm64 images."
    ),
)
def amd64_without_attestations(ctx: CheckContext) -> Iterator[Finding]:
    yield from _config_platforms(ctx)
    for pattern in WORKFLOWS:
        for path in ctx.files(pattern):
            yield from _workflow(ctx, path)


def _config_platforms(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.config is None:
        return
    config, model = ctx.config, ctx.config.model
    file = ctx.rel(config.path)
    for target_name, target in model.targets.items():
        image_name = getattr(target, "image", None)
        if target.type not in CHECKED_TARGETS or image_name not in model.images:
            continue
        image = model.images[image_name]
        runs = f"{target.type} target '{target_name}'"
        if image.platform != PLATFORM:
            yield Finding(
                file,
                config.line(("images", image_name, "platform")),
                RULE,
                f"image '{image_name}' is built for {image.platform}, but {runs} runs it",
                fix=f"Set images.{image_name}.platform: {PLATFORM} (the default).",
            )
        yield from _dockerfile_platform(ctx, config.root / image.dockerfile, image_name, runs)


def _dockerfile_platform(ctx: CheckContext, path: Path, image: str, runs: str) -> Iterator[Finding]:
    if not path.is_file():
        return
    found = stages(parse(ctx.read(path)))
    final = found[-1] if found else None
    if final is None or not final.platform or "$" in final.platform or final.platform == PLATFORM:
        return
    yield Finding(
        ctx.rel(path),
        final.instruction.line,
        RULE,
        f"the final stage of image '{image}' is FROM --platform={final.platform}, but {runs} "
        f"runs it on {PLATFORM}",
        fix=f"Use FROM --platform={PLATFORM} (or drop --platform; deploytools builds for it).",
    )


def _workflow(ctx: CheckContext, path: Path) -> Iterator[Finding]:
    text = ctx.read(path)
    try:
        located = load(text)
    except (YamlSyntax, DuplicateKey):
        return  # not ours to report: workflow linters do
    data = located.data
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return
    lines = text.splitlines()
    top_env = _env_disables(data.get("env"))
    for job_name, job in data["jobs"].items():
        if not isinstance(job, dict) or not isinstance(job.get("steps"), list):
            continue
        job_env = top_env or _env_disables(job.get("env"))
        for index, step in enumerate(job["steps"]):
            if not isinstance(step, dict) or job_env or _env_disables(step.get("env")):
                continue
            where = ("jobs", job_name, "steps", index)
            yield from _step(ctx, path, located, lines, where, step)


def _step(
    ctx: CheckContext,
    path: Path,
    located: Located,
    lines: list[str],
    where: tuple[str | int, ...],
    step: Mapping[str, Any],
) -> Iterator[Finding]:
    uses = step.get("uses")
    if isinstance(uses, str) and uses.split("@")[0].strip() == "docker/build-push-action":
        options = step.get("with") if isinstance(step.get("with"), dict) else {}
        if str((options or {}).get("provenance", "")).strip().lower() != "false":
            yield Finding(
                ctx.rel(path),
                located.line((*where, "uses")),
                RULE,
                "docker/build-push-action without `provenance: false` pushes an OCI index with "
                "attestations, which Lambda rejects",
                fix=FIX_ACTION,
            )
    run = step.get("run")
    if isinstance(run, str):
        key_line = located.line((*where, "run"))
        block = (
            key_line <= len(lines) and re.search(r"run:\s*[|>]", lines[key_line - 1]) is not None
        )
        for offset, command in _commands(run):
            if BUILDX_BUILD.search(command) and not _disabled_in(command):
                yield Finding(
                    ctx.rel(path),
                    key_line + offset + (1 if block else 0),
                    RULE,
                    "docker buildx build without --provenance=false pushes an OCI index with "
                    "attestations, which Lambda rejects",
                    fix=FIX_RUN,
                )


def _disabled_in(command: str) -> bool:
    return PROVENANCE_OFF.search(command) is not None or f"{NO_ATTESTATIONS_ENV}=1" in command


def _commands(script: str) -> Iterator[tuple[int, str]]:
    """Shell commands with their continuation lines joined, and the line each starts on."""
    start, parts = 0, list[str]()
    for number, line in enumerate(script.splitlines()):
        if not parts:
            start = number
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            parts.append(stripped[:-1])
            continue
        parts.append(stripped)
        yield start, " ".join(parts)
        parts = []
    if parts:
        yield start, " ".join(parts)


def _env_disables(env: Any) -> bool:
    if not isinstance(env, dict):
        return False
    return str(env.get(NO_ATTESTATIONS_ENV, "")).strip().lower() in ("1", "true")
