"""The Amplify app as the config wants it: name, repository, branch, stage, app root,
environment and the build spec, refused before any change when they disagree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploytools.config import EnvConfig
from deploytools.config.model import Amplify
from deploytools.config.yamlpos import DuplicateKey, YamlSyntax
from deploytools.errors import BadInput
from deploytools.lib.amplify_buildspec import APP_ROOT_VARIABLE, normalize_root, parse

TF_PLACEHOLDER = re.compile(r"\{tf\.[A-Za-z0-9_-]+\}")


class AmplifyNotConfigured(BadInput):
    """The config has no frontend.amplify section."""


class BuildSpecProblem(BadInput):
    """amplify.yml is missing, unreadable, or disagrees with the config."""


class UnresolvedOutputs(BadInput):
    """An environment value still holds a {tf.*} placeholder with no Terraform output."""


@dataclass(frozen=True)
class BuildSpec:
    path: Path
    text: str
    app_roots: tuple[str, ...]


@dataclass(frozen=True)
class DesiredApp:
    name: str
    repository: str
    branch: str
    stage: str
    app_root: str
    environment: Mapping[str, str]
    build_spec: BuildSpec
    pending: tuple[str, ...] = ()  # {tf.*} names without a value yet (plan only)


def amplify_config(env: EnvConfig) -> Amplify:
    amplify = env.model.frontend.amplify if env.model.frontend else None
    if amplify is None:
        raise AmplifyNotConfigured("deploytools.yml has no frontend.amplify section")
    return amplify


def read_build_spec(root: Path, amplify: Amplify) -> BuildSpec:
    """The build spec's text and appRoots; BuildSpecProblem unless one appRoot is app_root."""
    path = root / amplify.build_spec
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildSpecProblem(f"{amplify.build_spec}: cannot read the build spec: {exc}") from exc
    try:
        document = parse(text)
    except (YamlSyntax, DuplicateKey) as exc:
        raise BuildSpecProblem(
            f"{amplify.build_spec}: line {exc.line}: invalid YAML: {exc}"
        ) from exc
    if not document.monorepo:
        raise BuildSpecProblem(
            f"{amplify.build_spec}: not a monorepo build spec (no applications: list); "
            f"Amplify needs 'applications: - appRoot: {amplify.app_root}' when "
            f"{APP_ROOT_VARIABLE} is set"
        )
    roots = document.app_roots
    wanted = normalize_root(amplify.app_root)
    if wanted not in roots:
        found = ", ".join(roots) or "none"
        raise BuildSpecProblem(
            f"{amplify.build_spec}: no application has appRoot {wanted} (found: {found}); "
            f"frontend.amplify.app_root, appRoot and {APP_ROOT_VARIABLE} must be equal"
        )
    return BuildSpec(path=path, text=text, app_roots=roots)


def desired_app(env: EnvConfig, *, root: Path, allow_pending: bool = False) -> DesiredApp:
    """The app as the config wants it; refuses unresolved {tf.*} values unless planning."""
    amplify = amplify_config(env)
    spec = read_build_spec(root, amplify)
    app_root = normalize_root(amplify.app_root)
    given = amplify.environment.get(APP_ROOT_VARIABLE)
    if given is not None and normalize_root(given) != app_root:
        raise BadInput(
            f"frontend.amplify.environment.{APP_ROOT_VARIABLE} is {given!r} but app_root is "
            f"{app_root!r}; remove it (deploytools sets it from app_root)"
        )
    environment = {**amplify.environment, APP_ROOT_VARIABLE: app_root}
    pending = sorted({p for value in environment.values() for p in TF_PLACEHOLDER.findall(value)})
    if pending and not allow_pending:
        names = [k for k, v in environment.items() if TF_PLACEHOLDER.search(v)]
        raise UnresolvedOutputs(
            f"frontend.amplify.environment {', '.join(names)} use {', '.join(pending)}, which "
            "Terraform did not output; add the output or change the value"
        )
    production = env.environment.protected or env.env in ("prod", "production")
    stage = "PRODUCTION" if production else "DEVELOPMENT"
    return DesiredApp(
        name=amplify.app,
        repository=amplify.repository,
        branch=amplify.branch,
        stage=stage,
        app_root=app_root,
        environment=environment,
        build_spec=spec,
        pending=tuple(pending),
    )
