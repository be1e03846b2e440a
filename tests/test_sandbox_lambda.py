"""Lambda functions run for real in the sandbox: Invoke through the Lambda front starts the
function's container (image from the loopback registry, or a Zip package in the runtime's base
image) against a Runtime API on loopback. Real Docker engine, registry and awslambdaric."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from deploytools.sandbox import apigateway, containers
from deploytools.sandbox.lambda_runtime import front
from tests import support

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sandbox-lambda-test"
HANDLERS = {
    "ok.py": """
import json, os
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({
        "name": event.get("name"),
        "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "greeting": os.environ.get("GREETING"),
        "remaining_ms_positive": context.get_remaining_time_in_millis() > 0,
    })}
""",
    "raises.py": """
def handler(event, context):
    raise ValueError("no model for date " + str(event.get("date")))
""",
    "broken.py": """
import model_weights_loader  # not in the image
def handler(event, context):
    return "unreachable"
""",
    "slow.py": """
import time
def handler(event, context):
    time.sleep(30)
""",
    "cold.py": """
import json, os, time
time.sleep(float(os.environ.get("MODEL_LOAD_SECONDS", "0")))  # the model loads at init
def handler(event, context):
    return {"statusCode": 201, "headers": {"X-Model": "loaded"}, "body": json.dumps({
        "rawPath": event["rawPath"], "routeKey": event["routeKey"], "body": event.get("body"),
        "stage": event["requestContext"]["stage"], "host": event["headers"]["host"],
        "query": event.get("queryStringParameters"), "params": event.get("pathParameters"),
    })}
""",
    "exits.py": """
import os
def handler(event, context):
    os._exit(3)
