"""`deploytools rollback`: restore the previous (or a named) release, record it, exit codes.

Targets are fake refreshers (tests/fakes.py): the per-target restore is proved
by the target modules' own tests. The release record is real, in moto's SSM (in-process).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.steps.release import Kind, Outcome, ReleaseStore
from tests.fakes import World, put_secret, write_repo


@pytest.fixture
def world(cli_world: World, seeded_aws: AwsContext) -> World:
    put_secret(seeded_aws, env="prod")
    return cli_world


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_repo(tmp_path / "repo"))


def store(env: str = "dev") -> ReleaseStore:
    return ReleaseStore(AwsContext("us-east-1").client("ssm"), project="shop", env=env)


def deploy_times(config: str, count: int, *extra: str) -> list[str]:
    ids = []
    for _ in range(count):
        assert main(["--config", config, "deploy", *extra]) == 0
        ids.append(store(extra[1]).current_id())
    return ids  # type: ignore[return-value]


def revisions(world: World) -> dict[str, str]:
    return {name: state.revision for name, state in world.live.items()}


def test_rollback_restores_the_previous_release_and_records_it(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = deploy_times(config, 2, "--env", "dev")
    assert revisions(world)["api"] == "arn:fake:api:2"
    capsys.readouterr()
    assert main(["--json", "--config", config, "rollback", "--env", "dev"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["to"] == first and doc["release"] != second
    assert revisions(world) == {
        "api": "arn:fake:api:1",
        "predict": "arn:fake:predict:1",
        "train": "arn:fake:train:1",
    }
    assert sorted(s["name"] for s in doc["steps"] if s["name"].startswith("restore ")) == [
        "restore api",
        "restore predict",
        "restore train",
    ]
    recorded = store().current()
    assert recorded is not None and recorded.kind is Kind.ROLLBACK
    assert recorded.rollback_of == first and recorded.status is Outcome.OK
    assert recorded.targets == store().get(first).targets
    # Rolling back again returns to the release before this rollback: the second deploy.
    assert main(["--config", config, "rollback", "--env", "dev"]) == 0
    assert revisions(world)["api"] == "arn:fake:api:2"


def test_rollback_to_a_named_earlier_release(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _, _ = deploy_times(config, 3, "--env", "dev")
    assert main(["--config", config, "rollback", "--env", "dev", "--to", first]) == 0
    assert revisions(world)["predict"] == "arn:fake:predict:1"
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"rolled back dev to {first}: ")


def test_rollback_only_some_targets(world: World, config: str) -> None:
    _first, _ = deploy_times(config, 2, "--env", "dev")
    assert main(["--config", config, "rollback", "--env", "dev", "--only", "api"]) == 0
    assert revisions(world) == {
        "api": "arn:fake:api:1",
        "predict": "arn:fake:predict:2",
        "train": "arn:fake:train:2",
    }
    recorded = store().current()
    assert recorded is not None
    assert recorded.targets["api"]["revision"] == "arn:fake:api:1"
    assert recorded.targets["predict"]["revision"] == "arn:fake:predict:2"


def test_unknown_release_exits_2(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (only,) = deploy_times(config, 1, "--env", "dev")
    capsys.readouterr()
    assert main(["--config", config, "rollback", "--env", "dev", "--to", "r-nope"]) == 2
    assert capsys.readouterr().err == (
        f"error: release r-nope is not recorded for shop/dev (latest: {only}); "
        "see deploytools releases\n"
    )


def test_item_03_nothing_to_roll_back_exits_0_and_records_nothing(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (only,) = deploy_times(config, 1, "--env", "dev")
    capsys.readouterr()
    calls = len(world.calls)
    assert main(["--config", config, "rollback", "--env", "dev"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "nothing to roll back: no earlier successful release of shop/dev differs from what "
        f"is live (recorded: {only})"
    )
    assert [c for c in world.calls[calls:] if c[0] == "restore"] == []
    assert store().ids() == [only]


def test_item_03_rollback_skips_releases_that_match_what_is_live(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A release equal to what runs now (a no-op's twin, a redeploy of the same state) is
    passed over: rollback goes to the last release that changes something."""
    first, second = deploy_times(config, 2, "--env", "dev")
    assert main(["--config", config, "rollback", "--env", "dev", "--to", first]) == 0
    back_to_first = store().current_id()
    # Live is the first release's state now; the rollback record matches it, so the next
    # rollback goes to the second deploy, not to the rollback record or the first deploy.
    capsys.readouterr()
    assert main(["--json", "--config", config, "rollback", "--env", "dev"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["to"] == second and doc["rolled_back"] is True
    assert store().ids()[:3] == [first, second, back_to_first]
    assert revisions(world)["api"] == "arn:fake:api:2"


def test_protected_needs_yes(world: World, config: str, capsys: pytest.CaptureFixture[str]) -> None:
    deploy_times(config, 2, "--env", "prod", "--yes")
    calls = len(world.calls)
    capsys.readouterr()
    assert main(["--config", config, "rollback", "--env", "prod"]) == 2
    assert capsys.readouterr().err == (
        "error: environment 'prod' is protected: rollback needs --yes "
        "(in GitHub Actions, behind an environment with required reviewers)\n"
    )
    assert world.calls[calls:] == []
    assert main(["--config", config, "rollback", "--env", "prod", "--yes"]) == 0


def test_a_failed_restore_exits_1_and_is_recorded(
    world: World, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = deploy_times(config, 2, "--env", "dev")
    world.fail["train"] = "error"
    capsys.readouterr()
    assert main(["--config", config, "rollback", "--env", "dev"]) == 1
    assert "error: restore train failed: train: restore failed" in capsys.readouterr().err
    assert revisions(world)["api"] == "arn:fake:api:1"  # the others were restored
    recorded = store().current()
    assert recorded is not None and recorded.status is Outcome.FAILED
    assert recorded.rollback_of == first
    assert recorded.targets["train"]["revision"] == "arn:fake:train:2"  # still the newer one
