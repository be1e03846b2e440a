"""Lambda targets against moto's server: image and zip deploys, warm-up, rollback, restore.

moto's Lambda always reports LastUpdateStatus Successful and never conflicts, so the failure
paths it cannot produce are injected with botocore event hooks on the real client: a
`before-call` handler that answers instead of moto, or an `after-call` one that edits moto's
answer. The warm-up server is a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.config.model import LambdaTarget
from deploytools.errors import BadInput
from deploytools.lib.image_reference import parse_image
from deploytools.output import Reporter, StepRecord
from deploytools.steps.targets import lambda_, refresher_for, warmup
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed
from deploytools.steps.targets.lambda_ import updates
from deploytools.steps.targets.lambda_zip import build_zip
from tests.support.lambda_role import lambda_role

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
REPOSITORY = "predictor"
FUNCTION = "prediction-api-dev-predict"
FAST = replace(warmup.BACKOFF, first=0.01, cap=0.05)
FAST_POLLING = replace(STATUS_POLLING, first=0.01)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def aws(moto_endpoint: str) -> AwsContext:
    services = ("lambda", "ecr", "iam", "sts", "s3")
    return AwsContext(region="us-east-1", endpoints=dict.fromkeys(services, moto_endpoint))


@pytest.fixture
def role(aws: AwsContext) -> str:
    return lambda_role(aws)


def push_image(aws: AwsContext, label: str) -> str:
    """Put a manifest in moto's ECR; returns the image by digest, as the images step does."""
    ecr = aws.client("ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=REPOSITORY)
    config = hashlib.sha256(label.encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 100,
            "digest": f"sha256:{config}",
        },
        # moto derives the digest from the layers, so each label needs a layer of its own.
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 1,
                "digest": f"sha256:{config}",
            }
        ],
    }
    image = ecr.put_image(
        repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=label
    )["image"]
    return f"{REGISTRY}/{REPOSITORY}@{image['imageId']['imageDigest']}"


@pytest.fixture
def image_function(aws: AwsContext, role: str) -> str:
    """An image function on version 1 behind the alias `live`, as Terraform leaves it."""
    image = push_image(aws, "v1")
    client = aws.client("lambda")
    client.create_function(
        FunctionName=FUNCTION,
        Role=role,
        PackageType="Image",
        Code={"ImageUri": image},
        Environment={"Variables": {"FROM_TERRAFORM": "yes"}},
    )
    # Published as a previous deploy does: moto reports the function's latest ImageUri for
    # every version, so the version's description is what names its own image there.
    client.publish_version(FunctionName=FUNCTION, Description=f"deploytools: {image}")
    client.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
    return image


@pytest.fixture
def zip_function(aws: AwsContext, role: str, tmp_path: Path) -> str:
    first = tmp_path / "first.zip"
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    package = build_zip(tmp_path / "v1", out=first)
    client = aws.client("lambda")
    client.create_function(
        FunctionName=FUNCTION,
        Role=role,
        Runtime="python3.12",
        Handler="handler.handler",
        Code={"ZipFile": first.read_bytes()},
    )
    client.publish_version(FunctionName=FUNCTION)
    client.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
    return package.code_sha256


