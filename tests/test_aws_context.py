"""AwsContext: endpoints, retries, lazy clients, and the account guard (moto)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.errors import AccountMismatch, ExitCode
from deploytools.steps.release import caller_arn


def test_endpoint_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:2000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:3000")
    aws = AwsContext("us-east-1", endpoints={"ecr": "http://127.0.0.1:4000"})
    assert aws.endpoint_for("ecr") == "http://127.0.0.1:4000"  # explicit wins
    assert aws.endpoint_for("ssm") == "http://127.0.0.1:2000"  # per-service variable
    assert aws.endpoint_for("logs") == "http://127.0.0.1:3000"  # botocore's service id
    assert aws.endpoint_for("ecs") == "http://127.0.0.1:1000"  # the global one
    assert aws.client("ssm").meta.endpoint_url == "http://127.0.0.1:2000"


def test_no_endpoint_override_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert AwsContext("eu-west-1").endpoint_for("ecs") is None


def test_standard_retries_and_lazy_cached_clients() -> None:
    aws = AwsContext("eu-west-1", max_attempts=5)
    assert aws._clients == {}  # nothing built until asked
    client = aws.client("ecs")
    assert aws.client("ecs") is client
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert client.meta.region_name == "eu-west-1"


def test_account_guard_matches() -> None:
    with mock_aws():
        aws = AwsContext("us-east-1")
        assert aws.assert_account("123456789012", env="dev") == "123456789012"


def test_account_guard_refuses_another_account() -> None:
    with mock_aws():
        aws = AwsContext("us-east-1")
        with pytest.raises(AccountMismatch) as caught:
            aws.assert_account("210987654321", env="prod")
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert str(caught.value) == (
        "environment 'prod' is account 210987654321, but the AWS credentials belong to account "
        "123456789012; switch credentials (--profile, or the role your CI assumes)"
    )


def test_the_account_guard_and_the_release_author_share_one_sts_call() -> None:
    with mock_aws():
        aws = AwsContext("us-east-1")
        calls: list[str] = []
        aws.client("sts").meta.events.register(
            "before-call.sts.*", lambda model, **_: calls.append(model.name)
        )
        assert aws.assert_account("123456789012", env="dev") == "123456789012"
        assert caller_arn(aws) == "arn:aws:sts::123456789012:user/moto"
    assert calls == ["GetCallerIdentity"]