""",
}


@pytest.fixture(scope="module")
def function_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """repository@digest, in the loopback registry, of an image holding every test handler."""
    import docker

    support.require_docker()
    registry = support.require_registry()
    support.require_base_images()
    context = tmp_path_factory.mktemp("function-image")
    for name, source in HANDLERS.items():
        (context / name).write_text(source)
    (context / "Dockerfile").write_text(
        "FROM public.ecr.aws/lambda/python:3.12\nCOPY *.py ${LAMBDA_TASK_ROOT}/\n"
        'CMD ["ok.handler"]\n'
    )
    repository = f"test/lambda-{uuid.uuid4().hex[:8]}"
    client = docker.DockerClient(base_url=support.DOCKER_HOST, timeout=300)
    try:
        client.images.build(path=str(context), tag=f"{registry}/{repository}:v1", rm=True)
        for line in client.images.push(
            f"{registry}/{repository}", tag="v1", stream=True, decode=True
        ):
            assert "error" not in line, line
        digest = client.images.get_registry_data(f"{registry}/{repository}:v1").id
    finally:
        client.close()
    return f"{repository}@{digest}"


@pytest.fixture
def lambda_endpoint(moto_endpoint: str, tmp_path: Path) -> Iterator[front.Running]:
    sandbox_id = f"test-{uuid.uuid4().hex[:8]}"
    running = front.serve(
        moto_endpoint,
        work_dir=tmp_path / "lambda",
        registry=support.REGISTRY,
        sandbox_id=sandbox_id,
    )
    iam = boto3.client("iam", endpoint_url=moto_endpoint, region_name="us-east-1")
    iam.create_role(RoleName="sandbox-lambda-test", AssumeRolePolicyDocument="{}")
    try:
        yield running
    finally:
        running.stop()
    assert containers_labelled(f"deploytools.sandbox={sandbox_id}") == []


def containers_labelled(label: str) -> list[Any]:
    import docker

    engine = docker.DockerClient(base_url=support.DOCKER_HOST)
    try:
        return list(engine.containers.list(all=True, filters={"label": label}, ignore_removed=True))
    finally:
        engine.close()


def lambda_client(running: front.Running) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=120)
    return boto3.client("lambda", endpoint_url=running.url, region_name="us-east-1", config=config)


def create_image_function(
    client: Any, image: str, name: str, *, handler: str = "ok.handler", **extra: Any
) -> None:
    client.create_function(
        FunctionName=name,
        Role=ROLE,
        PackageType="Image",
        Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{image}"},
        ImageConfig={"Command": [handler]},
        **extra,
    )


def invoke(
    client: Any, name: str, payload: dict[str, Any], **extra: Any
) -> tuple[dict[str, Any], Any]:
    answer = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **extra)
    return answer, json.loads(answer["Payload"].read())


def test_image_function_answers_with_the_handlers_body(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(
        client,
        function_image,
        "predict",
        MemorySize=2048,
        Timeout=30,
        Environment={"Variables": {"GREETING": "hello"}},
    )
    answer, body = invoke(client, "predict", {"name": "first"})
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert json.loads(body["body"]) == {
        "name": "first",
        "memory": "2048",
        "version": "$LATEST",
        "greeting": "hello",
        "remaining_ms_positive": True,
    }


def test_alias_invokes_the_version_it_points_at(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(
        client, function_image, "aliased", Environment={"Variables": {"GREETING": "v1"}}
    )
    version = client.publish_version(FunctionName="aliased")["Version"]
    client.create_alias(FunctionName="aliased", Name="live", FunctionVersion=version)
    client.update_function_configuration(
        FunctionName="aliased", Environment={"Variables": {"GREETING": "latest"}}
    )
    answer, body = invoke(client, "aliased", {}, Qualifier="live")
    assert answer["ExecutedVersion"] == version
    assert json.loads(body["body"])["greeting"] == "v1"
    _, latest = invoke(client, "aliased", {})
    assert json.loads(latest["body"])["greeting"] == "latest"


def test_a_handler_that_raises_is_a_function_error(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(client, function_image, "raises", handler="raises.handler")
    answer, body = invoke(client, "raises", {"date": "2025-10-20"})
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "no model for date 2025-10-20"


def test_an_import_error_is_the_runtimes_init_error(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(client, function_image, "broken", handler="broken.handler")
    answer, body = invoke(client, "broken", {})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == (
        "Unable to import module 'broken': No module named 'model_weights_loader'"
    )


def test_a_handler_past_its_timeout_is_ended(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(client, function_image, "slow", handler="slow.handler", Timeout=2)
    answer, body = invoke(client, "slow", {})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 2.00 seconds")


def test_a_runtime_that_exits_is_an_exit_error(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(client, function_image, "exits", handler="exits.handler")
    answer, body = invoke(client, "exits", {})
    assert answer["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "Error: Runtime exited with error: exit status 3",
    }


def test_an_image_never_pushed_cannot_start(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    missing = function_image.split("@")[0] + "@sha256:" + "0" * 64
    create_image_function(client, missing, "unpushed")
    with pytest.raises(client.exceptions.ResourceConflictException) as raised:
        client.invoke(FunctionName="unpushed", Payload=b"{}")
    message = raised.value.response["Error"]["Message"]
    assert message.startswith(
        "The function unpushed:$LATEST cannot start in the sandbox: cannot pull"
    )


def test_zip_function_runs_with_its_package_at_var_task(
    lambda_endpoint: front.Running, function_image: str
) -> None:
    client = lambda_client(lambda_endpoint)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", HANDLERS["ok.py"])
    client.create_function(
        FunctionName="zipped",
        Role=ROLE,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
        MemorySize=256,
    )
    answer, body = invoke(client, "zipped", {"name": "zip"})
    assert "FunctionError" not in answer
    assert json.loads(body["body"])["memory"] == "256"


def zip_of(source: str) -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", source)
    return package.getvalue()


def test_new_code_gets_a_new_environment(lambda_endpoint: front.Running) -> None:
    client = lambda_client(lambda_endpoint)
    client.create_function(
        FunctionName="recoded",
        Role=ROLE,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": zip_of("def handler(event, context):\n    return 'first'\n")},
    )
    assert invoke(client, "recoded", {})[1] == "first"
    client.update_function_code(
        FunctionName="recoded",
        ZipFile=zip_of("def handler(event, context):\n    return 'second'\n"),
    )
    assert invoke(client, "recoded", {})[1] == "second"


def private_bucket(moto_url: str, name: str) -> Any:
    """An S3 bucket as Terraform's buckets module leaves it: public access blocked, so only a
    signed request reads its objects."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_zip_function_from_s3_runs_the_object_it_was_created_from(
    lambda_endpoint: front.Running, moto_endpoint: str
) -> None:
    """As Terraform creates one (s3_bucket, s3_key, s3_object_version): Lambda copies the
    object at CreateFunction, so overwriting it later changes nothing until UpdateFunctionCode."""
    s3 = private_bucket(moto_endpoint, "artifacts")
    first = s3.put_object(
        Bucket="artifacts",
        Key="lambda/etl.zip",
        Body=zip_of("def handler(event, context):\n    return 'from s3'\n"),
    )
    client = lambda_client(lambda_endpoint)
    client.create_function(
        FunctionName="from-s3",
        Role=ROLE,
        Runtime="python3.12",
        Handler="app.handler",
        Code={
            "S3Bucket": "artifacts",
            "S3Key": "lambda/etl.zip",
            "S3ObjectVersion": first["VersionId"],
        },
        Publish=True,
    )
    s3.put_object(
        Bucket="artifacts",
        Key="lambda/etl.zip",
        Body=zip_of("def handler(event, context):\n    return 'overwritten'\n"),
    )
    answer, body = invoke(client, "from-s3", {}, Qualifier="1")
    assert "FunctionError" not in answer, body
    assert body == "from s3"
    client.update_function_code(
        FunctionName="from-s3", S3Bucket="artifacts", S3Key="lambda/etl.zip"
    )
    assert invoke(client, "from-s3", {})[1] == "overwritten"


