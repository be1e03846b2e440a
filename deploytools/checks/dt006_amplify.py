"""DT006: amplify.yml against the config and the Next.js SSR app it builds.

Checks the build spec named by `frontend.amplify.build_spec` (else amplify.yml at the root):
appRoot equals `app_root` (and the app root exists); artifacts.baseDirectory is `.next` for a
Next.js SSR app; pnpm (in the commands or a pnpm-lock.yaml) comes with `node-linker=hoisted`
in an .npmrc of the app root or the repository root; no server-only secret is exposed as a
NEXT_PUBLIC_* variable (config environment or the spec's env.variables).
Without a config, the app-root checks apply only where the app root folder exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deploytools.checks.base import CheckContext, Finding, rule
from deploytools.config.model import Amplify
from deploytools.config.yamlpos import DuplicateKey, KeyPath, Located, YamlSyntax
from deploytools.lib.amplify_buildspec import (
    APP_ROOT_VARIABLE,
    SPEC_NAMES,
    Application,
    BuildSpecDocument,
    normalize_root,
    parse,
)

RULE = "DT006"
PNPM = re.compile(r"(?<![\w-])pnpm(?![\w-])")
HOISTED = re.compile(r"^\s*node-linker\s*=\s*hoisted\s*$", re.MULTILINE)
SECRETISH = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL")


def _amplify(ctx: CheckContext) -> Amplify | None:
    if ctx.config is None or ctx.config.model.frontend is None:
        return None
    return ctx.config.model.frontend.amplify


def _spec_path(ctx: CheckContext, amplify: Amplify | None) -> Path | None:
    if amplify is not None and ctx.config is not None:
        path = ctx.config.root / amplify.build_spec
        return path if path.is_file() else None  # DT000 reports a missing build spec
    return next((ctx.root / n for n in SPEC_NAMES if (ctx.root / n).is_file()), None)


def _app_base(ctx: CheckContext) -> Path:
    """Where app roots are relative to: the app repository, which holds deploytools.yml."""
    return ctx.config.root if ctx.config is not None else ctx.root


def _get(data: Any, path: KeyPath) -> Any:
    for key in path:
        in_dict = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and key < len(data)
        if not (in_dict or in_list):
            return None
        data = data[key]
    return data


def _commands(located: Located, prefix: KeyPath) -> Iterator[tuple[str, int]]:
    phases = _get(located.data, (*prefix, "frontend", "phases"))
    if not isinstance(phases, dict):
        return
    for phase, body in phases.items():
        commands = body.get("commands") if isinstance(body, dict) else None
        for index, command in enumerate(commands if isinstance(commands, list) else []):
            path = (*prefix, "frontend", "phases", phase, "commands", index)
            yield str(command), located.line(path)


def _is_next_app(app_dir: Path) -> bool:
    package = app_dir / "package.json"
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    deps = {**(data.get("dependencies") or {}), **(data.get("devDependencies") or {})}
    return "next" in deps


def _npmrc_hoisted(ctx: CheckContext, app_dir: Path) -> bool:
    return any(HOISTED.search(ctx.read(d / ".npmrc")) for d in {app_dir, _app_base(ctx)})


@rule(
    RULE,
    "amplify.yml does not match the Next.js SSR app",
    description="appRoot differs from frontend.amplify.app_root, baseDirectory is not .next "
    "for SSR, pnpm without node-linker=hoisted, or a secret exposed as NEXT_PUBLIC_*.",
)
def amplify_build_spec(ctx: CheckContext) -> Iterator[Finding]:
    amplify = _amplify(ctx)
    if amplify is not None:
        yield from _public_secrets(ctx, amplify)
    spec = _spec_path(ctx, amplify)
    if spec is None:
        return
    rel = ctx.rel(spec)
    try:
        document = parse(ctx.read(spec))
    except (YamlSyntax, DuplicateKey) as exc:
        yield Finding(rel, exc.line, RULE, f"invalid YAML: {exc}", fix="Correct the YAML.")
        return
    located, entries = document.located, document.applications
    if amplify is not None:
        matching = document.matching(amplify.app_root)
        if not matching:
            yield _root_mismatch(ctx, rel, document, normalize_root(amplify.app_root))
            return
        entries = matching
    for entry in entries:
        yield from _application(ctx, rel, located, entry, configured=amplify is not None)
    yield from _spec_variables(ctx, rel, located, entries)


def _root_mismatch(
    ctx: CheckContext, rel: str, document: BuildSpecDocument, wanted: str
) -> Finding:
    config = ctx.config.file if ctx.config else "deploytools.yml"
    entries = document.applications
    if not document.monorepo:
        return Finding(
            rel, 1, RULE,
            f"not a monorepo build spec, but {config} sets app_root {wanted} (and deploytools "
            f"sets {APP_ROOT_VARIABLE}={wanted})",
            fix=f"Nest the spec under 'applications: - appRoot: {wanted}' (see amplify.yml in "
            "the deploytools repository).",
        )  # fmt: skip
    found = ", ".join(e.app_root or "(none)" for e in entries)
    line = document.located.line((*entries[0].prefix, "appRoot"))
    return Finding(
        rel, line, RULE,
        f"appRoot is {found} but frontend.amplify.app_root in {config} is {wanted}; Amplify "
        f"builds nothing when {APP_ROOT_VARIABLE} matches no appRoot",
        fix=f"Set appRoot to {wanted} (or change app_root): appRoot, app_root and "
        f"{APP_ROOT_VARIABLE} must name the same folder.",
    )  # fmt: skip


def _application(
    ctx: CheckContext, rel: str, located: Located, entry: Application, *, configured: bool
) -> Iterator[Finding]:
    base = _app_base(ctx)
    app_dir = base / entry.app_root if entry.app_root else base
    root_line = located.line((*entry.prefix, "appRoot")) if entry.prefix else 1
    if not app_dir.is_dir():
        if configured:
            yield Finding(
                rel, root_line, RULE,
                f"appRoot {entry.app_root} is not a folder of the repository",
                fix="Point appRoot and frontend.amplify.app_root at the Next.js app's folder.",
            )  # fmt: skip
        return  # a template for another repository: nothing to compare it with
    if configured or _is_next_app(app_dir):
        yield from _base_directory(rel, located, entry)
    commands = list(_commands(located, entry.prefix))
    pnpm_line = next((line for command, line in commands if PNPM.search(command)), None)
    lockfile = (app_dir / "pnpm-lock.yaml").is_file() or (base / "pnpm-lock.yaml").is_file()
    if (pnpm_line or lockfile) and not _npmrc_hoisted(ctx, app_dir):
        where = entry.app_root or "the repository root"
        yield Finding(
            rel, pnpm_line or root_line, RULE,
            "pnpm without node-linker=hoisted: Amplify's SSR bundle misses pnpm's symlinked "
            "node_modules and the server fails with 'Cannot find module'",
            fix=f"Add the line node-linker=hoisted to .npmrc in {where} and run pnpm install.",
        )  # fmt: skip


def _base_directory(rel: str, located: Located, entry: Application) -> Iterator[Finding]:
    path = (*entry.prefix, "frontend", "artifacts", "baseDirectory")
    value = _get(located.data, path)
    if value is not None and normalize_root(str(value)) == ".next":
        return
    shown = f"is {value}" if value is not None else "is not set"
    yield Finding(
        rel, located.line(path), RULE,
        f"artifacts.baseDirectory {shown}; a Next.js SSR app on WEB_COMPUTE deploys .next",
        fix="Set artifacts: {baseDirectory: .next, files: ['**/*']} ('out' is for static "
        "exports, which Amplify serves on platform WEB, not SSR).",
    )  # fmt: skip


def exposed_secret(name: str, required: set[str]) -> bool:
    """A NEXT_PUBLIC_* name that looks server-only: it would ship to every browser."""
    if not name.startswith("NEXT_PUBLIC_"):
        return False
    rest = name.removeprefix("NEXT_PUBLIC_")
    if rest in required or name in required:
        return True
    if SECRETISH.search(rest):
        return True
    return "KEY" in rest and "PUBLISHABLE" not in rest


def _public_secrets(ctx: CheckContext, amplify: Amplify) -> Iterator[Finding]:
    assert ctx.config is not None
    model = ctx.config.model
    required = set(model.secrets.required) if model.secrets else set()
    file = ctx.rel(ctx.config.path)
    for name, value in amplify.environment.items():
        path = ("frontend", "amplify", "environment", name)
        if exposed_secret(name, required):
            yield _public_finding(file, ctx.config.line(path), name, required)
        if name == APP_ROOT_VARIABLE and normalize_root(value) != normalize_root(amplify.app_root):
            yield Finding(
                file, ctx.config.line(path), RULE,
                f"{APP_ROOT_VARIABLE} is {value} but app_root is {amplify.app_root}",
                fix=f"Remove {APP_ROOT_VARIABLE} from environment: deploytools sets it from "
                "app_root.",
            )  # fmt: skip


def _spec_variables(
    ctx: CheckContext, rel: str, located: Located, entries: tuple[Application, ...]
) -> Iterator[Finding]:
    model = ctx.config.model if ctx.config else None
    required = set(model.secrets.required) if model and model.secrets else set()
    for prefix in {(), *(e.prefix for e in entries)}:
        variables = _get(located.data, (*prefix, "env", "variables"))
        if not isinstance(variables, dict):
            continue
        for name in variables:
            if exposed_secret(str(name), required):
                line = located.line((*prefix, "env", "variables", name))
                yield _public_finding(rel, line, str(name), required)


def _public_finding(file: str, line: int, name: str, required: set[str]) -> Finding:
    server_name = name.removeprefix("NEXT_PUBLIC_")
    why = (
        f"{server_name} is a required secret (secrets.required)"
        if server_name in required or name in required
        else f"{name} looks server-only"
    )
    return Finding(
        file, line, RULE,
        f"{why}, but NEXT_PUBLIC_* values are inlined into the browser bundle",
        fix=f"Rename it {server_name} and read it in server code only (route handlers, server "
        "components); keep secret values in SSM Parameter Store.",
    )  # fmt: skip
