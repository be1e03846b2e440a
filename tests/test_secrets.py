"""Secrets from SSM Parameter Store (deploytools.steps.secrets) against moto, in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig, load_config
from deploytools.lib.retry import Backoff
from deploytools.output import mask
from deploytools.steps import secrets
from deploytools.steps.secrets import (
    DuplicateSecretName,
    InvalidSecretName,
    MissingSecrets,
    SecretsUnavailable,
)

pytestmark = pytest.mark.usefixtures("clean_masks")

FIXTURE = Path(__file__).parent / "fixtures" / "secrets" / "deploytools.yml"
PATH = "/shop/dev/"
NO_SLEEP = Backoff(attempts=5, sleep=lambda _: None)


@pytest.fixture
def env() -> EnvConfig:
    return load_config(FIXTURE).for_env("dev")


def put(aws: AwsContext, name: str, value: str, kind: str = "SecureString") -> None:
    aws.client("ssm").put_parameter(Name=name, Value=value, Type=kind)


def calls(aws: AwsContext) -> list[tuple[str, dict[str, Any]]]:
    """Every SSM operation the code makes, with its parameters, in order."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, dict(params)))

    aws.client("ssm").meta.events.register("provide-client-params.ssm.*", record)
    return seen


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def throttle(aws: AwsContext, times: int) -> list[int]:
    """The first `times` HTTP sends get ThrottlingException; returns a counter of sends."""
    sends = [0]

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        sends[0] += 1
        if sends[0] > times:
            return None
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "t"}
        return AWSResponse(request.url, 400, headers, Raw(body))

    aws.client("ssm").meta.events.register_first("before-send.ssm.*", before_send)
    return sends


def test_reads_the_direct_children_of_the_path_through_all_pages(
    aws: AwsContext, env: EnvConfig
) -> None:
    for i in range(25):
        put(aws, f"{PATH}VAR_{i:02d}", f"value-number-{i:02d}")
    put(aws, f"{PATH}nested/DB_PASSWORD", "nested-value-1")
    put(aws, f"{PATH}API_KEY", "plain-string-value", kind="String")
    put(aws, "/shop/prod/API_KEY", "prod-is-not-read")
    seen = calls(aws)
    found = secrets.resolve_secrets(aws, env)
    pages = [p for op, p in seen if op == "GetParametersByPath"]
    assert len(pages) >= 3  # moto pages by 10
    assert all(not p["Recursive"] and p["WithDecryption"] and p["Path"] == PATH for p in pages)
    assert len(found.names) == 26  # nested/DB_PASSWORD is below a sub-path: not a variable
    assert "DB_PASSWORD" not in found.values()
    assert found.missing == ("DB_PASSWORD",)
    assert secrets.nested_parameters(aws, env) == [f"{PATH}nested/DB_PASSWORD"]
    assert mask.redact("value-number-24") == "***"


def test_named_secrets_are_fetched_at_most_ten_per_call(aws: AwsContext, env: EnvConfig) -> None:
    names = [f"NAME_{i:02d}" for i in range(23)]
    for name in names:
        put(aws, f"{PATH}{name}", f"secret-{name}")
    seen = calls(aws)
    found = secrets.resolve_secrets(aws, env, names=names)
    sizes = [len(p["Names"]) for op, p in seen if op == "GetParameters"]
    assert sizes == [10, 10, 3]
    assert [op for op, _ in seen] == ["GetParameters"] * 3
    assert sorted(found.names) == names
    assert found.missing == ("API_KEY", "DB_PASSWORD")


def test_required_only_reads_the_required_names(aws: AwsContext, env: EnvConfig) -> None:
    put(aws, f"{PATH}API_KEY", "the-api-key-value")
    put(aws, f"{PATH}OTHER", "not-asked-for")
    seen = calls(aws)
    found = secrets.resolve_secrets(aws, env, required_only=True)
    assert found.values() == {"API_KEY": "the-api-key-value"}
    assert found.missing == ("DB_PASSWORD",)
    assert seen[0][1]["Names"] == [f"{PATH}API_KEY", f"{PATH}DB_PASSWORD"]


