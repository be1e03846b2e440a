"""DT001: a Dockerfile COPY/ADD source that .dockerignore excludes or that is outside the context.

The build then fails ("not found") or, worse, copies a folder with its files silently left out.
Contexts come from deploytools.yml (images:), else: the repository root for a Dockerfile with
its own <Dockerfile>.dockerignore (that file exists for builds from a shared root), else the
Dockerfile's folder. Matching follows Docker's .dockerignore semantics exactly.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.lib.build_context import DIRECTORY, ignore_file_for, scan
from deploytools.lib.dockerfile import Transfer, parse, transfer
from deploytools.lib.dockerignore import (
    BadIgnorePattern,
    DockerIgnore,
    IgnoreRule,
    go_clean,
)

RULE = "DT001"
DOCKERFILES = ("Dockerfile", "*.Dockerfile", "Dockerfile.*")
REMOTE = ("http://", "https://", "git@", "git://")
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class _Build:
    dockerfile: Path
    context: Path
    label: str  # the context as the user knows it, for messages


@rule(
    RULE,
    "A Dockerfile COPY/ADD source is excluded by .dockerignore or outside the build context",
    description=(
        "Docker sends only the context minus what .dockerignore excludes; a COPY of anything "
        "else fails the build or copies a folder with files missing."
    ),
)
def copy_sources_are_sent(ctx: CheckContext) -> Iterator[Finding]:
    for build in _builds(ctx):
        yield from _check_build(ctx, build)


def _builds(ctx: CheckContext) -> list[_Build]:
    builds: dict[tuple[Path, Path], _Build] = {}
    configured: set[Path] = set()
    if ctx.config is not None:
        root = ctx.config.root
        for image in ctx.config.model.images.values():
            dockerfile, context = (
                (root / image.dockerfile).resolve(),
                (root / image.context).resolve(),
            )
            if dockerfile.is_file() and context.is_dir():
                label = f"{image.context} in deploytools.yml"
                builds[(dockerfile, context)] = _Build(dockerfile, context, label)
                configured.add(dockerfile)
    for path in ctx.files(*DOCKERFILES):
        if path.name.endswith(".dockerignore"):
            continue
        resolved = path.resolve()
        if resolved in configured:
            continue
        shared_root = path.with_name(path.name + ".dockerignore").is_file()
        context = ctx.root if shared_root else path.parent.resolve()  # the root is resolved
        label = (ctx.rel(context) or ".") + "/"
        builds.setdefault((resolved, context), _Build(resolved, context, label))
    return list(builds.values())


def _check_build(ctx: CheckContext, build: _Build) -> Iterator[Finding]:
    ignore_file = ignore_file_for(build.context, build.dockerfile)
    ignore_name = ctx.rel(ignore_file) if ignore_file else ".dockerignore"
    try:
        ignore = DockerIgnore.load(ignore_file, source=ignore_name)
    except BadIgnorePattern as exc:
        fix = "Fix or remove the line: Docker refuses the whole file."
        yield Finding(ignore_name, max(exc.line, 1), RULE, exc.reason, fix=fix)
        return
    dockerfile = ctx.rel(build.dockerfile)
    for instruction in parse(ctx.read(build.dockerfile)):
        copy = transfer(instruction)
        if copy is None or copy.from_stage is not None:
            continue  # --from copies from a stage or an image, not from the context
        for source in copy.sources:
            problem = _problem(build, ignore, ignore_name, copy, source)
            if problem:
                message, fix = problem
                yield Finding(dockerfile, instruction.line, RULE, message, fix=fix)


def _problem(
    build: _Build, ignore: DockerIgnore, ignore_name: str, copy: Transfer, source: str
) -> tuple[str, str] | None:
    keyword = copy.instruction.keyword
    if "$" in source or source.startswith("<<") or source.startswith(REMOTE):
        return None  # variables, heredocs and URLs are not context paths
    cleaned = go_clean(source)
    if cleaned == ".." or cleaned.startswith("../"):
        return (
            f"{keyword} source '{source}' is outside the build context "
            f"({build.label}); Docker cannot send it",
            "Move the file into the context, or build from a folder that contains it "
            "(images.<name>.context in deploytools.yml).",
        )
    rel = cleaned.lstrip("/") or "."
    if rel == ".":
        return None
    if GLOB_CHARS & set(rel):
        return _glob_problem(build, ignore, ignore_name, keyword, source, rel)
    excluded = ignore.excluded_by(rel)
    full = build.context / rel
    if excluded is not None and not (full.is_dir() and _sends_something(build, ignore, rel)):
        return _excluded(keyword, source, rel, ignore_name, excluded, "is excluded")
    if excluded is None and full.is_dir() and not _sends_something(build, ignore, rel):
        first = _first_file(full, build.context)
        by = ignore.excluded_by(first) if first else None
        if by is not None:
            detail = "is a folder whose files are all excluded"
            return _excluded(keyword, source, rel, ignore_name, by, detail)
    return None


def _glob_problem(
    build: _Build, ignore: DockerIgnore, ignore_name: str, keyword: str, source: str, rel: str
) -> tuple[str, str] | None:
    matches = sorted(glob.glob(rel, root_dir=build.context, include_hidden=True))
    if not matches:
        return None
    for match in matches:
        if (build.context / match).is_dir():
            if not ignore.excluded(match) or _sends_something(build, ignore, match):
                return None
        elif not ignore.excluded(match):
            return None
    excluded = ignore.excluded_by(matches[0])
    if excluded is None:
        return None
    detail = f"matches {len(matches)} path(s), all excluded"
    return _excluded(keyword, source, rel, ignore_name, excluded, detail)


def _excluded(
    keyword: str, source: str, rel: str, ignore_name: str, by: IgnoreRule, detail: str
) -> tuple[str, str]:
    message = (
        f"{keyword} source '{source}' {detail} by {ignore_name}:{by.line} ('{by.text.strip()}')"
    )
    fix = (
        f"Remove or narrow line {by.line} of {ignore_name}, or re-include the path with "
        f"'!{rel}' on a later line; or stop copying it."
    )
    return message, fix


def _sends_something(build: _Build, ignore: DockerIgnore, rel: str) -> bool:
    return any(e.kind != DIRECTORY for e in scan(build.context, ignore, start=rel))


def _first_file(folder: Path, context: Path) -> str | None:
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        if files:
            return (Path(current) / sorted(files)[0]).relative_to(context).as_posix()
    return None
