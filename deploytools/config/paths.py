"""Paths in deploytools.yml stay inside the repository: a build context, a Dockerfile or a
package folder outside it would hand files of the machine to an image, a zip or an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from deploytools.config.model import Config
from deploytools.config.yamlpos import KeyPath


def repository_root(config_folder: Path) -> Path:
    """The git checkout that holds the config (`.git` is a folder, or a file in a worktree),
    else the config's own folder."""
    for folder in (config_folder, *config_folder.parents):
        if (folder / ".git").exists():
            return folder
    return config_folder


def inside(base: Path, root: Path, value: str) -> bool:
    """Whether `value`, relative to `base`, names something inside `root` (symlinks
    followed)."""
    try:
        resolved = (base / value).resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name the OS refuses
        return False
    return resolved.is_relative_to(root.resolve())


def outside_message(value: str) -> str:
    shown = value if len(value) <= 120 else value[:120] + "..."
    return (
        f"{shown} is outside the repository (the git checkout, or the folder, of the config "
        "file); use a path inside it"
    )


def configured_paths(model: Config) -> Iterator[tuple[KeyPath, str]]:
    """Every path the config names, with its key path (before {project}/{env} resolve)."""
    for name, image in model.images.items():
        yield ("images", name, "context"), image.context
        yield ("images", name, "dockerfile"), image.dockerfile
    if model.terraform:
        yield ("terraform", "dir"), model.terraform.dir
    for name, target in model.targets.items():
        for index, folder in enumerate(target.env_from_code):
            yield ("targets", name, "env_from_code", index), folder
        package = getattr(target, "package", None)
        if package is not None:
            yield ("targets", name, "package", "source"), package.source
        manifests = getattr(target, "manifests", None)
        if manifests:
            yield ("targets", name, "manifests"), manifests
    amplify = model.frontend.amplify if model.frontend else None
    if amplify:
        yield ("frontend", "amplify", "app_root"), amplify.app_root
        yield ("frontend", "amplify", "build_spec"), amplify.build_spec
