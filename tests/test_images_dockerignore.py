""".dockerignore with Docker's semantics: patterns, the files a context sends, the walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploytools.lib import build_context as context_module
from deploytools.lib.build_context import load_context, scan
from deploytools.lib.dockerignore import (
    BadIgnorePattern,
    DockerIgnore,
    go_clean,
    read_patterns,
)

# (patterns, path, excluded?) — behaviour of moby/patternmatcher, including its quirks.
CASES = [
    (["**"], "file", True),
    (["**"], "dir/file", True),
    (["**/"], "dir/file", True),
    (["dir/**"], "dir/file", True),
    (["dir/**"], "dir/dir2/file", True),
    (["dir/**"], "dir", False),  # "dir/**" needs something below dir
    (["**/dir"], "dir", True),
    (["**/dir"], "a/b/dir", True),
    (["**/dir"], "a/dir/file", True),  # through the parent
    (["**/dir2/*"], "dir/dir2/file", True),
    (["**file"], "dir/dir/file", True),
    (["**/file*.txt"], "dir/dir/file.txt", True),
    (["**/**/*.txt"], "file.txt", True),
    (["**/**/*.txt2"], "dir/file.txt", False),
    (["a**/*.txt"], "a/dir/dir/file.txt", True),
    (["a/*.txt"], "a/dir/file.txt", False),  # "*" never crosses "/"
    (["a/*.txt"], "a/file.txt", True),
    (["*"], "dir/file", True),  # "*" matches the top-level folder, hence its files
    (["*.py"], "pkg/mod.py", False),  # only at the top level, unlike .gitignore
    (["a[b-d]e"], "ace", True),
    (["a[b-d]e"], "aae", False),
    (["a[^b-d]e"], "aze", True),
    ([".*"], ".env", True),
    ([".*"], "env", False),
    (["abc.def"], "abcZdef", False),  # "." is literal
    (["abc?def"], "abcZdef", True),
    (["a(b)c/def"], "a(b)c/def", True),
    (["a\\*b"], "a*b", True),
    (["/tests"], "tests/test_a.py", True),  # a leading "/" is the context root
    (["./build/"], "build/out.o", True),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/other.md", True),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["!fileutils.go", "*.go"], "fileutils.go", True),  # the last matching line wins
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!**/*.py"], "src/pkg/mod.py", False),
    (["**", "!**/*.py"], "src/pkg/mod.pyc", True),
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), CASES)
def test_patterns_match_like_docker(patterns: list[str], path: str, excluded: bool) -> None:
    ignore = DockerIgnore.parse("\n".join(patterns))
    assert ignore.excluded(path) is excluded


def test_reading_the_file_keeps_line_numbers_and_normalizes() -> None:
    text = "\ufeff# comment\n\n  *.log  \r\n! /tmp/keep.log\n/abs//dir/./x/\n#!notanegation\n"
    assert read_patterns(text) == [
        (3, "*.log", "  *.log  "),
        (4, "!tmp/keep.log", "! /tmp/keep.log"),
        (5, "abs/dir/x", "/abs//dir/./x/"),
    ]


def test_the_deciding_line_is_reported() -> None:
    ignore = DockerIgnore.parse("*.md\n!README.md\ndocs\n", source="api/.dockerignore")
    rule = ignore.excluded_by("docs/guide/intro.md")
    assert rule is not None and rule.line == 3 and rule.text == "docs"
    assert ignore.excluded_by("README.md") is None
    rule = ignore.excluded_by("CHANGES.md")
    assert rule is not None and rule.line == 1


@pytest.mark.parametrize("bad", ["!", "[", "a[", "foo\\"])
def test_docker_refuses_these_lines(bad: str) -> None:
    with pytest.raises(BadIgnorePattern) as caught:
        DockerIgnore.parse(f"ok\n{bad}\n", source=".dockerignore")
    assert caught.value.line == 2
    assert str(caught.value).startswith(".dockerignore:2: ")


def test_go_clean_matches_go() -> None:
    assert go_clean("") == "."
    assert go_clean("//a//b/") == "/a/b"
    assert go_clean("a/../..") == ".."
    assert go_clean("/..") == "/"
    assert go_clean("./x/./y/..") == "x"


TREE = [
    "Dockerfile", "README.md", "CHANGES.md", ".env", ".git/HEAD", ".git/objects/ab/cd",
    "node_modules/a/index.js", "node_modules/keep/x.js", "src/app.py", "src/app.pyc",
    "src/pkg/mod.py", "src/pkg/mod.pyc", "src/pkg/__pycache__/mod.cpython-312.pyc",
    "docs/a.md", "docs/README.md", "data/raw/big.csv", "data/models/model.bin",
    "tests/test_a.py",
]  # fmt: skip
IGNORE = """# a realistic, tricky ignore file
.git
.env
**/*.pyc
**/__pycache__
node_modules
!node_modules/keep
docs/
!docs/README.md
data/**
!data/models/
/tests
*.md
!README.md
"""


def make_tree(root: Path, ignore: str) -> Path:
    for rel in TREE:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (root / ".dockerignore").write_text(ignore)
    return root


def test_the_context_sends_exactly_these_files(tmp_path: Path) -> None:
    ctx = load_context(make_tree(tmp_path, IGNORE), tmp_path / "Dockerfile")
    assert ctx.files == [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "data/models/model.bin",
        "docs/README.md",
        "node_modules/keep/x.js",
        "src/app.py",
        "src/pkg/mod.py",
    ]


def test_negation_with_double_star_reincludes_inside_excluded_folders(tmp_path: Path) -> None:
    ctx = load_context(make_tree(tmp_path, "**\n!**/*.py\n"), tmp_path / "Dockerfile")
    assert ctx.files == ["src/app.py", "src/pkg/mod.py", "tests/test_a.py"]


