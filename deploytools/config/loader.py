"""Load deploytools.yml: parse with lines, validate the model, then cross-check references."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from deploytools.config import interpolate, names, paths
from deploytools.config.errors import capped, child, describe, dotted
from deploytools.config.model import TARGET_MODELS, Config, Environment
from deploytools.config.yamlpos import (
    DuplicateKey,
    KeyPath,
    Located,
    YamlRefused,
    YamlSyntax,
    decode,
    load,
)
from deploytools.errors import BadInput, ConfigError

DEFAULT_CONFIG = "deploytools.yml"
# A config of settings is a few KB; the limit keeps a mistaken or hostile file from costing
# seconds and gigabytes before its first error.
MAX_CONFIG_BYTES = 1024 * 1024
# Sections built before Terraform runs cannot use its outputs.
BEFORE_TERRAFORM = ("project", "region", "environments", "secrets", "images", "terraform")


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config plus where it came from, for messages that name the line."""

    model: Config
    path: Path
    located: Located

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def file(self) -> str:
        return self.path.name

    def line(self, path: KeyPath) -> int:
        return self.located.line(path)

    def where(self, path: KeyPath) -> str:
        return f"{self.file}:{self.line(path)}: {dotted(path)}"

    def environment(self, name: str) -> Environment:
        if name not in self.model.environments:
            allowed = ", ".join(self.model.environments)
            raise BadInput(
                f"{self.where(('environments',))}: environment '{name}' is not defined; "
                f"allowed: {allowed}"
            )
        return self.model.environments[name]

    def for_env(self, env: str, tf_outputs: Mapping[str, Any] | None = None) -> EnvConfig:
        """The model with placeholders resolved and default resource names filled in."""
        environment = self.environment(env)
        resolver = interpolate.Resolver(self.model.project, env, tf_outputs)
        # Only what the file set: an explicit null (alias: null) stays null, defaults re-apply.
        raw = self.model.model_dump(exclude_unset=True)
        for name, target in raw.get("targets", {}).items():
            key = TARGET_MODELS[target["type"]].RESOURCE_KEY
            if target.get(key) is None:
                target[key] = f"{self.model.project}-{env}-{name}"
        for name, image in raw.get("images", {}).items():
            if image.get("repository") is None:
                image["repository"] = f"{self.model.project}-{name}"
        if environment.region:
            raw["region"] = environment.region
        try:
            model = Config.model_validate(resolver.deep(raw))
        except ValidationError as exc:  # a Terraform output of the wrong shape
            raise ConfigError(capped(describe(exc, self.located, self.file))) from None
        if tf_outputs is not None:
            problems = list(dict.fromkeys(_name_problems(self, env, model)))
            if problems:
                raise ConfigError(capped(problems))
        return EnvConfig(env=env, model=model, environment=environment, pending_tf=resolver.pending)


@dataclass(frozen=True)
class EnvConfig:
    """One environment's view: every name final, {tf.*} pending until Terraform has run."""

    env: str
    model: Config
    environment: Environment
    pending_tf: set[str]

    @property
    def region(self) -> str:
        return self.model.region

    @property
    def ssm_path(self) -> str | None:
        return self.model.secrets.ssm_path if self.model.secrets else None


def find_config(path: str | Path | None) -> Path:
    candidate = Path(path or DEFAULT_CONFIG)
    if candidate.is_dir():
        candidate = candidate / DEFAULT_CONFIG
    if not candidate.is_file():
        raise BadInput(
            f"{candidate}: no such file; run from the app's repository root or pass --config PATH"
        )
    return candidate.resolve()


