"""Whether `terraform init` would change anything: a fingerprint of what init depends on.

Init installs providers (from the lock file and the CLI config's mirror), modules (from
their `source`/`version`) and the backend (its block and `-backend-config`). When none of
these changed since the last successful init, and what init left is still there, running it
again only costs a second; the runner skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from deploytools.lib.terraform_sandbox_backend import LOCK_FILE

FINGERPRINT_FILE = "deploytools-init.json"
# The lines of .tf files that init reads: module sources and versions, provider
# requirements, the backend block. Other edits (a new resource) need no init.
_INIT_LINE = re.compile(
    r"^\s*(source|version|required_version|backend\s+\"|cloud\s*\{|module\s+\"|[A-Za-z0-9_-]+\s*=\s*\{\s*source)"
)


def data_dir(root: Path, env: Mapping[str, str]) -> Path:
    """Where init keeps providers, modules and backend settings (TF_DATA_DIR or .terraform)."""
    given = env.get("TF_DATA_DIR")
    return Path(given) if given else root / ".terraform"


def fingerprint(
    root: Path, *, env: Mapping[str, str], args: list[str], cli_config: Path | None
) -> str:
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("args", json.dumps(args).encode())
    add("data_dir", str(data_dir(root, env)).encode())
    for name in ("TF_WORKSPACE", "TF_PLUGIN_CACHE_DIR"):
        add(name, env.get(name, "").encode())
    for path in (root / LOCK_FILE, cli_config):
        add(f"file {path}", _read(path))
    for tf_file in _tf_files(root) + _local_module_files(root, env):
        lines = [line.strip() for line in _read(tf_file).decode(errors="replace").splitlines()]
        add(f"tf {tf_file}", "\n".join(filter(_INIT_LINE.match, lines)).encode())
    return digest.hexdigest()


def is_current(root: Path, *, env: Mapping[str, str], value: str) -> bool:
    """True when the last successful init had this fingerprint and its products exist."""
    folder = data_dir(root, env)
    try:
        recorded = json.loads((folder / FINGERPRINT_FILE).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("fingerprint") != value:
        return False
    if (root / LOCK_FILE).is_file() and not (folder / "providers").is_dir():
        return False
    uses_modules = any(b"module " in _read(f) for f in _tf_files(root))
    return not uses_modules or (folder / "modules" / "modules.json").is_file()


def record(root: Path, *, env: Mapping[str, str], value: str) -> None:
    folder = data_dir(root, env)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{FINGERPRINT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"fingerprint": value}))
    tmp.replace(folder / FINGERPRINT_FILE)


def forget(root: Path, *, env: Mapping[str, str]) -> None:
    (data_dir(root, env) / FINGERPRINT_FILE).unlink(missing_ok=True)


def _tf_files(root: Path) -> list[Path]:
    """The root's .tf files and those of local modules below it (not .terraform's copies)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder, f) for f in sorted(files) if f.endswith((".tf", ".tf.json")))
    return found


def _local_module_files(root: Path, env: Mapping[str, str]) -> list[Path]:
    """.tf files of local modules outside the root (`../modules/x`), as init last saw them:
    a module source they declare is installed by init too."""
    manifest = data_dir(root, env) / "modules" / "modules.json"
    try:
        modules = json.loads(manifest.read_text()).get("Modules", [])
    except (OSError, ValueError, AttributeError):
        return []
    found: list[Path] = []
    for module in modules:
        folder = (root / str(module.get("Dir", ""))).resolve()
        if module.get("Key") and folder.is_dir() and not folder.is_relative_to(root.resolve()):
            found.extend(sorted(p for p in folder.glob("*.tf") if p.is_file()))
    return found


def _read(path: Path | None) -> bytes:
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError:
        return b""
