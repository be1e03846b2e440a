"""What the release history records: nothing for a no-op, an `interrupted` entry for a run
stopped mid-rollout, and `deploytools releases` listing it.

Steps are port fakes (tests/fakes.py): a fake refresher raises KeyboardInterrupt after moving
its target, as Ctrl-C (or a CI cancel's SIGINT) arrives while a rollout is being waited on.
The release record is real, in moto's SSM (in-process).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.cli import main
from deploytools.config import EnvConfig
from deploytools.output import Reporter
from deploytools.pipeline import deploy, rollback
from deploytools.steps.images import BuildImages, ImageResult
from deploytools.steps.release import Kind, Outcome, ReleaseStore
from tests.fakes import (
    BASE_CONFIG,
    OUTPUTS,
    World,
    digest_for,
    fake_ports,
    make_run,
    write_repo,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


def store(aws: AwsContext) -> ReleaseStore:
    return ReleaseStore(aws.client("ssm"), project="shop", env="dev")


class UnchangedImages:
    """Images whose content tag the registry already holds: same digest, nothing built."""

    def build(
        self, aws: AwsContext, env: EnvConfig, request: BuildImages, *, reporter: Reporter
    ) -> list[ImageResult]:
        registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        return [
            ImageResult(
                name=name,
                repository=name,
                repository_uri=f"{registry}/{name}",
                tag="c-same",
                digest=digest_for(name, 0),
                uri=f"{registry}/{name}@{digest_for(name, 0)}",
                built=False,
                pushed=False,
            )
            for name in request.names
        ]


def count_puts(aws: AwsContext) -> list[str]:
    """The names of every SSM PutParameter call from here on."""
    names: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        names.append(params["Name"])

    aws.client("ssm").meta.events.register("provide-client-params.ssm.PutParameter", record)
    return names


def test_item_03_a_no_op_deploy_writes_no_release(seeded_aws: AwsContext, tmp_path: Path) -> None:
    # Without Amplify: a fake Amplify starts a job on every deploy (that decision is its own).
    config = {k: v for k, v in BASE_CONFIG.items() if k != "frontend"}
    repo = write_repo(tmp_path / "repo", config)
    world = World()
    ports = replace(fake_ports(world, outputs=OUTPUTS), images=UnchangedImages())
    first = deploy(make_run(repo, ports))
    assert first.changed and first.release is not None
    run = make_run(repo, ports)
    puts = count_puts(run.aws)
    again = deploy(run)
    assert not again.changed and again.release == first.release  # the live one, unchanged
    # Only the lock was written: no release parameter, nothing else.
    assert puts == ["/deploytools/shop/dev/lock"]
    assert store(seeded_aws).ids() == [first.release.id]
    steps = {s.name: s for s in run.reporter.steps}
    assert steps["release"].summary == (
        f"nothing changed: nothing recorded (release {first.release.id} stays the latest)"
    )
    assert again.as_dict()["changed"] is False


@pytest.mark.parametrize("only", [(), ("api",)], ids=["among-others", "alone"])
def test_an_interrupted_rollout_records_an_interrupted_release(
    seeded_aws: AwsContext, repo: Path, only: tuple[str, ...]
) -> None:
    """Interrupted in a worker thread (with other targets) and inline (the only target)."""
    world = World()
    deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    world.interrupt.add("api")
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS), only=only)
    with pytest.raises(KeyboardInterrupt):
        deploy(run)
    recorded = store(seeded_aws).current()
    assert recorded is not None and recorded.status is Outcome.INTERRUPTED
    assert recorded.reason == "interrupted (SIGINT)"
    # What the target runs now is read back: the service already moved to revision 2.
    assert recorded.targets["api"]["revision"] == "arn:fake:api:2" == world.live["api"].revision
    assert "api revision 2" in recorded.changes
    assert recorded.changes[-1] == "interrupted during targets: nothing more was done"
    assert "amplify" not in {s.name for s in run.reporter.steps}  # nothing after the interrupt
    assert store(seeded_aws).previous() is not None  # rollback skips it, to the last good release
    names = [p["Name"] for p in seeded_aws.client("ssm").describe_parameters()["Parameters"]]
    assert "/deploytools/shop/dev/lock" not in names  # released on the way out


def test_an_interrupted_rollback_records_an_interrupted_rollback(
    seeded_aws: AwsContext, repo: Path
) -> None:
    world = World()
    first = deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS))).release
    deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    world.interrupt.add("predict")
    with pytest.raises(KeyboardInterrupt):
        rollback(make_run(repo, fake_ports(world, outputs=OUTPUTS)), to=None)
    recorded = store(seeded_aws).current()
    assert first is not None and recorded is not None
    assert (recorded.kind, recorded.status, recorded.rollback_of) == (
        Kind.ROLLBACK,
        Outcome.INTERRUPTED,
        first.id,
    )
    assert recorded.targets["predict"]["revision"] == "arn:fake:predict:1"  # read back
    assert recorded.targets["api"]["revision"] == "arn:fake:api:1"


def test_item_03_releases_json_lists_the_history_newest_first(
    cli_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_repo(tmp_path / "repo"))
    assert main(["--json", "--config", config, "releases", "--env", "dev"]) == 0
    assert json.loads(capsys.readouterr().out) == {"env": "dev", "releases": []}
    for _ in range(2):
        assert main(["--config", config, "deploy", "--env", "dev"]) == 0
    assert main(["--config", config, "rollback", "--env", "dev"]) == 0
    capsys.readouterr()
    assert main(["--json", "--config", config, "releases", "--env", "dev"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = store(AwsContext("us-east-1")).ids()
    assert [r["id"] for r in doc["releases"]] == list(reversed(ids))
    newest, second, first = doc["releases"]
    assert set(newest) == {
        "id", "created", "kind", "status", "reason", "who", "git_sha", "rollback_of", "changes",
    }  # fmt: skip
    assert (newest["kind"], newest["rollback_of"], newest["status"]) == (
        "rollback",
        first["id"],
        "ok",
    )
    assert sorted(c.split(":")[0] for c in newest["changes"]) == ["api", "predict", "train"]
    assert any(c.startswith("api: arn:fake:api:2 ") for c in newest["changes"])
    assert second["git_sha"] == "abcdef1234567890"
    assert second["who"] == "arn:aws:sts::123456789012:user/moto"
    assert "api revision 2" in second["changes"] and "built api (c2)" in second["changes"]
    assert main(["--config", config, "releases", "--env", "dev"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line for line in lines if line.startswith("r-")]
    assert listed[0].startswith(f"{newest['id']} (rollback to {first['id']})  ")
    assert [line.split()[0] for line in listed] == [newest["id"], second["id"], first["id"]]
    assert "  api revision 2" in lines
