"""Smoke checks on a no-op deploy: not run again when the live release passed the same checks
and nothing changed; run when the config asks for a check the live release did not pass, or
when the live release is no good one.

Steps are port fakes (tests/fakes.py), images unchanged (test_release_history's
UnchangedImages); the release record is real, in moto's SSM (in-process).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.pipeline import deploy
from deploytools.steps.release import Outcome, ReleaseStore
from deploytools.steps.smoke import SmokeFailed
from tests.fakes import BASE_CONFIG, OUTPUTS, World, fake_ports, make_run, write_repo
from tests.test_release_history import UnchangedImages

WITHOUT_AMPLIFY = {k: v for k, v in BASE_CONFIG.items() if k != "frontend"}


def ports(world: World, *, smoke_fails: bool = False) -> Any:
    return replace(
        fake_ports(world, outputs=OUTPUTS, smoke_fails=smoke_fails), images=UnchangedImages()
    )


def smoke_calls(world: World) -> list[Any]:
    return [call for call in world.calls if call[0] == "smoke"]


def test_a_no_op_does_not_run_the_checks_the_live_release_passed(
    seeded_aws: AwsContext, tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "repo", WITHOUT_AMPLIFY)
    world = World()
    first = deploy(make_run(repo, ports(world)))
    assert first.release is not None
    assert first.release.smoke == ["GET http://127.0.0.1:9/api/health -> 200"]
    assert len(smoke_calls(world)) == 1

    run = make_run(repo, ports(world))
    again = deploy(run)
    assert not again.changed
    assert len(smoke_calls(world)) == 1  # not run again
    smoke = {s.name: s for s in run.reporter.steps}["smoke"]
    assert smoke.summary == (
        f"nothing changed: release {first.release.id} passed these 1 check(s); not run again"
    )


def test_a_check_the_live_release_did_not_pass_runs_on_a_no_op(
    seeded_aws: AwsContext, tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "repo", WITHOUT_AMPLIFY)
    world = World()
    deploy(make_run(repo, ports(world)))
    more = {**WITHOUT_AMPLIFY, "smoke": [*WITHOUT_AMPLIFY["smoke"], {"url": "{tf.api_url}/ready"}]}
    repo = write_repo(tmp_path / "repo", more)
    again = deploy(make_run(repo, ports(world)))
    assert not again.changed
    assert smoke_calls(world)[-1] == (
        "smoke",
        "http://127.0.0.1:9/api/health,http://127.0.0.1:9/api/ready",
    )


def test_when_the_live_release_failed_a_no_op_runs_the_checks_again(
    seeded_aws: AwsContext, tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "repo", WITHOUT_AMPLIFY)
    world = World()
    first = deploy(make_run(repo, ports(world))).release
    assert first is not None
    # The latest release: the same state, but its smoke check failed (as a deploy whose
    # check timed out records it).
    store = ReleaseStore(seeded_aws.client("ssm"), project="shop", env="dev")
    store.write(replace(first, id=f"{first.id[:-1]}0", status=Outcome.FAILED, smoke=[]))
    with pytest.raises(SmokeFailed):
        deploy(make_run(repo, ports(world, smoke_fails=True)))
    assert len(smoke_calls(world)) == 2