@dataclass
class WarmupServer:
    """Answers 503 (like API Gateway during a cold start) `failures` times, then 200."""

    failures: int
    body_on_failure: str = '{"message": "Endpoint request timed out"}'
    status_on_failure: int = 503
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def warmup_server() -> Iterator[WarmupServer]:
    state = WarmupServer(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append((self.command, self.rfile.read(length).decode()))
            failing = len(state.requests) <= state.failures
            status = state.status_on_failure if failing else 200
            body = state.body_on_failure if failing else '{"prediction": 42}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        do_GET = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/predict"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def make_target(**overrides: Any) -> LambdaTarget:
    data: dict[str, Any] = {"type": "lambda", "function": FUNCTION, "image": "predictor"}
    data.update(overrides)
    return LambdaTarget.model_validate(data)


def refresher(aws: AwsContext, target: LambdaTarget) -> lambda_.Refresher:
    reporter = Reporter(out=io.StringIO(), err=io.StringIO())
    made = refresher_for(
        "predict", target, aws=aws, reporter=reporter, backoff=FAST, polling=FAST_POLLING
    )
    assert isinstance(made, lambda_.Refresher)
    return made


def alias_version(aws: AwsContext) -> str:
    return str(
        aws.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"]
    )


def count_calls(aws: AwsContext, event: str) -> list[str]:
    """Every Lambda operation the client is about to send, by name."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    aws.client("lambda").meta.events.register(event, record)
    return calls


class FakeHttp:
    status_code = 409


def conflict_answers(times: int) -> Any:
    """A before-call handler that answers ResourceConflictException `times` times."""
    seen: list[int] = []

    def answer(**_: Any) -> Any:
        seen.append(1)
        if len(seen) > times:
            return None  # let moto answer
        parsed = {
            "Error": {
                "Code": "ResourceConflictException",
                "Message": "The operation cannot be performed at this time. "
                "An update is in progress for resource: " + FUNCTION,
            },
            "ResponseMetadata": {"HTTPStatusCode": 409},
        }
        return FakeHttp(), parsed

    answer.seen = seen  # type: ignore[attr-defined]
    return answer


# --- success --------------------------------------------------------------------------------


def test_image_deploy_publishes_a_version_moves_the_alias_and_warms_up(
    aws: AwsContext, image_function: str, warmup_server: WarmupServer
) -> None:
    new_image = push_image(aws, "v2")
    target = make_target(
        warmup={"url": warmup_server.url, "method": "POST", "body": '{"date": "2025-10-20"}'}
    )
    record = StepRecord("predict")

    state = refresher(aws, target).refresh(RefreshInputs(image=new_image), record)

    assert state.revision == "2"
    assert state.image == new_image
    assert alias_version(aws) == "2"
    published = aws.client("lambda").get_function(FunctionName=FUNCTION, Qualifier="2")
    assert published["Code"]["ImageUri"] == new_image
    # Two cold-start failures, then the healthy answer; the body went each time.
    assert warmup_server.requests == [("POST", '{"date": "2025-10-20"}')] * 3
    assert record.detail["warmup"]["attempts"] == 3
    assert "lambda prediction-api-dev-predict: alias live → 2" in record.changed


def test_zip_deploy_publishes_the_package_by_its_sha(
    aws: AwsContext, zip_function: str, tmp_path: Path, warmup_server: WarmupServer
) -> None:
    source = tmp_path / "v2"
    source.mkdir()
    (source / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    package = build_zip(source, out=tmp_path / "v2.zip")
    target = make_target(
        image=None,
        package={"source": "v2", "handler": "handler.main"},
        warmup={"url": warmup_server.url},
    )

    state = refresher(aws, target).refresh(RefreshInputs(package=package), StepRecord("predict"))

    assert package.code_sha256 != zip_function
    assert state.revision == "2"
    assert state.image is None
    assert state.detail["code_sha256"] == package.code_sha256
    config = aws.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    assert config["CodeSha256"] == package.code_sha256
    assert config["Handler"] == "handler.main"
    assert alias_version(aws) == "2"


def test_environment_is_merged_and_secrets_go_in_only_when_asked(
    aws: AwsContext, image_function: str
) -> None:
    target = make_target(environment={"MODEL_NAME": "distilbert"}, secrets_in_environment=True)
    refresher(aws, target).refresh(
        RefreshInputs(image=push_image(aws, "v2"), secret_values={"MODEL_API_KEY": "s3cr3t-value"}),
        StepRecord("predict"),
    )
    variables = aws.client("lambda").get_function_configuration(
        FunctionName=FUNCTION, Qualifier="2"
    )["Environment"]["Variables"]
    assert variables == {
        "FROM_TERRAFORM": "yes",
        "MODEL_NAME": "distilbert",
        "MODEL_API_KEY": "s3cr3t-value",
    }

    refresher(aws, make_target()).refresh(
        RefreshInputs(image=push_image(aws, "v3"), secret_values={"OTHER_KEY": "not-this-one"}),
        StepRecord("predict"),
    )
    variables = aws.client("lambda").get_function_configuration(FunctionName=FUNCTION)[
        "Environment"
    ]["Variables"]
    assert "OTHER_KEY" not in variables


# --- failures -------------------------------------------------------------------------------


def test_failed_warmup_points_the_alias_back(
    aws: AwsContext, image_function: str, warmup_server: WarmupServer
) -> None:
    warmup_server.failures = 10_000
    warmup_server.status_on_failure = 500
    warmup_server.body_on_failure = '{"error": "model file not found: /opt/ml/model.joblib"}'
    target = make_target(warmup={"url": warmup_server.url, "method": "POST", "budget": 1})

    with pytest.raises(RolledBack) as caught:
        refresher(aws, target).refresh(
            RefreshInputs(image=push_image(aws, "broken")), StepRecord("predict")
        )

    message = str(caught.value)
    assert "version 2 did not warm up" in message
    assert "→ 500" in message
    assert "model file not found" in message
    assert "alias live points back at version 1" in message
    assert alias_version(aws) == "1"
    assert caught.value.restored.revision == "1"
    assert caught.value.restored.image == image_function
    assert len(warmup_server.requests) >= 3  # it kept trying within the budget


def test_a_new_alias_is_deleted_again_when_the_first_warmup_fails(
    aws: AwsContext, image_function: str, warmup_server: WarmupServer
) -> None:
    warmup_server.failures = 10_000
    target = make_target(alias="canary", warmup={"url": warmup_server.url, "budget": 1})

    with pytest.raises(TargetFailed, match="alias canary was new and has been deleted again"):
        refresher(aws, target).refresh(
            RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict")
        )

    aliases = aws.client("lambda").list_aliases(FunctionName=FUNCTION)["Aliases"]
    assert [a["Name"] for a in aliases] == ["live"]


def test_redeploying_what_is_live_changes_nothing(aws: AwsContext, image_function: str) -> None:
    target = make_target(environment={"FROM_TERRAFORM": "yes"})
    calls = count_calls(aws, "before-call.lambda.*")
    record = StepRecord("predict")

    state = refresher(aws, target).refresh(RefreshInputs(image=image_function), record)

    assert (state.revision, state.image) == ("1", image_function)
    assert record.changed == []
    assert not {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"} & set(calls)


def test_a_no_op_deploy_reads_the_function_twice_and_asks_ecr_nothing(
    aws: AwsContext, image_function: str
) -> None:
    """The pipeline reads the state, then refreshes: the refresh acts on that one read."""
    calls = count_calls(aws, "before-call.lambda.*")
    aws.client("ecr").meta.events.register(
        "before-call.ecr.*", lambda model, **_: calls.append(f"ecr:{model.name}")
    )
    made = refresher(aws, make_target(environment={"FROM_TERRAFORM": "yes"}))

    before = made.current()
    after = made.refresh(RefreshInputs(image=image_function), StepRecord("predict"))

    assert before == after
    # The alias's version (GetFunction takes the alias as its qualifier), then $LATEST under it.
    assert calls == ["GetFunction", "GetFunction"]


def test_a_refresh_after_a_refresh_reads_the_function_again(
    aws: AwsContext, image_function: str
) -> None:
    made = refresher(aws, make_target())
    made.current()
    made.refresh(RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict"))
    calls = count_calls(aws, "before-call.lambda.*")

    state = made.refresh(RefreshInputs(image=image_function), StepRecord("predict"))

    assert state.revision == "1"  # version 1 has that image: the alias goes back to it
    assert calls[:2] == ["GetFunction", "GetFunction"]


def test_a_changed_environment_alone_is_a_new_version(aws: AwsContext, image_function: str) -> None:
    target = make_target(environment={"MODEL_NAME": "date-regressor"})

    state = refresher(aws, target).refresh(
        RefreshInputs(image=image_function), StepRecord("predict")
    )

    assert state.revision == "2"
    live = aws.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    assert live["Environment"]["Variables"] == {
        "FROM_TERRAFORM": "yes",
        "MODEL_NAME": "date-regressor",
    }


def test_refuses_an_image_ecr_does_not_have_before_changing_lambda(
    aws: AwsContext, image_function: str
) -> None:
    calls = count_calls(aws, "before-call.lambda.*")
    missing = f"{REGISTRY}/{REPOSITORY}@sha256:{'0' * 64}"

    with pytest.raises(lambda_.ImageNotInEcr) as caught:
        refresher(aws, make_target()).refresh(RefreshInputs(image=missing), StepRecord("predict"))

    assert str(caught.value) == (
        f"{missing} is not in ECR (ImageNotFound); lambda {FUNCTION} was not changed: "
        "push it first: deploytools build --push"
    )
    assert calls == ["GetFunction", "GetFunction"]  # what runs; nothing changed


def test_refuses_an_image_whose_repository_does_not_exist(
    aws: AwsContext, image_function: str
) -> None:
    calls = count_calls(aws, "before-call.lambda.*")
    with pytest.raises(lambda_.ImageNotInEcr, match="RepositoryNotFoundException"):
        refresher(aws, make_target()).refresh(
            RefreshInputs(image=f"{REGISTRY}/nope@sha256:{'1' * 64}"), StepRecord("predict")
        )
    assert calls == ["GetFunction", "GetFunction"]


def test_resource_conflict_is_retried_with_backoff(aws: AwsContext, image_function: str) -> None:
    code_conflicts = conflict_answers(2)
    config_conflicts = conflict_answers(1)
    events = aws.client("lambda").meta.events
    events.register("before-call.lambda.UpdateFunctionCode", code_conflicts)
    events.register("before-call.lambda.UpdateFunctionConfiguration", config_conflicts)
    target = make_target(environment={"MODEL_NAME": "distilbert"})

    state = refresher(aws, target).refresh(
        RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict")
    )

    assert len(code_conflicts.seen) == 3  # two conflicts, then moto's answer
    assert len(config_conflicts.seen) == 2
    assert state.revision == "2"


def test_conflicts_past_the_timeout_fail_with_the_reason(
    aws: AwsContext, image_function: str
) -> None:
    clock = iter(range(0, 10_000, 5))
    busy = replace(
        warmup.BACKOFF, first=0.01, sleep=lambda _: None, clock=lambda: float(next(clock))
    )
    aws.client("lambda").meta.events.register(
        "before-call.lambda.UpdateFunctionCode", conflict_answers(10_000)
    )
    made = lambda_.Refresher(
        "predict",
        make_target(timeout=30),
        aws=aws,
        reporter=Reporter(out=io.StringIO(), err=io.StringIO()),
        backoff=busy,
    )
    with pytest.raises(TargetFailed, match="update_function_code: ResourceConflictException"):
        made.refresh(RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict"))
    assert alias_version(aws) == "1"


def test_a_failed_code_update_leaves_the_alias_and_names_the_reason(
    aws: AwsContext, image_function: str
) -> None:
    updated: list[bool] = []

    def mark(**_: Any) -> None:
        updated.append(True)

    def fail_after_update(parsed: dict[str, Any], **_: Any) -> None:
        if updated:
            parsed["LastUpdateStatus"] = "Failed"
            parsed["LastUpdateStatusReasonCode"] = "ImageAccessDenied"
            parsed["LastUpdateStatusReason"] = (
                "Lambda does not have permission to access the ECR image."
            )

    events = aws.client("lambda").meta.events
    events.register("before-call.lambda.UpdateFunctionCode", mark)
    events.register("after-call.lambda.GetFunctionConfiguration", fail_after_update)

    with pytest.raises(RolledBack) as caught:
        refresher(aws, make_target()).refresh(
            RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict")
        )

    assert str(caught.value) == (
        f"lambda {FUNCTION}: the new code failed: ImageAccessDenied Lambda does not have "
        "permission to access the ECR image.; alias live still points at version 1"
    )
    assert caught.value.restored.revision == "1"
    assert alias_version(aws) == "1"


def test_a_missing_function_is_named(aws: AwsContext, role: str) -> None:
    with pytest.raises(TargetFailed, match="create it with Terraform first"):
        refresher(aws, make_target()).refresh(
            RefreshInputs(image=push_image(aws, "v1")), StepRecord("predict")
        )


# --- current, plan, restore -----------------------------------------------------------------


def test_current_and_describe_change(aws: AwsContext, image_function: str) -> None:
    made = refresher(aws, make_target())
    state = made.current()
    assert state is not None
    assert (state.type, state.resource, state.revision, state.image) == (
        "lambda",
        FUNCTION,
        "1",
        image_function,
    )
    assert state.detail["alias"] == "live"
    assert made.describe_change(image_function).endswith(
        "unchanged (" + image_function + ", live → version 1)"
    )
    assert made.describe_change("new@sha256:1") == (
        f"lambda {FUNCTION}: {image_function} (live → version 1) → new@sha256:1"
    )


def test_current_is_none_without_the_function(aws: AwsContext) -> None:
    assert refresher(aws, make_target()).current() is None


def test_restore_points_the_alias_at_an_earlier_version(
    aws: AwsContext, image_function: str, warmup_server: WarmupServer
) -> None:
    warmup_server.failures = 0
    made = refresher(aws, make_target(warmup={"url": warmup_server.url}))
    first = made.current()
    assert first is not None
    made.refresh(RefreshInputs(image=push_image(aws, "v2")), StepRecord("deploy"))
    assert alias_version(aws) == "2"

    record = StepRecord("rollback")
    restored = made.restore(first, record)

    assert restored.revision == "1"
    assert restored.image == image_function
    assert alias_version(aws) == "1"
    assert record.changed == [f"lambda {FUNCTION}: alias live → 1"]


def test_restore_to_a_deleted_version_fails(aws: AwsContext, image_function: str) -> None:
    made = refresher(aws, make_target())
    state = made.current()
    assert state is not None
    gone = type(state)(**{**state.as_dict(), "revision": "7"})
    with pytest.raises(TargetFailed, match="version 7"):
        made.restore(gone, StepRecord("rollback"))


# --- parsing --------------------------------------------------------------------------------


def test_parse_image() -> None:
    ref = parse_image(f"{REGISTRY}/team/predictor@sha256:{'a' * 64}")
    assert (ref.repository, ref.registry_id, ref.image_id) == (
        "team/predictor",
        ACCOUNT,
        {"imageDigest": f"sha256:{'a' * 64}"},
    )
    local = parse_image("127.0.0.1:5055/predictor:v1")
    assert (local.repository, local.registry_id, local.image_id) == (
        "predictor",
        None,
        {"imageTag": "v1"},
    )
    with pytest.raises(BadInput):
        parse_image("predictor:v1")


# --- warm-up by invoking the function ---------------------------------------------------------


class FakeOk:
    status_code = 200


def invoke_answers(aws: AwsContext, answers: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """Answer Invoke calls in order (FunctionError or None, payload); moto would need Docker.

    Registered on the session, so the warm-up's own Lambda client (made later) has it too."""
    seen: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    def answer(**_: Any) -> Any:
        error, payload = answers[min(len(seen), len(answers)) - 1]
        parsed: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(payload.encode())}
        if error:
            parsed["FunctionError"] = error
        return FakeOk(), parsed

    events = aws.session().events
    events.register("before-parameter-build.lambda.Invoke", remember)
    events.register("before-call.lambda.Invoke", answer)
    return seen


