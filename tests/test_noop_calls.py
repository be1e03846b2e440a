"""What a no-op deploy asks of AWS, counted with a botocore `before-call` hook on every client.

The real secrets, lock, release and Lambda steps run against moto (in-process); checks and
Terraform are port fakes (no Terraform section here). A zip Lambda behind an alias is first
deployed, then deployed again unchanged: the second run must read only what it needs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.output import Reporter
from deploytools.pipeline import deploy
from deploytools.steps.targets import AwsTargets
from tests.fakes import World, fake_ports, make_run, put_secret, write_repo

CONFIG: dict[str, Any] = {
    "project": "shop",
    "region": "us-east-1",
    "environments": {"dev": {"account_id": "123456789012"}},
    "secrets": {"ssm_path": "/shop/{env}/", "required": ["API_KEY"]},
    "targets": {
        "etl": {
            "type": "lambda",
            "function": "shop-dev-etl",
            "package": {"source": "src", "handler": "handler.handler"},
            "alias": "live",
        }
    },
}


@pytest.fixture
def aws() -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext("us-east-1")


@pytest.fixture
def zip_function(aws: AwsContext, tmp_path: Path) -> Path:
    """The repository, and the function Terraform would have created for it (no alias yet)."""
    config = write_repo(tmp_path / "repo", CONFIG)
    (config.parent / "src" / "handler.py").write_text(
        "def handler(event, context):\n    return 1\n"
    )
    trust = {"Version": "2012-10-17", "Statement": []}
    role = aws.client("iam").create_role(RoleName="etl", AssumeRolePolicyDocument=json.dumps(trust))
    aws.client("lambda").create_function(
        FunctionName="shop-dev-etl",
        Role=role["Role"]["Arn"],
        Runtime="python3.12",
        Handler="handler.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},  # an empty zip
    )
    put_secret(aws)
    return config


def test_a_no_op_deploy_reads_once_and_writes_only_its_lock(
    aws: AwsContext, zip_function: Path
) -> None:
    ports = replace(fake_ports(World()), refreshers=AwsTargets(zip_function.parent))
    first = deploy(make_run(zip_function, ports, reporter=Reporter()))
    assert first.changed

    run = make_run(zip_function, ports, reporter=Reporter())
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    run.aws.session().events.register("before-call.*.*", count)
    result = deploy(run)

    assert not result.changed
    assert calls == {
        "sts:GetCallerIdentity": 1,  # the account guard
        "ssm:PutParameter": 1,  # the lock, taken
        "ssm:GetParameter": 1,  # the lock, still ours
        "ssm:DeleteParameter": 1,  # and given back
        "ssm:GetParameters": 1,  # the required secrets, by name
        "ssm:DescribeParameters": 1,  # names (no values) in sub-paths, said to be ignored
        # The secrets' path; the release history, once (for the release step's "nothing
        # changed" and the result's live release).
        "ssm:GetParametersByPath": 2,
        "lambda:GetFunction": 2,  # the alias's version, and $LATEST under it
    }
