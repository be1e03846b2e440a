"""The release record in SSM Parameter Store (moto, in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.output import register_secret
from deploytools.output.mask import forget_all
from deploytools.steps.release import (
    CHUNK,
    Kind,
    Outcome,
    Release,
    ReleaseNotFound,
    ReleaseStore,
    caller_arn,
    new_release_id,
)

PREFIX = "/deploytools/shop/dev"


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield AwsContext("us-east-1").client("ssm")


def release(release_id: str, **changes: Any) -> Release:
    fields: dict[str, Any] = {
        "id": release_id,
        "project": "shop",
        "env": "dev",
        "created": "2025-10-20T12:00:00+00:00",
        "git_sha": "abcdef1234",
        "who": {"caller_arn": "arn:aws:sts::123456789012:user/ci", "github_actor": "octocat"},
        "images": {"api": {"uri": "repo/api@sha256:" + "a" * 64, "digest": "sha256:" + "a" * 64}},
        "targets": {
            "api": {
                "target": "api",
                "type": "ecs",
                "resource": "shop-dev-api",
                "image": "repo/api@sha256:" + "a" * 64,
                "revision": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7",
                "detail": {"cluster": "shop"},
            }
        },
        "tf_outputs": {"api_url": "https://x.example"},
    }
    fields.update(changes)
    return Release(**fields)


def test_release_id_is_utc_time_and_short_sha() -> None:
    now = datetime(2025, 10, 20, 7, 8, 9, tzinfo=UTC)
    assert new_release_id(now=now, git_sha="0123456789abcdef") == "r-20251020T070809Z-0123456"
    assert new_release_id(now=now, git_sha=None) == "r-20251020T070809Z-nogit"


def test_round_trip_and_current_pointer(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    assert store.current() is None and store.ids() == []
    written = store.write(release("r-20251020T120000Z-abcdef1"))
    assert store.get(written.id) == written
    assert store.current() == written
    assert ssm.get_parameter(Name=f"{PREFIX}/current")["Parameter"]["Value"] == written.id
    parameter = ssm.get_parameter(Name=f"{PREFIX}/releases/{written.id}")["Parameter"]
    assert parameter["Type"] == "String"  # not a secret: readable with the AWS CLI
    assert json.loads(parameter["Value"])["targets"]["api"]["revision"].endswith("api:7")


def test_a_large_release_is_split_into_standard_parameters(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    targets = {
        f"t{i}": {
            "target": f"t{i}",
            "type": "lambda",
            "resource": f"fn-{i}",
            "image": None,
            "revision": str(i),
            "detail": {"padding": "x" * 200},
        }
        for i in range(40)
    }
    big = store.write(release("r-20251020T120000Z-abcdef1", targets=targets))
    head = json.loads(ssm.get_parameter(Name=f"{PREFIX}/releases/{big.id}")["Parameter"]["Value"])
    assert head["parts"] >= 3
    for index in range(1, head["parts"] + 1):
        value = ssm.get_parameter(Name=f"{PREFIX}/releases/{big.id}.{index}")["Parameter"]["Value"]
        assert len(value.encode()) <= CHUNK
    assert store.get(big.id).targets == targets


def test_keeps_the_last_n_and_deletes_older_ones(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev", keep=3)
    ids = [store.write(release(f"r-20251020T12000{i}Z-abcdef1")).id for i in range(5)]
    assert store.ids() == ids[-3:]
    with pytest.raises(ReleaseNotFound) as caught:
        store.get(ids[0])
    assert str(caught.value) == (
        f"release {ids[0]} is not recorded for shop/dev (latest: {', '.join(ids[-3:])}); "
        "see deploytools status"
    )


def test_same_second_same_commit_gets_a_suffix(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    first = store.write(release("r-20251020T120000Z-abcdef1"))
    second = store.write(release("r-20251020T120000Z-abcdef1"))
    assert (first.id, second.id) == ("r-20251020T120000Z-abcdef1", "r-20251020T120000Z-abcdef1-2")
    assert store.ids() == [first.id, second.id]


def test_previous_skips_failed_releases(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    good = store.write(release("r-20251020T120000Z-abcdef1"))
    store.write(release("r-20251020T120001Z-abcdef1", status=Outcome.FAILED, reason="smoke"))
    newest = store.write(release("r-20251020T120002Z-abcdef1"))
    assert store.previous() == good  # before the current (newest), skipping the failed one
    assert store.previous(before=good.id) is None
    back = store.write(
        release("r-20251020T120003Z-abcdef1", kind=Kind.ROLLBACK, rollback_of=good.id)
    )
    assert store.current() == back and back.short().endswith(f"(rollback to {good.id})")
    assert store.previous() == newest


def test_secret_values_never_reach_the_record(ssm: Any) -> None:
    register_secret("hunter2-value")
    try:
        store = ReleaseStore(ssm, project="shop", env="dev")
        leaky = release("r-20251020T120000Z-abcdef1", reason="failed with hunter2-value")
        written = store.write(leaky)
        raw = ssm.get_parameter(Name=f"{PREFIX}/releases/{written.id}")["Parameter"]["Value"]
        assert "hunter2" not in raw and store.get(written.id).reason == "failed with ***"
    finally:
        forget_all()


def test_caller_arn_from_sts() -> None:
    with mock_aws():
        assert caller_arn(AwsContext("us-east-1")) == "arn:aws:sts::123456789012:user/moto"
