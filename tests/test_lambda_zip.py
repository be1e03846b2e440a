"""The deterministic Lambda zip: same tree, same bytes; excludes honoured."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from deploytools.errors import BadInput
from deploytools.lib.zip_selection import UNZIPPED_LIMIT, compile_pattern, select_files
from deploytools.output import Reporter
from deploytools.steps.targets.lambda_zip import build_zip


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    files = {
        "handler.py": "def handler(event, context):\n    return 1\n",
        "app/model.py": "WEIGHTS = [1, 2, 3]\n",
        "app/data/lookup.csv": "a,b\n1,2\n",
        "app/data/raw/big.parquet": "x" * 1000,
        "bin/run.sh": "#!/bin/sh\necho hi\n",
        "tests/test_handler.py": "def test(): pass\n",
        "app/test_model.py": "def test(): pass\n",
        "app/__pycache__/model.cpython-311.pyc": "cache",
        "app/model.pyc": "cache",
        ".pytest_cache/v/cache": "x",
        "training/train.py": "fit()\n",
        ".git/HEAD": "ref",
        "explore.ipynb": "{}",
        ".env": "SECRET=1",
        ".env.local": "SECRET=2",
        "docs/README.md": "# docs\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "bin" / "run.sh").chmod(0o775)
    return root


def names(source: Path, excludes: list[str] | None = None) -> list[str]:
    return [f.name for f in select_files(source, excludes or [])]


def test_default_excludes_leave_out_tests_caches_training_and_env_files(source: Path) -> None:
    assert names(source) == [
        "app/data/lookup.csv",
        "app/data/raw/big.parquet",
        "app/model.py",
        "bin/run.sh",
        "docs/README.md",
        "handler.py",
    ]


@pytest.mark.parametrize(
    ("excludes", "left_out"),
    [
        (["docs/"], ["docs/README.md"]),
        (["*.md"], ["docs/README.md"]),
        (["**/*.parquet"], ["app/data/raw/big.parquet"]),
        (["app/data/**"], ["app/data/lookup.csv", "app/data/raw/big.parquet"]),
        (["data/"], ["app/data/lookup.csv", "app/data/raw/big.parquet"]),  # a name at any depth
        (["/data/"], []),  # anchored: only src/data
        (["raw"], ["app/data/raw/big.parquet"]),  # a folder by name, without the slash too
        (["handler.py/"], []),  # a trailing slash matches folders only
        (["app/*.py"], ["app/model.py"]),  # one * stays within a folder
        (["*.[cp][sa]*"], ["app/data/lookup.csv", "app/data/raw/big.parquet"]),
    ],
)
def test_config_excludes(source: Path, excludes: list[str], left_out: list[str]) -> None:
    assert sorted(set(names(source)) - set(names(source, excludes))) == left_out


def test_two_builds_of_the_same_tree_are_byte_identical(source: Path, tmp_path: Path) -> None:
    first = build_zip(source, out=tmp_path / "one.zip")
    for path in source.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # a fresh checkout: new mtimes
    second = build_zip(source, out=tmp_path / "two" / "two.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.code_sha256 == second.code_sha256
    digest = hashlib.sha256(first.path.read_bytes()).digest()
    assert first.code_sha256 == base64.b64encode(digest).decode()  # Lambda's CodeSha256
    assert (first.file_count, first.zipped_size) == (6, first.path.stat().st_size)
    assert first.unzipped_size == sum(f.size for f in select_files(source))
    assert first.summary.startswith("6 files, 1.1 KB unzipped, ")


def test_a_changed_file_changes_the_sha(source: Path, tmp_path: Path) -> None:
    before = build_zip(source, out=tmp_path / "before.zip")
    (source / "app" / "model.py").write_text("WEIGHTS = [1, 2, 4]\n")
    assert build_zip(source, out=tmp_path / "after.zip").code_sha256 != before.code_sha256


def test_entries_are_sorted_dated_1980_with_fixed_modes(source: Path, tmp_path: Path) -> None:
    package = build_zip(source, out=tmp_path / "p.zip", excludes=["docs/"])
    with zipfile.ZipFile(package.path) as archive:
        entries = archive.infolist()
        assert [e.filename for e in entries] == sorted(e.filename for e in entries)
        assert not any(e.is_dir() for e in entries)
        assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}
        modes = {e.filename: (e.external_attr >> 16) & 0o777 for e in entries}
        assert modes["bin/run.sh"] == 0o755
        assert modes["handler.py"] == 0o644
        assert archive.read("handler.py") == (source / "handler.py").read_bytes()


def test_nothing_left_to_package_is_bad_input(source: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="nothing to package"):
        build_zip(source, out=tmp_path / "p.zip", excludes=["**"])


def test_a_package_over_250_mb_unzipped_is_refused(source: Path, tmp_path: Path) -> None:
    with (source / "model.bin").open("wb") as sparse:
        sparse.truncate(UNZIPPED_LIMIT + 1)
    with pytest.raises(BadInput, match=r"Lambda allows 250\.0 MB"):
        build_zip(source, out=tmp_path / "p.zip")
    assert not (tmp_path / "p.zip").exists()


def test_a_missing_source_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        select_files(tmp_path / "nope")


def test_pattern_semantics() -> None:
    assert compile_pattern("tests/").folders_only
    assert not compile_pattern("tests/").anchored
    assert compile_pattern("a/b").anchored
    assert compile_pattern("**/x.py").matches("x.py", is_folder=False)
    assert compile_pattern("**/x.py").matches("a/b/x.py", is_folder=False)


def test_the_build_reports_its_size(source: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    package = build_zip(source, out=tmp_path / "p.zip", reporter=Reporter(out=out))
    assert out.getvalue() == f"  zip src/: {package.summary} (sha256 {package.code_sha256})\n"
