"""One deploy per environment: the SSM lock, its holder named, stale locks, --force-unlock.

Steps are port fakes (tests/fakes.py); the lock and the release record are real, in moto's
SSM (in-process), as the sandbox and AWS hold them.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.pipeline import deploy
from deploytools.steps.lock import EnvironmentLock, LockHeld
from deploytools.steps.release import ReleaseStore
from tests.fakes import OUTPUTS, World, fake_ports, make_run, write_repo

LOCK = "/deploytools/shop/dev/lock"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


def hold(aws: AwsContext, *, when: datetime, lock_id: str = "held-1") -> None:
    """A lock as another run leaves it."""
    aws.client("ssm").put_parameter(
        Name=LOCK,
        Type="String",
        Value=json.dumps(
            {
                "id": lock_id,
                "who": "octocat",
                "host": "runner-7",
                "when": when.isoformat(timespec="seconds"),
                "run_url": "https://github.com/acme/shop/actions/runs/42",
                "command": "deploy",
            }
        ),
    )


def lock_exists(aws: AwsContext) -> bool:
    names = [p["Name"] for p in aws.client("ssm").describe_parameters()["Parameters"]]
    return LOCK in names


def test_a_held_lock_stops_the_deploy_before_any_change_naming_its_holder(
    seeded_aws: AwsContext, repo: Path
) -> None:
    world = World()
    hold(seeded_aws, when=datetime.now(UTC) - timedelta(minutes=10))
    holder = EnvironmentLock(seeded_aws.client("ssm"), project="shop", env="dev").holder()
    assert holder is not None
    with pytest.raises(LockHeld) as caught:
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    assert caught.value.exit_code == 1
    assert str(caught.value) == (
        f"environment dev is locked by octocat on runner-7 since {holder.when} "
        "(https://github.com/acme/shop/actions/runs/42) (deploy, id held-1); wait for that "
        "run to finish, or if it is gone: deploytools deploy --env dev --force-unlock held-1 "
        "(locks older than 2 h are taken over)"
    )
    assert world.mutations() == []
    assert lock_exists(seeded_aws)  # someone else's lock is never removed


def test_two_concurrent_deploys_of_one_environment_one_loses(
    seeded_aws: AwsContext, repo: Path
) -> None:
    world = World(latency=8.0)  # the first deploy's targets take a while
    first_done: list[object] = []

    def first() -> None:
        first_done.append(deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS))))

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 30
    while not lock_exists(seeded_aws) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = World()
    with pytest.raises(LockHeld, match=r"^environment dev is locked by .* \(deploy, id "):
        deploy(make_run(repo, fake_ports(second, outputs=OUTPUTS)))
    assert second.mutations() == []
    thread.join()
    assert len(first_done) == 1 and not lock_exists(seeded_aws)  # released at the end
    assert len(ReleaseStore(seeded_aws.client("ssm"), project="shop", env="dev").ids()) == 1
    deploy(make_run(repo, fake_ports(second, outputs=OUTPUTS)))  # free again


def test_a_stale_lock_is_taken_over(seeded_aws: AwsContext, repo: Path) -> None:
    hold(seeded_aws, when=datetime.now(UTC) - timedelta(hours=3))
    world = World()
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS))
    deploy(run)
    assert ("refresh", "api") in world.calls and not lock_exists(seeded_aws)
    steps = {s.name: s for s in run.reporter.steps}
    assert steps["lock"].summary.startswith(f"{LOCK} held by this run (lock id ")


def test_the_lock_is_released_when_the_deploy_fails(seeded_aws: AwsContext, repo: Path) -> None:
    world = World(fail={"train": "error"})
    with pytest.raises(Exception, match="target train failed"):
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    assert not lock_exists(seeded_aws)


def test_force_unlock_removes_the_named_lock_only(
    cli_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_repo(tmp_path / "repo"))
    aws = AwsContext("us-east-1")
    hold(aws, when=datetime.now(UTC) - timedelta(minutes=5))
    assert main(["--config", config, "deploy", "--env", "dev"]) == 1
    assert "error: environment dev is locked by octocat on runner-7" in capsys.readouterr().err
    assert main(["--config", config, "deploy", "--env", "dev", "--force-unlock", "wrong"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: --force-unlock wrong: the lock on dev has id held-1 (held by octocat on "
        "runner-7 since "
    )
    assert cli_world.mutations() == []
    assert main(["--config", config, "deploy", "--env", "dev", "--force-unlock", "held-1"]) == 0
    out = capsys.readouterr().out
    assert "  removed the lock of octocat on runner-7 since " in out
    assert not lock_exists(aws)
    # rollback takes the same lock, and accepts the same flag.
    assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    hold(aws, when=datetime.now(UTC), lock_id="held-2")
    assert main(["--config", config, "rollback", "--env", "dev"]) == 1
    assert "deploytools rollback --env dev --force-unlock held-2" in capsys.readouterr().err
    assert main(["--config", config, "rollback", "--env", "dev", "--force-unlock", "held-2"]) == 0


def test_the_lock_records_the_actions_run_url(
    seeded_aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    monkeypatch.setenv("GITHUB_RUN_ID", "99")
    monkeypatch.setenv("GITHUB_ACTOR", "hubot")
    lock = EnvironmentLock(seeded_aws.client("ssm"), project="shop", env="dev")
    mine = lock.acquire(command="deploy")
    assert (mine.who, mine.run_url) == ("hubot", "https://github.com/acme/shop/actions/runs/99")
    assert lock.holder() == mine
    lock.release(mine)
    assert lock.holder() is None
