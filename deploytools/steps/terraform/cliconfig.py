"""Which Terraform CLI config to use, so `init` installs providers from a mirror when needed.

A user's own config wins: an explicit path, then a readable `$TF_CLI_CONFIG_FILE`, then
`~/.terraformrc`. Only when none of these exists do we write one, pointing at the provider
mirror found on disk (machines without registry access keep providers there). A
`TF_CLI_CONFIG_FILE` naming a missing file counts as "none": Terraform would only warn and
then try the registry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CLI_CONFIG_ENV = "TF_CLI_CONFIG_FILE"


def user_cli_config(environ: Mapping[str, str] | None = None) -> Path | None:
    """The CLI config the user set up, if it exists and is readable."""
    env = os.environ if environ is None else environ
    candidates: list[Path] = []
    if env.get(CLI_CONFIG_ENV):
        candidates.append(Path(env[CLI_CONFIG_ENV]).expanduser())
    else:
        candidates.append(Path(env.get("HOME", "~"), ".terraformrc").expanduser())
        if env.get("APPDATA"):
            candidates.append(Path(env["APPDATA"], "terraform.rc"))
    for path in candidates:
        if path.is_file() and os.access(path, os.R_OK):
            return path
    return None


def resolve_cli_config(explicit: Path | None, *, work_dir: Path) -> Path:
    """The config to pass as TF_CLI_CONFIG_FILE: the user's, or one written for the mirror."""
    if explicit is not None:
        return explicit
    existing = user_cli_config()
    if existing is not None:
        return existing
    # Imported here: only machines without a usable CLI config need the mirror search.
    from deploytools.sandbox.tfmirror import write_cli_config

    return write_cli_config(work_dir / "terraformrc")
