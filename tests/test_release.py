"""The release record in SSM Parameter Store (moto, in-process)."""

from __future__ import annotations

import json
import re
import threading
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


def test_release_id_is_utc_time_to_the_millisecond_short_sha_and_a_random_suffix() -> None:
    now = datetime(2025, 10, 20, 7, 8, 9, 123456, tzinfo=UTC)
    assert new_release_id(now=now, git_sha="0123456789abcdef", suffix="a1b2c3") == (
        "r-20251020T070809123Z-0123456-a1b2c3"
    )
    assert re.fullmatch(
        r"r-20251020T070809123Z-nogit-[0-9a-f]{6}", new_release_id(now=now, git_sha=None)
    )
    assert new_release_id(now=now, git_sha=None) != new_release_id(now=now, git_sha=None)


def test_round_trip_and_latest_from_the_listing(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    assert store.current() is None and store.ids() == []
    written = store.write(release("r-20251020T120000000Z-abcdef1-000001"))
    assert store.get(written.id) == written
    assert store.current() == written
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert names == [f"{PREFIX}/releases/{written.id}"]  # no index, no pointer to rewrite
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
    big = store.write(release("r-20251020T120000000Z-abcdef1-000001", targets=targets))
    head = json.loads(ssm.get_parameter(Name=f"{PREFIX}/releases/{big.id}")["Parameter"]["Value"])
    assert head["parts"] >= 3
    for index in range(1, head["parts"] + 1):
        value = ssm.get_parameter(Name=f"{PREFIX}/releases/{big.id}.{index}")["Parameter"]["Value"]
        assert len(value.encode()) <= CHUNK
    assert store.get(big.id).targets == targets


def test_keeps_the_last_n_and_deletes_older_ones(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev", keep=3)
    ids = [store.write(release(f"r-20251020T12000{i}000Z-abcdef1-00000{i}")).id for i in range(5)]
    assert store.ids() == ids[-3:]
    with pytest.raises(ReleaseNotFound) as caught:
        store.get(ids[0])
    assert str(caught.value) == (
        f"release {ids[0]} is not recorded for shop/dev (latest: {', '.join(ids[-3:])}); "
        "see deploytools releases"
    )


def test_an_id_taken_by_another_run_gets_a_new_suffix_and_nothing_is_overwritten(
    ssm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    first = store.write(release("r-20251020T120000000Z-abcdef1-aaaaaa"))
    # As when another run wrote the same id after this one listed: only the create can tell.
    monkeypatch.setattr(store, "ids", lambda: [])
    second = store.write(release("r-20251020T120000000Z-abcdef1-aaaaaa", reason="other"))
    assert first.id == "r-20251020T120000000Z-abcdef1-aaaaaa"
    assert re.fullmatch(r"r-20251020T120000000Z-abcdef1-[0-9a-f]{6}", second.id)
    assert second.id != first.id
    assert store.get(first.id).reason == "" and store.get(second.id).reason == "other"
    monkeypatch.undo()
    assert sorted(store.ids()) == sorted([first.id, second.id])


def test_30_concurrent_writers_leave_30_releases(ssm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirty runs of one commit in the same second write at once (moto's SSM is shared):
    each gets its own parameter, and the listing holds all thirty."""
    # moto's GetParametersByPath iterates its live dict, which another thread's put can grow
    # mid-iteration (RuntimeError inside moto), and a put makes its name's entry before it
    # appends the value (IndexError inside moto); real SSM has neither race. List a snapshot
    # of the names that hold a value.
    from moto.ssm.models import ParameterDict

    original = ParameterDict.get_keys_beginning_with

    def snapshot(self: Any, path: str, recursive: bool) -> Any:
        return iter(list(original(_Frozen(self), path, recursive)))

    class _Frozen(dict):  # type: ignore[type-arg]
        def __init__(self, live: Any) -> None:
            super().__init__({name: versions for name, versions in dict(live).items() if versions})
            self._live = live

        def _check_loading_status(self, key: str) -> None:
            self._live._check_loading_status(key)

    monkeypatch.setattr(ParameterDict, "get_keys_beginning_with", snapshot)
    store = ReleaseStore(ssm, project="shop", env="dev")
    now = datetime(2025, 10, 20, 12, 0, 0, tzinfo=UTC)
    start = threading.Barrier(30)
    written: list[str] = []

    def write(n: int) -> None:
        start.wait()
        mine = release(new_release_id(now=now, git_sha="abcdef1234"), reason=f"writer {n}")
        written.append(ReleaseStore(ssm, project="shop", env="dev").write(mine).id)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = store.history()
    assert len(written) == 30 and sorted(r.id for r in history) == sorted(written)
    assert sorted(r.reason for r in history) == sorted(f"writer {n}" for n in range(30))
    assert store.current() == history[-1]  # latest: the newest of the listing


def test_previous_skips_failed_releases(ssm: Any) -> None:
    store = ReleaseStore(ssm, project="shop", env="dev")
    good = store.write(release("r-20251020T120000000Z-abcdef1-000001"))
    store.write(
        release("r-20251020T120001000Z-abcdef1-000001", status=Outcome.FAILED, reason="smoke")
    )
    newest = store.write(release("r-20251020T120002000Z-abcdef1-000002"))
    assert store.previous() == good  # before the current (newest), skipping the failed one
    assert store.previous(before=good.id) is None
    back = store.write(
        release("r-20251020T120003000Z-abcdef1-000003", kind=Kind.ROLLBACK, rollback_of=good.id)
    )
    assert store.current() == back and back.short().endswith(f"(rollback to {good.id})")
    assert store.previous() == newest


def test_secret_values_never_reach_the_record(ssm: Any) -> None:
    register_secret("hunter2-value")
    try:
        store = ReleaseStore(ssm, project="shop", env="dev")
        leaky = release("r-20251020T120000000Z-abcdef1-000001", reason="failed with hunter2-value")
        written = store.write(leaky)
        raw = ssm.get_parameter(Name=f"{PREFIX}/releases/{written.id}")["Parameter"]["Value"]
        assert "hunter2" not in raw and store.get(written.id).reason == "failed with ***"
    finally:
        forget_all()


def test_caller_arn_from_sts() -> None:
    with mock_aws():
        assert caller_arn(AwsContext("us-east-1")) == "arn:aws:sts::123456789012:user/moto"
