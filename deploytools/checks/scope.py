"""What `check` reads: the repository root, and the parts of it the config names.

Paths in findings are relative to the repository root (git's top level, else the config's
folder), wherever the config lives. With a config, the rules read the config's folder, what the
config names outside it, and the workflows; the Terraform rules read only its Terraform dirs
and their local modules, so a second copy of a folder that nothing deploys is not reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploytools import proc
from deploytools.config.interpolate import Resolver
from deploytools.config.loader import LoadedConfig
from deploytools.errors import DeployError

WORKFLOWS = ".github/workflows"


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
    """The config's folder and what the config names (images, packages, code, the Amplify app,
    Terraform dirs) wherever they are, and the repository's workflows. The Terraform rules read
    the named dirs and the local modules they call (the Terraform index follows those)."""
    model, base = config.model, config.root

    def rel(value: str) -> str:
        return relative(base / value, root)

    paths = [relative(base, root), WORKFLOWS]
    for image in model.images.values():
        paths += [rel(image.context), rel(image.dockerfile)]
    for target in model.targets.values():
        package = getattr(target, "package", None)
        if package is not None:
            paths.append(rel(package.source))
        paths += [rel(p) for p in target.env_from_code]
    if model.frontend is not None and model.frontend.amplify is not None:
        amplify = model.frontend.amplify
        paths += [rel(amplify.app_root), rel(amplify.build_spec)]
    roots = None
    if model.terraform is not None:
        roots = tuple(sorted({rel(d) for d in terraform_dirs(config)}))
    return Scope(tuple(sorted(set(paths))), roots)


def terraform_dirs(config: LoadedConfig) -> list[str]:
    """The Terraform dir of every environment, placeholders filled in, relative to the config."""
    model = config.model
    if model.terraform is None:
        return []
    directory = model.terraform.dir
    return sorted({Resolver(model.project, env).text(directory) for env in model.environments})
