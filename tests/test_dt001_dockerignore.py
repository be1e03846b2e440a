"""DT001: COPY/ADD sources that .dockerignore excludes or that lie outside the context."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks import run_checks
from deploytools.checks.base import CheckContext, Finding
from deploytools.config import load_config
from deploytools.lib.dockerfile import parse, stages, transfer

FIXTURES = Path(__file__).parent / "fixtures" / "dt001"


def dt001(root: Path) -> list[Finding]:
    config = root / "deploytools.yml"
    ctx = CheckContext(root=root, config=load_config(config) if config.exists() else None)
    return run_checks(ctx, only={"DT001"})


def test_negative_fixture_is_clean() -> None:
    """--from stages, negations, a JSON array, heredocs, URLs, `# escape=`, a root context."""
    assert dt001(FIXTURES / "negative") == []


def test_positive_fixture_names_file_line_and_the_ignore_line() -> None:
    found = [(f.file, f.line, f.message) for f in dt001(FIXTURES / "positive")]
    assert found == [
        (
            "api/Dockerfile",
            7,
            "COPY source 'models/' is excluded by api/.dockerignore:3 ('models')",
        ),
        ("api/Dockerfile", 8, "COPY source '.env' is excluded by api/.dockerignore:2 ('.env')"),
        (
            "api/Dockerfile",
            9,
            "COPY source 'config/settings.local.yaml' is excluded by api/.dockerignore:4 "
            "('**/*.local.yaml')",
        ),
        (
            "api/Dockerfile",
            12,
            "ADD source '../shared/lib.py' is outside the build context (api/); "
            "Docker cannot send it",
        ),
        (
            "api/Dockerfile",
            13,
            "COPY source '*.md' matches 2 path(s), all excluded by api/.dockerignore:5 ('*.md')",
        ),
        (
            "api/Dockerfile",
            14,
            "COPY source 'data/' is a folder whose files are all excluded by "
            "api/.dockerignore:6 ('data/*.csv')",
        ),
        ("bad/.dockerignore", 2, "invalid pattern '[': unterminated character set"),
        (
            "docker/svc.Dockerfile",
            3,
            "COPY source 'dist/' is excluded by svc/.dockerignore:1 ('dist')",
        ),
        (
            "runner/Dockerfile",
            4,
            "COPY source 'deploytools.yml' is excluded by runner/Dockerfile.dockerignore:1 ('*')",
        ),
    ]


def test_findings_carry_a_fix() -> None:
    by_line = {(f.file, f.line): f for f in dt001(FIXTURES / "positive")}
    assert by_line[("api/Dockerfile", 7)].fix == (
        "Remove or narrow line 3 of api/.dockerignore, or re-include the path with '!models' "
        "on a later line; or stop copying it."
    )
    assert by_line[("api/Dockerfile", 12)].fix.startswith("Move the file into the context")
    assert all(f.rule == "DT001" and f.fix for f in by_line.values())


def test_the_configured_context_is_used(tmp_path: Path) -> None:
    """The same Dockerfile is fine from the repository root, broken from its own folder."""
    root = tmp_path
    (root / "web").mkdir()
    (root / "web" / "Dockerfile").write_text("FROM scratch\nCOPY web/index.html /srv/\n")
    (root / "web" / "index.html").write_text("ok")
    (root / ".dockerignore").write_text("web/*.html\n")
    (root / "deploytools.yml").write_text(
        "project: p\nenvironments: {dev: {account_id: '123456789012'}}\n"
        "images: {web: {context: ., dockerfile: web/Dockerfile}}\n"
    )
    assert [(f.file, f.line, f.message) for f in dt001(root)] == [
        (
            "web/Dockerfile",
            2,
            "COPY source 'web/index.html' is excluded by .dockerignore:1 ('web/*.html')",
        )
    ]


def test_the_dockerfile_parser() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "COPY --chown=1000:1000 --link \\\n"
        "  # a comment line inside\n"
        "  a.go b.go /src/\n"
        "RUN <<EOF\n"
        "COPY not/an/instruction /x\n"
        "EOF\n"
        'COPY ["with space.txt", "/dst/"]\n'
        "FROM scratch\n"
        "COPY --from=build /out /out\n"
    )
    instructions = parse(text)
    assert [(i.keyword, i.line) for i in instructions] == [
        ("FROM", 2), ("COPY", 3), ("RUN", 6), ("COPY", 9), ("FROM", 10), ("COPY", 11),
    ]  # fmt: skip
    copies = [transfer(i) for i in instructions if i.keyword == "COPY"]
    assert [(c.sources, c.destination, c.from_stage) for c in copies if c] == [
        (("a.go", "b.go"), "/src/", None),
        (("with space.txt",), "/dst/", None),
        (("/out",), "/out", "build"),
    ]
    assert copies[0] is not None and copies[0].flags == {"chown": "1000:1000", "link": ""}
    assert [(s.image, s.platform, s.name) for s in stages(instructions)] == [
        ("golang:1.22", "$BUILDPLATFORM", "build"),
        ("scratch", None, None),
    ]
