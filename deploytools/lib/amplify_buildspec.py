"""The Amplify build spec (amplify.yml): its applications and their appRoots, with the line of
every key, read one way for the Amplify step and for check DT006.

A monorepo spec lists `applications:`, each with an `appRoot`; Amplify builds the one whose
appRoot equals the app's AMPLIFY_MONOREPO_APP_ROOT variable. A spec without `applications:`
is one application at the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploytools.config.yamlpos import KeyPath, Located, load

APP_ROOT_VARIABLE = "AMPLIFY_MONOREPO_APP_ROOT"
SPEC_NAMES = ("amplify.yml", "amplify.yaml")


@dataclass(frozen=True)
class Application:
    """One application of the spec: its key path prefix and its appRoot ('' for the root)."""

    prefix: KeyPath
    app_root: str
    declares_root: bool = False  # the entry has a non-empty appRoot key


@dataclass(frozen=True)
class BuildSpecDocument:
    """The parsed spec; `located` keeps the line of every key."""

    located: Located
    applications: tuple[Application, ...]
    monorepo: bool

    @property
    def app_roots(self) -> tuple[str, ...]:
        """The appRoots the applications declare, normalized, in the spec's order."""
        return tuple(a.app_root for a in self.applications if a.declares_root)

    def matching(self, app_root: str) -> tuple[Application, ...]:
        """The applications Amplify builds for this app root."""
        wanted = normalize_root(app_root)
        return tuple(a for a in self.applications if a.app_root == wanted)


def normalize_root(value: str) -> str:
    """An app root as Amplify compares it: no leading './', no surrounding slashes."""
    return value.strip().removeprefix("./").strip("/")


def parse(text: str) -> BuildSpecDocument:
    """The spec's applications; raises yamlpos.YamlSyntax or yamlpos.DuplicateKey (with lines)."""
    located = load(text)
    data = located.data
    applications = data.get("applications") if isinstance(data, dict) else None
    if not isinstance(applications, list):
        return BuildSpecDocument(located, (Application((), ""),), monorepo=False)
    entries = tuple(
        _application(index, app) for index, app in enumerate(applications) if isinstance(app, dict)
    )
    return BuildSpecDocument(located, entries, monorepo=True)


def _application(index: int, app: dict[str, Any]) -> Application:
    raw = app.get("appRoot")
    return Application(
        ("applications", index), normalize_root(str(raw or "")), declares_root=bool(raw)
    )
