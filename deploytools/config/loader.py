"""Load deploytools.yml: parse with lines, validate the model, then cross-check references."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from deploytools.config import interpolate
from deploytools.config.errors import describe, dotted
from deploytools.config.model import TARGET_MODELS, Config, Environment
from deploytools.config.yamlpos import DuplicateKey, KeyPath, Located, YamlSyntax, load
from deploytools.errors import BadInput, ConfigError

DEFAULT_CONFIG = "deploytools.yml"
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
        raw = self.model.model_dump(exclude_none=True)
        for name, target in raw.get("targets", {}).items():
            key = TARGET_MODELS[target["type"]].RESOURCE_KEY
            target.setdefault(key, f"{self.model.project}-{env}-{name}")
        for name, image in raw.get("images", {}).items():
            image.setdefault("repository", f"{self.model.project}-{name}")
        if environment.region:
            raw["region"] = environment.region
        model = Config.model_validate(resolver.deep(raw))
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
        located = load(config_path.read_text(encoding="utf-8"))
    except YamlSyntax as exc:
        raise ConfigError([f"{file}:{exc.line}: invalid YAML: {exc}"]) from exc
    except DuplicateKey as exc:
        raise ConfigError([f"{file}:{exc.line}: {dotted(exc.path)}: {exc}"]) from exc
    if not isinstance(located.data, dict):
        raise ConfigError([f"{file}:1: (top level): expected a mapping of keys such as project:"])
    try:
        model = Config.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, located, file)) from exc
    loaded = LoadedConfig(model=model, path=config_path, located=located)
    problems = list(_cross_check(loaded))
    if problems:
        raise ConfigError(problems)
    return loaded


def _cross_check(cfg: LoadedConfig) -> Iterator[str]:
    model, root = cfg.model, cfg.root
    yield from _placeholder_problems(cfg, cfg.located.data, ())
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
            if not (root / folder).exists():
                where = cfg.where(("targets", name, "env_from_code", index))
                yield f"{where}: {folder} does not exist"
        package = getattr(target, "package", None)
        if package is not None and not (root / package.source).is_dir():
            where = cfg.where(("targets", name, "package", "source"))
            yield f"{where}: folder {package.source} does not exist"
        manifests = getattr(target, "manifests", None)
        if manifests and not (root / manifests).exists():
            yield f"{cfg.where(('targets', name, 'manifests'))}: {manifests} does not exist"
    for name, image in model.images.items():
        if not (root / image.context).is_dir():
            yield f"{cfg.where(('images', name, 'context'))}: folder {image.context} does not exist"
        if not (root / image.dockerfile).is_file():
            where = cfg.where(("images", name, "dockerfile"))
            yield f"{where}: {image.dockerfile} does not exist (paths are relative to {cfg.file})"
    yield from _duplicates(cfg)
    amplify = model.frontend.amplify if model.frontend else None
    if amplify and not (root / amplify.build_spec).is_file():
        where = cfg.where(("frontend", "amplify", "build_spec"))
        yield f"{where}: {amplify.build_spec} does not exist"
    if model.terraform:
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
