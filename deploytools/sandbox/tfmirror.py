"""Find a Terraform provider mirror on disk and write a CLI config that installs from it.

Machines without network reach to the Terraform registry keep providers in a filesystem
mirror (a folder holding `registry.terraform.io/<namespace>/<type>/...`). `terraform init`
uses it only when a CLI config file says so; this module finds the mirror and writes that
file, so nothing depends on a hard-coded path or on a `TF_CLI_CONFIG_FILE` set elsewhere.

Run as `python -m deploytools.sandbox.tfmirror [--write PATH]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

REGISTRY_HOST = "registry.terraform.io"
ENV_OVERRIDE = "DEPLOYTOOLS_TF_MIRROR"
MAX_DEPTH = 4  # as `find / -maxdepth 4 -type d -name registry.terraform.io`
# Pseudo and volatile file systems: nothing to find there, and walking them is slow.
# (S108: these are folders not to look in, never files written.)
_SKIP = frozenset({"/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/lib/docker"})  # noqa: S108


def _candidates(root: Path, depth: int) -> Iterator[Path]:
    """Folders named registry.terraform.io at most `depth` levels below root."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        path = Path(entry.path)
        if entry.name == ".terraform" or str(path) in _SKIP:
            continue
        if entry.name == REGISTRY_HOST:
            yield path
        elif depth > 1:
            yield from _candidates(path, depth - 1)


def _has_provider(host_dir: Path) -> bool:
    """True when host_dir holds at least one <namespace>/<type>/<version> folder or package."""
    return any(type_dir.is_dir() and any(type_dir.iterdir()) for type_dir in host_dir.glob("*/*"))


def find_provider_mirror(roots: Sequence[Path] = (Path("/"),)) -> Path | None:
    """The filesystem mirror to install providers from, or None when the machine has none.

    `$DEPLOYTOOLS_TF_MIRROR` wins when set; otherwise the first folder (in path order) whose
    `registry.terraform.io` child holds a provider.
    """
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        mirror = Path(override)
        return mirror if (mirror / REGISTRY_HOST).is_dir() else None
    for root in roots:
        for host_dir in _candidates(root, MAX_DEPTH):
            if _has_provider(host_dir):
                return host_dir.parent
    return None


def cli_config_text(mirror: Path | None) -> str:
    """The CLI config: install registry.terraform.io providers from the mirror only."""
    lines = [
        "# Written by deploytools (deploytools.sandbox.tfmirror).",
        "disable_checkpoint = true",
    ]
    if mirror is None:
        lines.append("# No provider mirror was found on this machine: providers install directly.")
        return "\n".join(lines) + "\n"
    # A JSON string is a valid HCL string literal, quotes and backslashes included.
    path = json.dumps(str(mirror))
    include = json.dumps([f"{REGISTRY_HOST}/*/*"])
    lines += [
        "provider_installation {",
        "  filesystem_mirror {",
        f"    path    = {path}",
        f"    include = {include}",
        "  }",
        "  direct {",
        f"    exclude = {include}",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def write_cli_config(path: Path, mirror: Path | None = None) -> Path:
    """Write the CLI config for `mirror` (default: the one found on disk) to path."""
    chosen = mirror if mirror is not None else find_provider_mirror()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = cli_config_text(chosen)
    if not path.exists() or path.read_text() != text:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the Terraform provider mirror found.")
    parser.add_argument("--write", type=Path, metavar="PATH", help="also write a CLI config here")
    args = parser.parse_args(argv)
    mirror = find_provider_mirror()
    if args.write is not None:
        write_cli_config(args.write, mirror)
    if mirror is None:
        print("no Terraform provider mirror found", file=sys.stderr)
        return 1
    print(mirror)
    return 0


if __name__ == "__main__":
    sys.exit(main())
