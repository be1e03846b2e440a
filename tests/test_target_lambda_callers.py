"""Lambda targets whose callers bypass the alias, and versions published only on a change,
against moto's server: API Gateway v2, event source mappings
and function URLs are moto's own.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.config.model import LambdaTarget
from deploytools.output import Reporter, StepRecord
from deploytools.pipeline.status import Sync, TargetStatus
from deploytools.pipeline.status import _compare as compare_states
from deploytools.steps.targets import lambda_, lambda_callers, refresher_for, warmup
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetState
from deploytools.steps.targets.lambda_zip import build_zip
from tests import test_target_lambda as lambda_tests
from tests.support.lambda_role import lambda_role
from tests.test_target_lambda import ACCOUNT, FUNCTION, WarmupServer, push_image

warmup_server = lambda_tests.warmup_server  # the fixture, shared
FAST = replace(warmup.BACKOFF, first=0.01, cap=0.05)
FAST_POLLING = replace(STATUS_POLLING, first=0.01)
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}"


@pytest.fixture
def aws(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    services = ("lambda", "ecr", "iam", "sts", "s3", "apigatewayv2", "sqs")
    return AwsContext(region="us-east-1", endpoints=dict.fromkeys(services, moto_endpoint))


@pytest.fixture
def role(aws: AwsContext) -> str:
    return lambda_role(aws)


def write_code(folder: Path, answer: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "handler.py").write_text(f"def handler(event, context):\n    return {answer!r}\n")
    return folder


def make_refresher(aws: AwsContext, **overrides: Any) -> tuple[lambda_.Refresher, io.StringIO]:
    data: dict[str, Any] = {"type": "lambda", "function": FUNCTION, "alias": "live"}
    data.update(overrides)
    out = io.StringIO()
    reporter = Reporter(out=out, err=io.StringIO())
    target = LambdaTarget.model_validate(data)
    made = refresher_for(
        "api", target, aws=aws, reporter=reporter, backoff=FAST, polling=FAST_POLLING
    )
    assert isinstance(made, lambda_.Refresher)
    return made, out


def zip_function_published_by_terraform(aws: AwsContext, role: str, tmp_path: Path) -> Path:
    """A zip function created with `publish = true` (version 1) and no alias yet."""
    source = write_code(tmp_path / "src", "v1")
    first = build_zip(source, out=tmp_path / "v1.zip")
    aws.client("lambda").create_function(
        FunctionName=FUNCTION,
        Role=role,
        Runtime="python3.12",
        Handler="handler.handler",
        Code={"ZipFile": first.path.read_bytes()},
        Publish=True,
    )
    return source


def http_api_on_unqualified_function(aws: AwsContext) -> str:
    client = aws.client("apigatewayv2")
    api = client.create_api(Name="automl", ProtocolType="HTTP")
    client.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=ARN,
        PayloadFormatVersion="2.0",
    )
    return str(api["ApiId"])


def latest_sha(aws: AwsContext) -> str:
    return str(aws.client("lambda").get_function_configuration(FunctionName=FUNCTION)["CodeSha256"])


def versions(aws: AwsContext) -> list[str]:
    found = aws.client("lambda").list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    return [str(v["Version"]) for v in found]


# --- item 10: publish only on a change ----------------------------------------------------


def test_item_10_first_deploy_reuses_the_version_terraform_published(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    source = zip_function_published_by_terraform(aws, role, tmp_path)
    package = build_zip(source, out=tmp_path / "deploy.zip")
    calls: list[str] = []
    aws.client("lambda").meta.events.register(
        "before-call.lambda", lambda model, **_: calls.append(model.name)
    )
    made, _ = make_refresher(aws, package={"source": "src"})
    record = StepRecord("api")

    state = made.refresh(RefreshInputs(package=package), record)

    assert state.revision == "1"
    assert versions(aws) == ["$LATEST", "1"]
    assert "UpdateFunctionCode" not in calls and "PublishVersion" not in calls
    assert record.changed == [f"lambda {FUNCTION}: alias live → 1"]


def test_item_10_changed_code_publishes_one_new_version(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    zip_function_published_by_terraform(aws, role, tmp_path)
    package = build_zip(write_code(tmp_path / "v2", "v2"), out=tmp_path / "v2.zip")
    made, _ = make_refresher(aws, package={"source": "v2"})

    state = made.refresh(RefreshInputs(package=package), StepRecord("api"))

    assert state.revision == "2"
    assert versions(aws) == ["$LATEST", "1", "2"]


# --- item 2: callers of the unqualified function ------------------------------------------


def test_item_02_callers_are_read_from_integrations_mappings_and_the_url(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    zip_function_published_by_terraform(aws, role, tmp_path)
    http_api_on_unqualified_function(aws)
    client = aws.client("lambda")
    queue = aws.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    client.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=FUNCTION)
    client.create_function_url_config(FunctionName=FUNCTION, AuthType="NONE")

    report = lambda_callers.read_callers(aws, FUNCTION)

    kinds = sorted((c.kind, c.qualifier) for c in report.bypassing)
    assert kinds == [
        ("API Gateway integration", None),
        ("event source mapping", None),
        ("function URL", None),
    ]
    assert report.unread == ()


def test_item_02_an_integration_on_the_alias_does_not_bypass_it() -> None:
    uri = f"{ARN}:live"
    assert lambda_callers.invoked_qualifier(uri, FUNCTION) == (True, "live")
    wrapped = (
        f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{ARN}:$LATEST/invocations"
    )
    assert lambda_callers.invoked_qualifier(wrapped, FUNCTION) == (True, "$LATEST")
    assert lambda_callers.invoked_qualifier(ARN + "-other", FUNCTION) == (False, None)


def test_item_02_rollback_moves_latest_back_when_the_api_invokes_it_unqualified(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    source = zip_function_published_by_terraform(aws, role, tmp_path)
    first = build_zip(source, out=tmp_path / "first.zip")
    api_id = http_api_on_unqualified_function(aws)
    made, out = make_refresher(aws, package={"source": "src"})
    before = made.refresh(RefreshInputs(package=first), StepRecord("api"))
    second = build_zip(write_code(tmp_path / "v2", "v2"), out=tmp_path / "v2.zip")
    deploy = StepRecord("api")
    made.refresh(RefreshInputs(package=second), deploy)
    assert latest_sha(aws) == second.code_sha256
    assert (
        f"lambda {FUNCTION}: $LATEST serves this code at once (API Gateway integration "
        f"automl/{integration_id(aws, api_id)} invokes the unqualified function); a rollback "
        "moves $LATEST back too"
    ) in deploy.changed
    assert (
        f"warning: lambda {FUNCTION}: API Gateway integration automl/{integration_id(aws, api_id)} "
        "invokes the unqualified function: point it at alias live so rollbacks and warm-ups "
        "protect it (DT011)"
    ) in out.getvalue()

    record = StepRecord("rollback")
    restored = made.restore(before, record)

    assert restored.revision == "1"
    assert latest_sha(aws) == first.code_sha256  # what the API serves changed back
    assert record.changed == [
        f"lambda {FUNCTION}: alias live → 1",
        f"lambda {FUNCTION}: $LATEST back on version 1's code (API Gateway integration "
        f"automl/{integration_id(aws, api_id)} invokes the unqualified function)",
    ]
    # Said in the run's output too, not only in the release record.
    said = out.getvalue()
    assert (
        f"  api: $LATEST serves this code at once (API Gateway integration "
        f"automl/{integration_id(aws, api_id)} invokes the unqualified function); a rollback "
        "moves $LATEST back too\n"
    ) in said
    assert (
        f"  ↺ api: $LATEST back on version 1's code (API Gateway integration "
        f"automl/{integration_id(aws, api_id)} invokes the unqualified function)\n"
    ) in said


def test_item_02_rollback_leaves_latest_alone_when_callers_use_the_alias(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    source = zip_function_published_by_terraform(aws, role, tmp_path)
    first = build_zip(source, out=tmp_path / "first.zip")
    made, _ = make_refresher(aws, package={"source": "src"})
    before = made.refresh(RefreshInputs(package=first), StepRecord("api"))
    second = build_zip(write_code(tmp_path / "v2", "v2"), out=tmp_path / "v2.zip")
    made.refresh(RefreshInputs(package=second), StepRecord("api"))

    record = StepRecord("rollback")
    made.restore(before, record)

    assert latest_sha(aws) == second.code_sha256
    assert record.changed == [f"lambda {FUNCTION}: alias live → 1"]


def test_item_02_image_rollback_moves_latest_to_the_versions_image(
    aws: AwsContext, role: str
) -> None:
    first_image = push_image(aws, "v1")
    aws.client("lambda").create_function(
        FunctionName=FUNCTION, Role=role, PackageType="Image", Code={"ImageUri": first_image}
    )
    aws.client("lambda").create_function_url_config(FunctionName=FUNCTION, AuthType="NONE")
    made, _ = make_refresher(aws, image="predictor")
    before = made.refresh(RefreshInputs(image=first_image), StepRecord("api"))
    made.refresh(RefreshInputs(image=push_image(aws, "v2")), StepRecord("api"))

    made.restore(before, StepRecord("rollback"))

    code = aws.client("lambda").get_function(FunctionName=FUNCTION)["Code"]
    assert code["ImageUri"] == first_image


def integration_id(aws: AwsContext, api_id: str) -> str:
    items = aws.client("apigatewayv2").get_integrations(ApiId=api_id)["Items"]
    return str(items[0]["IntegrationId"])


# --- item 4: drift ------------------------------------------------------------------------


def test_item_04_terraform_stripping_the_environment_is_drift_that_deploy_corrects(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    source = zip_function_published_by_terraform(aws, role, tmp_path)
    package = build_zip(source, out=tmp_path / "deploy.zip")
    made, _ = make_refresher(aws, package={"source": "src"}, environment={"STAGE": "dev"})
    deployed = made.refresh(RefreshInputs(package=package), StepRecord("api"))
    assert deployed.revision == "2" and deployed.detail["environment"] == ["STAGE"]
    # The next `terraform apply` of a function without ignore_changes = [environment]:
    aws.client("lambda").update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {}}
    )

    live = made.current()
    assert live is not None and live.detail["latest_missing"] == ["STAGE"]
    sync, note = compare_states(live, deployed, "", has_release=True)
    assert (sync, note) == (Sync.DRIFT, "$LATEST lacks environment STAGE")

    record = StepRecord("api")
    corrected = made.refresh(RefreshInputs(package=package), record)

    assert record.changed == [
        f"lambda {FUNCTION}: $LATEST had drifted from version 2 (environment STAGE); put back"
    ]
    assert corrected.revision == "2" and "latest_missing" not in corrected.detail
    assert versions(aws) == ["$LATEST", "1", "2"]
    latest = aws.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert latest["Environment"]["Variables"] == {"STAGE": "dev"}


def test_item_04_status_names_what_drifted() -> None:
    recorded = TargetState("api", "lambda", FUNCTION, None, "2", {"environment": ["A", "B"]})
    live = TargetState("api", "lambda", FUNCTION, None, "2", {"environment": ["A", "C"]})
    sync, note = compare_states(live, recorded, "", has_release=True)
    line = TargetStatus("api", "lambda", FUNCTION, live, recorded, sync, note).line()
    assert line == (
        f"target api (lambda) {FUNCTION}: 2, DRIFT: environment missing B; added C "
        "(deploy corrects it)"
    )


# --- item 12: the app's Terraform made the function from its own zip --------------------


def test_item_12_code_terraform_zipped_itself_is_replaced_after_terraform(
    aws: AwsContext, role: str, tmp_path: Path
) -> None:
    """Terraform created the function from its own placeholder zip (filebase64sha256 of a
    local file); deploytools' zip of the source replaces it and becomes the alias's version."""
    placeholder = build_zip(
        write_code(tmp_path / "placeholder", "placeholder"), out=tmp_path / "p.zip"
    )
    aws.client("lambda").create_function(
        FunctionName=FUNCTION,
        Role=role,
        Runtime="python3.12",
        Handler="handler.handler",
        Code={"ZipFile": placeholder.path.read_bytes()},
        Publish=True,
    )
    package = build_zip(write_code(tmp_path / "src", "real"), out=tmp_path / "real.zip")
    made, _ = make_refresher(aws, package={"source": "src"})

    state = made.refresh(RefreshInputs(package=package), StepRecord("api"))

    assert state.revision == "2"
    assert state.detail["code_sha256"] == package.code_sha256 == latest_sha(aws)
    served = aws.client("lambda").get_function_configuration(
        FunctionName=FUNCTION, Qualifier="live"
    )
    assert served["CodeSha256"] == package.code_sha256 != placeholder.code_sha256


def test_item_02_a_failed_warmup_puts_latest_back_when_the_api_invokes_it_unqualified(
    aws: AwsContext, role: str, tmp_path: Path, warmup_server: WarmupServer
) -> None:
    source = zip_function_published_by_terraform(aws, role, tmp_path)
    first = build_zip(source, out=tmp_path / "first.zip")
    http_api_on_unqualified_function(aws)
    warmup_server.failures = 0
    made, out = make_refresher(
        aws, package={"source": "src"}, warmup={"url": warmup_server.url, "budget": 1}
    )
    made.refresh(RefreshInputs(package=first), StepRecord("api"))
    warmup_server.failures = 10_000
    broken = build_zip(write_code(tmp_path / "v2", "broken"), out=tmp_path / "v2.zip")

    with pytest.raises(RolledBack) as caught:
        made.refresh(RefreshInputs(package=broken), StepRecord("api"))

    assert "alias live points back at version 1" in str(caught.value)
    assert latest_sha(aws) == first.code_sha256
    assert "  ↺ api: $LATEST back on version 1's code" in out.getvalue()
