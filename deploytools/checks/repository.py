"""The check context of a repository: its root, its config (if any) and what the config names."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks.base import CheckContext
from deploytools.checks.scope import Scope, config_scope, relative, repository_root
from deploytools.config.loader import DEFAULT_CONFIG, LoadedConfig, find_config, load_config
from deploytools.errors import ConfigError


def repository_context(config_option: str | Path | None) -> CheckContext:
    """The context `check` runs in; without a deploytools.yml (and no --config), the whole
    repository around the current folder, for the rules that need no config."""
    if config_option is None and not Path(DEFAULT_CONFIG).is_file():
        return CheckContext(root=repository_root(Path.cwd()))
    path = find_config(config_option)  # a --config that names no file is bad input
    root = repository_root(path.parent)
    try:
        config = load_config(path)
    except ConfigError as exc:
        # What an invalid config names is unknown: read the folder it lives in.
        scope = Scope((relative(path.parent, root),), None)
        return CheckContext(root, None, exc.problems, scope=scope, config_path=path)
    return context_for_config(config, root=root)


def context_for_config(config: LoadedConfig, *, root: Path | None = None) -> CheckContext:
    """The context of a loaded config: its repository's root, scoped to what it names."""
    top = root or repository_root(config.root)
    return CheckContext(root=top, config=config, scope=config_scope(config, top))
