"""Which Terraform CLI config to use, so `init` installs providers from a mirror when asked.

A user's own config wins: an explicit path, then a readable `$TF_CLI_CONFIG_FILE`, then
`~/.terraformrc`. Without one, Terraform installs providers as it always does, unless a
mirror is asked for: `$DEPLOYTOOLS_TF_MIRROR` names one, or `DEPLOYTOOLS_TF_MIRROR_SEARCH=1`
(the sandbox sets it) searches the disk for one. Then a config pointing at it is written. A
`TF_CLI_CONFIG_FILE` naming a missing file counts as "none": Terraform would only warn and
then try the registry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CLI_CONFIG_ENV = "TF_CLI_CONFIG_FILE"
MIRROR_ENV = "DEPLOYTOOLS_TF_MIRROR"  # a mirror's folder
MIRROR_SEARCH_ENV = "DEPLOYTOOLS_TF_MIRROR_SEARCH"  # "1": look for a mirror on disk


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


def mirror_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """A provider mirror was named, or its search turned on."""
    env = os.environ if environ is None else environ
    return bool(env.get(MIRROR_ENV)) or env.get(MIRROR_SEARCH_ENV) == "1"


def resolve_cli_config(
    explicit: Path | None, *, work_dir: Path, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config to pass as TF_CLI_CONFIG_FILE: the user's, one written for the mirror, or
    None (Terraform's own defaults). `environ` adds to the process's environment."""
    if explicit is not None:
        return explicit
    existing = user_cli_config()
    if existing is not None:
        return existing
    if not mirror_wanted({**os.environ, **(environ or {})}):
        return None
    # Imported here: only a run that asks for a mirror needs the search.
    from deploytools.sandbox.tfmirror import write_cli_config

    return write_cli_config(work_dir / "terraformrc")