def test_without_a_url_the_warmup_invokes_the_alias(aws: AwsContext, image_function: str) -> None:
    seen = invoke_answers(
        aws,
        [
            ("Unhandled", '{"errorMessage": "Task timed out after 3.00 seconds"}'),
            (None, '{"statusCode": 200}'),
        ],
    )
    target = make_target(warmup={"body": '{"warmup": true}'})

    state = refresher(aws, target).refresh(
        RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict")
    )

    assert state.revision == "2"
    assert [(p["FunctionName"], p["Qualifier"]) for p in seen] == [(FUNCTION, "live")] * 2
    assert seen[0]["Payload"] == b'{"warmup": true}'


def test_a_function_error_on_every_invoke_rolls_back(aws: AwsContext, image_function: str) -> None:
    invoke_answers(aws, [("Unhandled", '{"errorMessage": "No module named \'sklearn\'"}')])
    target = make_target(warmup={"budget": 1})

    with pytest.raises(RolledBack) as caught:
        refresher(aws, target).refresh(
            RefreshInputs(image=push_image(aws, "v2")), StepRecord("predict")
        )

    assert "invoke prediction-api-dev-predict:live → Unhandled error" in str(caught.value)
    assert "No module named 'sklearn'" in str(caught.value)
    assert alias_version(aws) == "1"