def load_config(path: str | Path | None = None) -> LoadedConfig:
    config_path = find_config(path)
    file = config_path.name
    try:
        located = load(decode(_read(config_path)))
    except YamlRefused as exc:
        raise ConfigError([f"{file}:{exc.line}: {exc}"]) from None
    except YamlSyntax as exc:
        raise ConfigError([f"{file}:{exc.line}: invalid YAML: {exc}"]) from None
    except DuplicateKey as exc:
        raise ConfigError([f"{file}:{exc.line}: {dotted(exc.path)}: {exc}"]) from None
    if not isinstance(located.data, dict):
        raise ConfigError([f"{file}:1: (top level): expected a mapping of keys such as project:"])
    try:
        model = Config.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(capped(describe(exc, located, file))) from None
    loaded = LoadedConfig(model=model, path=config_path, located=located)
    problems = list(_cross_check(loaded))
    if problems:
        raise ConfigError(capped(problems))
    return loaded


def _read(path: Path) -> bytes:
    """The file's bytes, refusing one over the limit without reading it whole."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
            size = max(len(data), _size(handle.fileno()))
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                f"{path.name}:1: the file is {size / 1024 / 1024:.1f} MiB; the limit is "
                f"{MAX_CONFIG_BYTES // 1024 // 1024} MiB: keep settings in it and move data "
                "into the files it names"
            ]
        )
    return data


def _size(fileno: int) -> int:
    return os.fstat(fileno).st_size


def _cross_check(cfg: LoadedConfig) -> Iterator[str]:
    model = cfg.model
    yield from _placeholder_problems(cfg, cfg.located.data, ())
    escaped = yield from _escaping_paths(cfg)
    yield from _region_problems(cfg)
    yield from _existence_problems(cfg, escaped)
    yield from _duplicates(cfg)
    yield from dict.fromkeys(
        problem for env in model.environments for problem in _name_problems(cfg, env)
    )


def _escaping_paths(cfg: LoadedConfig) -> Generator[str, None, set[KeyPath]]:
    """Paths that leave the repository, in any environment; returns their key paths."""
    escaped: set[KeyPath] = set()
    repository = paths.repository_root(cfg.root)
    for path, value in paths.configured_paths(cfg.model):
        for env in cfg.model.environments:
            resolved = interpolate.Resolver(cfg.model.project, env).text(value)
            if not paths.inside(cfg.root, repository, resolved):
                escaped.add(path)
                yield f"{cfg.where(path)}: {paths.outside_message(value)}"
                break
    return escaped


def _region_problems(cfg: LoadedConfig) -> Iterator[str]:
    for path, region in names.regions(cfg.model):
        problem = names.AWS_REGION.problem(region)
        if problem:
            yield f"{cfg.where(path)}: {problem}"


def _name_problems(cfg: LoadedConfig, env: str, model: Config | None = None) -> Iterator[str]:
    """AWS's name rules on one environment's resolved names; a name that still waits for a
    Terraform output is checked once the output exists."""
    if model is None:
        model = cfg.for_env(env).model
    several = len(cfg.model.environments) > 1
    for path, value, rule in names.named_values(model):
        if interpolate.placeholders(value) or interpolate.malformed_placeholders(value):
            continue  # a {tf.*} not known yet, or a placeholder problem reported on its own
        problem = names.problem(value, rule)
        if problem is None:
            continue
        if path not in cfg.located.lines:
            problem += f" (the default name; set {path[-1]}: to choose one)"
        elif several and _raw(cfg.located.data, path) != value:
            problem += f" (environment {env})"
        yield f"{cfg.where(path)}: {problem}"


def _raw(data: Any, path: KeyPath) -> Any:
    for part in path:
        found, data = child(data, part)
        if not found:
            return None
    return data


def _existence_problems(cfg: LoadedConfig, escaped: set[KeyPath]) -> Iterator[str]:
    model, root = cfg.model, cfg.root
    images = sorted(model.images)
    for name, target in model.targets.items():
        image = getattr(target, "image", None)
        if image is not None and image not in model.images:
            allowed = ", ".join(images) or "(none: add an images: section)"
            yield (
                f"{cfg.where(('targets', name, 'image'))}: '{image}' is not defined under images:; "
                f"allowed: {allowed}"
            )
        for index, folder in enumerate(target.env_from_code):
            path: KeyPath = ("targets", name, "env_from_code", index)
            if path not in escaped and not (root / folder).exists():
                yield f"{cfg.where(path)}: {folder} does not exist"
        package = getattr(target, "package", None)
        path = ("targets", name, "package", "source")
        if package is not None and path not in escaped and not (root / package.source).is_dir():
            yield f"{cfg.where(path)}: folder {package.source} does not exist"
        manifests = getattr(target, "manifests", None)
        path = ("targets", name, "manifests")
        if manifests and path not in escaped and not (root / manifests).exists():
            yield f"{cfg.where(path)}: {manifests} does not exist"
    for name, image in model.images.items():
        path = ("images", name, "context")
        if path not in escaped and not (root / image.context).is_dir():
            yield f"{cfg.where(path)}: folder {image.context} does not exist"
        path = ("images", name, "dockerfile")
        if path not in escaped and not (root / image.dockerfile).is_file():
            yield (
                f"{cfg.where(path)}: {image.dockerfile} does not exist "
                f"(paths are relative to {cfg.file})"
            )
    amplify = model.frontend.amplify if model.frontend else None
    path = ("frontend", "amplify", "build_spec")
    if amplify and path not in escaped and not (root / amplify.build_spec).is_file():
        yield f"{cfg.where(path)}: {amplify.build_spec} does not exist"
    if model.terraform and ("terraform", "dir") not in escaped:
        folders = {
            interpolate.Resolver(model.project, env).text(model.terraform.dir): env
            for env in model.environments
        }
        for folder, env in folders.items():
            if not (root / folder).is_dir():
                where = cfg.where(("terraform", "dir"))
                suffix = f" (environment {env})" if len(folders) > 1 else ""
                yield f"{where}: folder {folder}{suffix} does not exist"


def _placeholder_problems(cfg: LoadedConfig, value: Any, path: KeyPath) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _placeholder_problems(cfg, child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _placeholder_problems(cfg, child, (*path, index))
    elif isinstance(value, str):
        for fragment, why in interpolate.malformed_placeholders(value):
            yield f"{cfg.where(path)}: malformed placeholder {fragment}: {why}"
        for name in interpolate.unknown_placeholders(value):
            allowed = interpolate.ALLOWED
            yield f"{cfg.where(path)}: unknown placeholder {{{name}}}; allowed: {allowed}"
        if path and path[0] in BEFORE_TERRAFORM:
            for name in interpolate.placeholders(value):
                if interpolate.is_tf(name):
                    yield (
                        f"{cfg.where(path)}: {{{name}}} cannot be used in {path[0]}: "
                        "it is needed before Terraform runs"
                    )


def _duplicates(cfg: LoadedConfig) -> Iterator[str]:
    model = cfg.model
    if model.secrets:
        counts = Counter(model.secrets.required)
        for index, name in enumerate(model.secrets.required):
            if counts[name] > 1 and model.secrets.required.index(name) != index:
                yield f"{cfg.where(('secrets', 'required', index))}: duplicate name {name}"
    repositories: dict[str, str] = {}
    for name, image in model.images.items():
        repository = image.repository or f"{model.project}-{name}"
        if repository in repositories:
            yield (
                f"{cfg.where(('images', name))}: duplicate name: repository {repository} is "
                f"also used by image '{repositories[repository]}'; give each image its own"
            )
        repositories.setdefault(repository, name)
    resources: dict[tuple[str, str], str] = {}
    for name, target in model.targets.items():
        key = target.RESOURCE_KEY
        resource = target.resource or f"{model.project}-{{env}}-{name}"
        ident = (target.type, resource)
        if ident in resources:
            yield (
                f"{cfg.where(('targets', name, key))}: duplicate name: {target.type} {key} "
                f"{resource} is also the target '{resources[ident]}'"
            )
        resources.setdefault(ident, name)