def test_throttling_is_retried_with_backoff_by_botocore(
    env: EnvConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's standard retry mode (AwsContext's) backs off on ThrottlingException."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    with mock_aws():
        aws = AwsContext("us-east-1", max_attempts=3)
        put(aws, f"{PATH}API_KEY", "value-after-throttling")
        sends = throttle(aws, times=2)
        mine: list[float] = []
        found = secrets.resolve_secrets(
            aws, env, required_only=True, backoff=Backoff(sleep=mine.append)
        )
    assert found.values() == {"API_KEY": "value-after-throttling"}
    assert sends[0] == 3
    assert len(slept) == 2 and mine == []  # botocore's own backoff was enough


def test_throttling_past_botocore_is_retried_by_our_backoff(
    env: EnvConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    with mock_aws():
        aws = AwsContext("us-east-1", max_attempts=2)  # botocore tries twice per call
        for i in range(12):
            put(aws, f"{PATH}VAR_{i:02d}", f"value-{i:02d}-xyz")
        sends = throttle(aws, times=5)
        mine: list[float] = []
        found = secrets.resolve_secrets(aws, env, backoff=Backoff(attempts=5, sleep=mine.append))
    assert len(found.names) == 12
    assert len(mine) == 2  # call 1: 2 sends throttled, call 2: 2 more, call 3: 1 more then ok
    assert all(0 <= d <= 20 for d in mine)
    assert sends[0] >= 7  # 6 throttled or successful sends for page 1, then page 2


def test_throttling_that_never_ends_is_a_deploy_error(
    env: EnvConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    with mock_aws():
        aws = AwsContext("us-east-1", max_attempts=1)
        throttle(aws, times=1000)
        with pytest.raises(SecretsUnavailable, match="still throttling after 3 tries"):
            secrets.resolve_secrets(aws, env, backoff=Backoff(attempts=3, sleep=lambda _: None))


def test_a_name_that_is_no_variable_name_is_refused_with_its_path(
    aws: AwsContext, env: EnvConfig
) -> None:
    put(aws, f"{PATH}api-key", "dash-value-123")
    with pytest.raises(InvalidSecretName) as error:
        secrets.resolve_secrets(aws, env)
    assert str(error.value) == (
        "SSM parameter /shop/dev/api-key: 'api-key' is not a valid environment variable name "
        "(letters, digits and _, not starting with a digit); rename the parameter"
    )
    assert error.value.exit_code == 2


def test_a_sub_path_parameter_with_the_same_basename_does_not_shadow(
    aws: AwsContext, env: EnvConfig
) -> None:
    put(aws, f"{PATH}API_KEY", "first-value-1")
    put(aws, f"{PATH}old/API_KEY", "second-value-2")
    assert secrets.resolve_secrets(aws, env).values() == {"API_KEY": "first-value-1"}


def test_two_parameters_with_one_basename_are_refused_when_read_recursively(
    aws: AwsContext, env: EnvConfig
) -> None:
    put(aws, f"{PATH}API_KEY", "first-value-1")
    put(aws, f"{PATH}old/API_KEY", "second-value-2")
    found = secrets.read_path(aws.client("ssm"), PATH, recursive=True)
    with pytest.raises(DuplicateSecretName, match=r"/shop/dev/API_KEY and /shop/dev/old/API_KEY"):
        secrets._to_secrets(found)


def test_missing_required_secrets_fail_before_any_change(aws: AwsContext, env: EnvConfig) -> None:
    put(aws, f"{PATH}UNRELATED", "unrelated-value")
    seen = calls(aws)
    with pytest.raises(MissingSecrets) as error:
        secrets.check_required(aws, env)
    assert error.value.exit_code == 2
    assert str(error.value) == (
        "required secret(s) missing from SSM Parameter Store under /shop/dev/: "
        "API_KEY, DB_PASSWORD\n"
        "add each one with:\n"
        "  aws ssm put-parameter --name /shop/dev/API_KEY --type SecureString --value '...'\n"
        "  aws ssm put-parameter --name /shop/dev/DB_PASSWORD --type SecureString --value '...'"
    )
    assert {op for op, _ in seen} == {"GetParameters"}  # read-only, nothing decrypted
    assert all(p["WithDecryption"] is False for _, p in seen)


def test_arns_for_ecs_and_batch_value_from(aws: AwsContext, env: EnvConfig) -> None:
    put(aws, f"{PATH}API_KEY", "arn-test-value")
    put(aws, f"{PATH}DB_PASSWORD", "arn-test-value-2")
    arns = secrets.secret_arns(aws, env)
    assert arns == {
        "API_KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/shop/dev/API_KEY",
        "DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/shop/dev/DB_PASSWORD",
    }
    assert secrets.secret_arns(aws, env, names=["API_KEY"]) == {"API_KEY": arns["API_KEY"]}
    with pytest.raises(MissingSecrets, match="STRIPE_KEY"):
        secrets.secret_arns(aws, env, names=["STRIPE_KEY"])
    found = secrets.resolve_secrets(aws, env)
    assert found.arns(["DB_PASSWORD"]) == {"DB_PASSWORD": arns["DB_PASSWORD"]}


def test_which_secrets_a_target_gets(env: EnvConfig) -> None:
    assert secrets.target_secret_names(env, "predict") == ["API_KEY"]
    assert secrets.target_secret_names(env, "report") == ["API_KEY", "DB_PASSWORD"]


def test_seed_missing_puts_generated_secure_strings(aws: AwsContext, env: EnvConfig) -> None:
    put(aws, f"{PATH}API_KEY", "kept-as-it-is")
    assert secrets.seed_missing(aws, env) == ["DB_PASSWORD"]
    parameter = aws.client("ssm").get_parameter(Name=f"{PATH}DB_PASSWORD", WithDecryption=True)
    value = parameter["Parameter"]["Value"]
    assert parameter["Parameter"]["Type"] == "SecureString"
    assert len(value) >= 24 and mask.redact(value) == "***"
    kept = aws.client("ssm").get_parameter(Name=f"{PATH}API_KEY", WithDecryption=True)
    assert kept["Parameter"]["Value"] == "kept-as-it-is"
    assert secrets.seed_missing(aws, env) == []
    secrets.check_required(aws, env)


def test_list_never_reads_a_value(aws: AwsContext, env: EnvConfig) -> None:
    put(aws, f"{PATH}API_KEY", "listed-not-read")
    put(aws, f"{PATH}sub/DB_PASSWORD", "listed-not-read-2", kind="String")
    seen = calls(aws)
    infos = secrets.list_parameters(aws, env)
    assert [(i.name, i.type, i.version) for i in infos] == [("API_KEY", "SecureString", 1)]
    assert secrets.nested_parameters(aws, env) == [f"{PATH}sub/DB_PASSWORD"]
    assert {op for op, _ in seen} == {"DescribeParameters"}
    assert mask.redact("listed-not-read") == "listed-not-read"  # never arrived


def test_values_stay_out_of_repr(aws: AwsContext, env: EnvConfig) -> None:
    put(aws, f"{PATH}API_KEY", "never-in-repr")
    found = secrets.resolve_secrets(aws, env)
    assert "never-in-repr" not in repr(found)
    assert "never-in-repr" not in repr(found.metadata())


def test_no_secrets_section_means_no_secrets(tmp_path: Path) -> None:
    config = tmp_path / "deploytools.yml"
    config.write_text('project: shop\nenvironments:\n  dev: {account_id: "123456789012"}\n')
    env = load_config(config).for_env("dev")
    with mock_aws():
        aws = AwsContext("us-east-1")
        assert secrets.resolve_secrets(aws, env).secrets == ()
        assert secrets.missing_required(aws, env) == []
        assert secrets.secret_arns(aws, env) == {}
        assert secrets.seed_missing(aws, env) == []
