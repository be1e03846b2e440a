"""In the sandbox, deploytools calls loopback addresses only: API Gateway's execute-api URLs
are called where the sandbox serves them, other URLs are left out and said `simulated:`."""

from __future__ import annotations

import io

import pytest

from deploytools.config.model import LambdaTarget
from deploytools.output import Reporter
from deploytools.pipeline.policy import AwsPolicy, SandboxPolicy, is_loopback, loopback_only

API = "https://abc123.execute-api.us-east-1.amazonaws.com"
BASE = "http://127.0.0.1:4599"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/health", True),
        ("http://localhost/x", True),
        ("http://[::1]:9000/", True),
        ("https://abc.execute-api.us-east-1.amazonaws.com/health", False),
        ("http://10.0.0.5/health", False),
        ("http://172.17.0.2/health", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_warmup_to_a_url_no_sandbox_server_answers_is_dropped_and_said_simulated() -> None:
    out = io.StringIO()
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"url": "https://x.lambda-url.on.aws/"}}
    )
    changed = loopback_only(target, Reporter(out=out), SandboxPolicy(api_base=BASE))
    assert changed.warmup is None
    assert out.getvalue() == (
        "simulated: warm-up https://x.lambda-url.on.aws/ was not executed (not a loopback "
        "address, and no sandbox server answers it)\n"
    )


def test_loopback_warmup_is_kept() -> None:
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"url": "http://127.0.0.1:9/"}}
    )
    assert loopback_only(target, Reporter(out=io.StringIO()), SandboxPolicy()) is target


def test_warmup_by_invoke_is_kept_in_the_sandbox() -> None:
    """The sandbox's Lambda front runs the function's container, so an invoke warm-up runs."""
    out = io.StringIO()
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"method": "POST", "body": "{}"}}
    )
    assert loopback_only(target, Reporter(out=out), SandboxPolicy()) is target
    assert out.getvalue() == ""


def test_execute_api_warmup_goes_to_the_loopback_url_said_once() -> None:
    out = io.StringIO()
    reporter = Reporter(out=out)
    policy = SandboxPolicy(api_base=BASE)
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"url": f"{API}/predict", "method": "POST"}}
    )
    first = loopback_only(target, reporter, policy)
    second = loopback_only(target, reporter, policy)
    assert first.warmup is not None and second.warmup is not None
    assert first.warmup.url == f"{BASE}/abc123.execute-api.us-east-1.amazonaws.com/predict"
    assert first.warmup.method == "POST"
    assert policy.served_at(f"{API}/health", reporter) == (
        f"{BASE}/abc123.execute-api.us-east-1.amazonaws.com/health"
    )
    assert out.getvalue() == (
        f"sandbox: {API} is served at {BASE}/abc123.execute-api.us-east-1.amazonaws.com\n"
    )


def test_execute_api_without_a_sandbox_api_server_is_not_served() -> None:
    policy = SandboxPolicy()
    assert policy.served_at(f"{API}/health", Reporter(out=io.StringIO())) is None
    assert not policy.reachable(f"{API}/health")
    assert SandboxPolicy(api_base=BASE).reachable(f"{API}/health")


def test_against_aws_every_url_is_called_as_it_is() -> None:
    out = io.StringIO()
    assert AwsPolicy().served_at(f"{API}/x", Reporter(out=out)) == f"{API}/x"
    assert out.getvalue() == ""
