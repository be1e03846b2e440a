"""python-hcl2's output is kept between check runs for unchanged files, never for a file that
might hold a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploytools.checks import check_report, hcl_cache
from deploytools.checks.base import CheckContext
from deploytools.lib.hcl import HclSyntaxError

BUCKET = 'resource "aws_s3_bucket" "data" {\n  bucket = "shop-data"\n}\n'
PASSWORD = "Zq8vK2mW9xTnB4pL"  # pragma: allowlist secret
WITH_PASSWORD = f'resource "aws_db_instance" "db" {{\n  password = "{PASSWORD}"\n}}\n'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "deploytools" / "hcl"


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, text in files.items():
        (repo / name).write_text(text)
    return repo


def _parsed(root: Path) -> list[tuple[str, str]]:
    ctx = CheckContext(root=root)
    index = ctx.terraform
    ctx.save_caches()  # as check_report does after the rules
    blocks = [(b.type, b.name) for tf in index.files for b in tf.blocks]
    return blocks + [("unparseable", u.rel) for u in index.unparseable]


def _no_hcl2(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def refuse(text: str) -> dict[str, Any]:
        calls.append(text)
        raise HclSyntaxError(1, 1)

    monkeypatch.setattr(hcl_cache, "parse_text", refuse)
    monkeypatch.setattr(hcl_cache, "parse_subset", lambda text: None)
    return calls


def test_an_unchanged_file_is_not_parsed_again(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, {"main.tf": BUCKET, "broken.tf": 'resource "x" {\n  = = \n}\n'})
    first = _parsed(repo)
    assert first == [("aws_s3_bucket", "data"), ("unparseable", "broken.tf")]
    calls = _no_hcl2(monkeypatch)
    assert _parsed(repo) == first  # from the cache, the syntax error too
    assert calls == []
    (repo / "main.tf").write_text(BUCKET.replace("data", "logs"))
    changed = _parsed(repo)  # parsed again (here, refused)
    assert changed == [("unparseable", "broken.tf"), ("unparseable", "main.tf")]
    assert len(calls) == 1


def test_a_file_that_might_hold_a_secret_is_never_cached(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, {"db.tf": WITH_PASSWORD, "main.tf": BUCKET})
    assert _parsed(repo) == [("aws_db_instance", "db"), ("aws_s3_bucket", "data")]
    (written,) = cache.iterdir()
    text = written.read_text()
    assert "shop-data" in text and PASSWORD not in text
    calls = _no_hcl2(monkeypatch)
    _parsed(repo)
    assert calls == [WITH_PASSWORD]


def test_a_file_that_only_names_secrets_is_cached(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DT005's prefilter flags these lines (the words secret and token); its scanner finds no
    # secret on them, so the file is cached like any other. Most Terraform reads like this.
    names = (
        'variable "secrets" {\n  description = "Names of the secrets read from SSM"\n}\n'
        'resource "aws_ssm_parameter" "token" {\n  name = "/shop/dev/API_TOKEN"\n'
        '  type = "SecureString"\n  value = var.placeholder\n}\n'
    )
    repo = _repo(tmp_path, {"ssm.tf": names})
    assert hcl_cache.candidate_lines(names)
    first = _parsed(repo)
    calls = _no_hcl2(monkeypatch)
    assert _parsed(repo) == first
    assert calls == []


POLICY = """resource "aws_iam_role_policy" "task" {
  role = "task"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:PutObject"], Resource = "*" }]
  })
}
"""


def _dt009(root: Path) -> list[tuple[str, int, str]]:
    report = check_report(CheckContext(root=root), {"DT009"})
    return [(f.file, f.line, f.message) for f in report.findings]


def test_a_jsonencode_policy_is_not_parsed_again(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DT009 reads a jsonencode(...) policy with python-hcl2, as a file: kept like a file.
    repo = _repo(tmp_path, {"iam.tf": POLICY})
    first = _dt009(repo)
    assert [(file, line) for file, line, _ in first] == [("iam.tf", 5)]
    calls: list[str] = []
    monkeypatch.setattr(hcl_cache, "parse_expression", lambda text: calls.append(text))
    assert _dt009(repo) == first
    assert calls == []
    (repo / "iam.tf").write_text(POLICY.replace("PutObject", "DeleteObject"))
    assert _dt009(repo) == []  # parsed anew (here, to nothing): no statement to report
    assert len(calls) == 1