def test_a_package_that_cannot_be_read_fails_the_call_as_lambda_does(
    lambda_endpoint: front.Running, moto_endpoint: str
) -> None:
    private_bucket(moto_endpoint, "empty-artifacts")
    client = lambda_client(lambda_endpoint)
    with pytest.raises(client.exceptions.InvalidParameterValueException) as raised:
        client.create_function(
            FunctionName="no-object",
            Role=ROLE,
            Runtime="python3.12",
            Handler="app.handler",
            Code={"S3Bucket": "empty-artifacts", "S3Key": "missing.zip"},
        )
    assert raised.value.response["Error"]["Message"] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. "
        "S3 Error Message: The specified key does not exist."
    )
    with pytest.raises(client.exceptions.InvalidParameterValueException) as raised:
        client.create_function(
            FunctionName="not-a-zip",
            Role=ROLE,
            Runtime="python3.12",
            Handler="app.handler",
            Code={"ZipFile": b"def handler(event, context): pass"},
        )
    assert raised.value.response["Error"]["Message"] == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    # Nothing half-made: neither function exists.
    assert client.list_functions()["Functions"] == []


def test_dry_run_and_event_invocations(lambda_endpoint: front.Running, function_image: str) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(client, function_image, "typed")
    assert client.invoke(FunctionName="typed", InvocationType="DryRun")["StatusCode"] == 204
    assert client.invoke(FunctionName="typed", InvocationType="Event")["StatusCode"] == 202


def test_warm_environment_is_reused(lambda_endpoint: front.Running, function_image: str) -> None:
    client = lambda_client(lambda_endpoint)
    create_image_function(client, function_image, "warm")
    invoke(client, "warm", {"name": "one"})
    invoke(client, "warm", {"name": "two"})
    assert len(containers_labelled("deploytools.workload=lambda:warm")) == 1


# --- API Gateway HTTP APIs -------------------------------------------------------------------


def test_loopback_url_keeps_the_execute_api_host_as_first_segment() -> None:
    url = "https://abc123.execute-api.us-east-1.amazonaws.com/predict?x=1"
    assert apigateway.loopback_url(url, "http://127.0.0.1:9000/") == (
        "http://127.0.0.1:9000/abc123.execute-api.us-east-1.amazonaws.com/predict?x=1"
    )
    assert apigateway.loopback_url("https://example.com/predict", "http://127.0.0.1:9000") is None


def test_routes_match_as_api_gateway_matches_them() -> None:
    routes = [
        {"RouteKey": key}
        for key in ("GET /items/{id}", "ANY /items/{proxy+}", "GET /items/all", "$default")
    ]
    match = apigateway.match_route
    assert match(routes, "GET", "/items/all") == ({"RouteKey": "GET /items/all"}, {})
    assert match(routes, "GET", "/items/7") == ({"RouteKey": "GET /items/{id}"}, {"id": "7"})
    assert match(routes, "POST", "/items/7/parts") == (
        {"RouteKey": "ANY /items/{proxy+}"},
        {"proxy": "7/parts"},
    )
    assert match(routes, "GET", "/other") == ({"RouteKey": "$default"}, {})
    assert match(routes[:3], "GET", "/other") is None


@pytest.fixture
def http_api(lambda_endpoint: front.Running, moto_endpoint: str) -> Iterator[str]:
    """The base URL of the loopback HTTP API server, in front of the Lambda front."""
    running = apigateway.serve(moto_endpoint, lambda_endpoint.url)
    try:
        yield running.url
    finally:
        running.stop()


def create_http_api(moto_endpoint: str, function_arn: str, routes: list[str]) -> str:
    """An HTTP API (as Terraform creates the example's) whose routes go to `function_arn`;
    returns its endpoint as moto reports it."""
    client = boto3.client("apigatewayv2", endpoint_url=moto_endpoint, region_name="us-east-1")
    api = client.create_api(Name=f"api-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")
    integration = client.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=function_arn,
        PayloadFormatVersion="2.0",
        TimeoutInMillis=30000,
    )
    for key in routes:
        client.create_route(
            ApiId=api["ApiId"],
            RouteKey=key,
            Target=f"integrations/{integration['IntegrationId']}",
        )
    client.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return str(api["ApiEndpoint"])