def test_allowlist_style(tmp_path: Path) -> None:
    make_tree(tmp_path, "*\n!src\nsrc/*.pyc\n")
    assert load_context(tmp_path, tmp_path / "Dockerfile").files == [
        "src/app.py",
        "src/pkg/__pycache__/mod.cpython-312.pyc",  # "*" stops at "/": only src/*.pyc go
        "src/pkg/mod.py",
        "src/pkg/mod.pyc",
    ]
    (tmp_path / ".dockerignore").write_text("*\n!src\nsrc/**/*.pyc\n")
    assert load_context(tmp_path, tmp_path / "Dockerfile").files == [
        "src/app.py",
        "src/pkg/mod.py",
    ]


def test_excluded_folders_are_not_walked_unless_a_negation_could_reach_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, IGNORE)
    walked: list[str] = []
    real_scandir = os.scandir

    def spy(path: str) -> object:
        walked.append(Path(path).relative_to(tmp_path).as_posix())
        return real_scandir(path)

    monkeypatch.setattr(context_module.os, "scandir", spy)
    load_context(tmp_path, tmp_path / "Dockerfile")
    assert ".git" not in walked and "node_modules/a" not in walked
    assert "src/pkg/__pycache__" not in walked
    assert "node_modules" in walked and "node_modules/keep" in walked  # !node_modules/keep
    assert "docs" in walked and "data/models" in walked


def test_scan_below_a_folder_uses_the_parents_rules(tmp_path: Path) -> None:
    make_tree(tmp_path, IGNORE)
    ignore = DockerIgnore.parse(IGNORE)
    assert [e.path for e in scan(tmp_path, ignore, start="docs")] == ["docs/README.md"]
    assert [e.path for e in scan(tmp_path, ignore, start="data")] == [
        "data/models",
        "data/models/model.bin",
    ]
    assert scan(tmp_path, ignore, start=".git") == ()


def test_symlinks_are_sent_as_links_and_special_files_not_at_all(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "link").symlink_to("real")
    os.mkfifo(tmp_path / "pipe")
    ctx = load_context(tmp_path, tmp_path / "Dockerfile")
    assert {(e.path, e.kind) for e in ctx.entries} == {
        ("Dockerfile", "f"), ("link", "l"), ("real", "d"), ("real/f", "f"),
    }  # fmt: skip


def test_a_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    make_tree(tmp_path, "src\n")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "images" / "Dockerfile.dockerignore").write_text("*\n!src/app.py\n")
    ctx = load_context(tmp_path, tmp_path / "images" / "Dockerfile")
    assert ctx.ignore_file == tmp_path / "images" / "Dockerfile.dockerignore"
    assert ctx.files == ["src/app.py"]