# --- large zips, earlier failures -----------------------------------------------------------


def test_a_zip_over_the_direct_upload_limit_goes_through_s3(
    aws: AwsContext, zip_function: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(updates, "DIRECT_UPLOAD_LIMIT", 10)  # bytes: any zip is "too big"
    aws.client("s3").create_bucket(Bucket="code")
    source = tmp_path / "v2"
    source.mkdir()
    (source / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    package = build_zip(source, out=tmp_path / "v2.zip")
    made = refresher(aws, make_target(image=None, package={"source": "v2"}))

    with pytest.raises(BadInput, match="pass a code_bucket"):
        made.refresh(RefreshInputs(package=package), StepRecord("p"))
    state = made.refresh(RefreshInputs(package=package, code_bucket="code"), StepRecord("p"))

    key = f"deploytools/{FUNCTION}/{hashlib.sha256(package.path.read_bytes()).hexdigest()}.zip"
    stored = aws.client("s3").get_object(Bucket="code", Key=key)["Body"].read()
    assert stored == package.path.read_bytes()
    assert state.detail["code_sha256"] == package.code_sha256


def test_an_earlier_failed_update_does_not_block_the_next_deploy(
    aws: AwsContext, image_function: str
) -> None:
    calls: list[int] = []

    def failed_before_our_update(parsed: dict[str, Any], **_: Any) -> None:
        calls.append(1)
        if len(calls) == 1:  # the wait before our update sees the last deploy's failure
            parsed["LastUpdateStatus"] = "Failed"

    aws.client("lambda").meta.events.register(
        "after-call.lambda.GetFunctionConfiguration", failed_before_our_update
    )
    state = refresher(aws, make_target()).refresh(
        RefreshInputs(image=push_image(aws, "v2")), StepRecord("p")
    )
    assert state.revision == "2"


def test_an_image_for_a_zip_function_is_refused_before_any_change(
    aws: AwsContext, zip_function: str
) -> None:
    calls = count_calls(aws, "before-call.lambda.UpdateFunctionCode")
    with pytest.raises(BadInput) as caught:
        refresher(aws, make_target()).refresh(
            RefreshInputs(image=push_image(aws, "v1")), StepRecord("p")
        )
    assert str(caught.value) == (
        f"lambda {FUNCTION} is a Zip function, but targets.predict deploys an image: "
        'recreate the function with Terraform as package_type = "Image", or change the target'
    )
    assert calls == []