def aliased_function(client: Any, image: str, name: str, handler: str, **extra: Any) -> str:
    create_image_function(client, image, name, handler=handler, Timeout=60, **extra)
    version = client.publish_version(FunctionName=name)["Version"]
    alias = client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return str(alias["AliasArn"])


def test_an_api_route_answers_with_the_handlers_body(
    lambda_endpoint: front.Running, function_image: str, http_api: str, moto_endpoint: str
) -> None:
    client = lambda_client(lambda_endpoint)
    arn = aliased_function(client, function_image, "routed", "cold.handler")
    endpoint = create_http_api(moto_endpoint, arn, ["POST /predict", "GET /items/{id}"])
    url = apigateway.loopback_url(endpoint, http_api)
    assert url is not None
    answer = requests.post(f"{url}/predict?debug=1", data='{"date": "2025-10-20"}', timeout=60)
    assert answer.status_code == 201
    assert answer.headers["X-Model"] == "loaded"
    assert answer.json() == {
        "rawPath": "/predict",
        "routeKey": "POST /predict",
        "body": '{"date": "2025-10-20"}',
        "stage": "$default",
        "host": endpoint.split("://", 1)[1],
        "query": {"debug": "1"},
        "params": None,
    }
    assert requests.get(f"{url}/items/7", timeout=60).json()["params"] == {"id": "7"}
    missing = requests.get(f"{url}/nowhere", timeout=60)
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})


def test_a_function_error_is_api_gateways_500(
    lambda_endpoint: front.Running, function_image: str, http_api: str, moto_endpoint: str
) -> None:
    client = lambda_client(lambda_endpoint)
    arn = aliased_function(client, function_image, "failing", "raises.handler")
    url = apigateway.loopback_url(create_http_api(moto_endpoint, arn, ["POST /predict"]), http_api)
    answer = requests.post(f"{url}/predict", data="{}", timeout=60)
    assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})


def test_a_cold_start_past_the_integration_timeout_is_503_then_a_retry_succeeds(
    lambda_endpoint: front.Running,
    function_image: str,
    http_api: str,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The DistilBERT cold start, scaled down: the model loads for 4 s at init, the API's
    limit is 2 s (DEPLOYTOOLS_SANDBOX_API_TIMEOUT_SECONDS; 29 s by default)."""
    monkeypatch.setenv(apigateway.TIMEOUT_VARIABLE, "2")
    client = lambda_client(lambda_endpoint)
    arn = aliased_function(
        client,
        function_image,
        "cold",
        "cold.handler",
        Environment={"Variables": {"MODEL_LOAD_SECONDS": "4"}},
    )
    url = apigateway.loopback_url(create_http_api(moto_endpoint, arn, ["POST /predict"]), http_api)
    started = time.monotonic()
    first = requests.post(f"{url}/predict", data="{}", timeout=60)
    assert (first.status_code, first.json()) == (503, {"message": "Service Unavailable"})
    assert 2 <= time.monotonic() - started < 3.5
    statuses = [first.status_code]
    delay = 1.0
    while statuses[-1] != 201 and len(statuses) < 6:
        time.sleep(delay)
        delay *= 2
        statuses.append(requests.post(f"{url}/predict", data="{}", timeout=60).status_code)
    assert statuses[-1] == 201, statuses
    assert set(statuses[:-1]) == {503}


# --- the sandbox process -----------------------------------------------------------------------


def test_the_sandbox_serves_functions_and_apis_and_removes_their_containers(
    function_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sandbox up` registers the Lambda front and the HTTP API server; `sandbox down` ends
    the function containers it started."""
    from deploytools.cli import main
    from deploytools.sandbox import state

    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", support.DOCKER_HOST)
    assert main(["sandbox", "up", "--json"]) == 0
    try:
        running = state.read()
        assert running is not None
        moto_url = running.aws_url
        boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1").create_role(
            RoleName="sandbox-lambda-test", AssumeRolePolicyDocument="{}"
        )
        client = boto3.client(
            "lambda",
            endpoint_url=running.endpoints["lambda"],
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=120),
        )
        arn = aliased_function(client, function_image, "served", "cold.handler")
        url = apigateway.sandbox_url(create_http_api(moto_url, arn, ["GET /health"]))
        assert url is not None and url.startswith(running.serving["apigateway"] + "/")
        answer = requests.get(f"{url}/health", timeout=60)
        assert answer.status_code == 201
        assert answer.json()["routeKey"] == "GET /health"
    finally:
        assert main(["sandbox", "down"]) == 0
    assert containers_labelled(f"deploytools.sandbox={containers.sandbox_id()}") == []
