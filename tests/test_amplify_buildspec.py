"""The one Amplify build-spec parser, shared by the Amplify step and DT006."""

from __future__ import annotations

import pytest

from deploytools.config.yamlpos import DuplicateKey, YamlSyntax
from deploytools.lib.amplify_buildspec import Application, normalize_root, parse

MONOREPO = """\
version: 1
applications:
  - appRoot: ./frontend/
    frontend: {}
  - frontend: {}
  - not an application
"""


def test_a_monorepo_spec_lists_its_applications_with_lines() -> None:
    document = parse(MONOREPO)
    assert document.monorepo
    assert document.applications == (
        Application(("applications", 0), "frontend", declares_root=True),
        Application(("applications", 1), ""),
    )
    assert document.app_roots == ("frontend",)
    assert document.matching("frontend/") == (document.applications[0],)
    assert document.located.line(("applications", 0, "appRoot")) == 3


def test_a_spec_without_applications_is_one_application_at_the_root() -> None:
    document = parse("version: 1\nfrontend: {}\n")
    assert not document.monorepo
    assert document.applications == (Application((), ""),)
    assert document.app_roots == ()
    assert document.matching("") == (Application((), ""),)


def test_syntax_errors_and_duplicate_keys_carry_their_line() -> None:
    with pytest.raises(YamlSyntax) as syntax:
        parse("version: 1\napplications: [\n")
    assert syntax.value.line == 3
    with pytest.raises(DuplicateKey) as duplicate:
        parse("version: 1\nversion: 2\n")
    assert (duplicate.value.line, str(duplicate.value)) == (
        2,
        "duplicate key (first defined on line 1)",
    )


@pytest.mark.parametrize(
    ("given", "normal"), [("./frontend/", "frontend"), (" apps/web ", "apps/web"), ("/", "")]
)
def test_app_roots_are_compared_without_dot_slash_and_slashes(given: str, normal: str) -> None:
    assert normalize_root(given) == normal
