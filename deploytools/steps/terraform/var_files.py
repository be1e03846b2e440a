"""`terraform.var_files`: the config's -var-file= paths, checked to exist inside the repository."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deploytools.errors import BadInput


def resolve_var_files(repo_root: Path, files: Sequence[str]) -> tuple[Path, ...]:
    """Absolute paths, in the config's order; each must be a file under `repo_root`.

    `files` are the config's `terraform.var_files` with `{env}` already resolved, relative to
    the repository root (the folder of deploytools.yml).
    """
    root = repo_root.resolve()
    resolved: list[Path] = []
    for index, name in enumerate(files):
        key = f"terraform.var_files[{index}]"
        path = (root / name).resolve()  # symlinks followed: a link out of the repo is refused
        if not path.is_relative_to(root):
            raise BadInput(
                f"{key}: {name} is outside the repository ({root}); "
                "keep variable files inside it and name them relative to deploytools.yml"
            )
        if not path.is_file():
            raise BadInput(
                f"{key}: {name} does not exist (looked for {path}); create it or remove the entry"
            )
        resolved.append(path)
    return tuple(resolved)
