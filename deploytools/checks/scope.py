"""What `check` reads: the repository root, and the Terraform the config names.

Paths in findings are relative to the repository root (git's top level, else the config's
folder), wherever the config lives; with a config, the Terraform rules read only its Terraform
dirs and their local modules, so a second copy of a folder that nothing deploys is not
reported twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploytools import proc
from deploytools.config.interpolate import Resolver
from deploytools.config.loader import LoadedConfig
from deploytools.errors import DeployError


@dataclass(frozen=True)
class Scope:
    """Folders and files (relative to the repository root) the rules read."""

    paths: tuple[str, ...]
    terraform_roots: tuple[str, ...] | None  # None: every .tf file in `paths`


def repository_root(start: Path) -> Path:
    """git's top level for `start`, else `start` itself."""
    try:
        found = proc.run(["git", "-C", str(start), "rev-parse", "--show-toplevel"], check=False)
    except DeployError:  # no git on this machine
        return start.resolve()
    top = found.stdout.strip()
    return Path(top).resolve() if found.returncode == 0 and top else start.resolve()


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` ("" for the root itself), forward slashes."""
    rel = os.path.relpath(os.path.normpath(path if path.is_absolute() else root / path), root)
    return "" if rel == "." else rel.replace(os.sep, "/")


def config_scope(config: LoadedConfig, root: Path) -> Scope:
    """The whole repository, with Terraform limited to the dirs the config names (and the local
    modules they call, which the Terraform index follows). Committed secrets and Dockerfiles are
    a problem wherever they are; Terraform that nothing deploys is not."""
    roots = None
    if config.model.terraform is not None:
        roots = tuple(sorted({relative(config.root / d, root) for d in terraform_dirs(config)}))
    return Scope(("",), roots)


def terraform_dirs(config: LoadedConfig) -> list[str]:
    """The Terraform dir of every environment, placeholders filled in, relative to the config."""
    model = config.model
    if model.terraform is None:
        return []
    directory = model.terraform.dir
    return sorted({Resolver(model.project, env).text(directory) for env in model.environments})
