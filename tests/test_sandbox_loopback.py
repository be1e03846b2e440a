"""In the sandbox, deploytools calls loopback addresses only; other URLs are skipped by name."""

from __future__ import annotations

import io

import pytest

from deploytools.config.model import LambdaTarget
from deploytools.output import Reporter
from deploytools.pipeline.policy import is_loopback, loopback_only


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


def test_warmup_to_a_public_url_is_dropped_and_said() -> None:
    out = io.StringIO()
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"url": "https://x.lambda-url.on.aws/"}}
    )
    changed = loopback_only(target, Reporter(out=out))
    assert changed.warmup is None
    assert out.getvalue() == (
        "  warm-up https://x.lambda-url.on.aws/: skipped in the sandbox (not a loopback address)\n"
    )


def test_loopback_warmup_is_kept() -> None:
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"url": "http://127.0.0.1:9/"}}
    )
    assert loopback_only(target, Reporter(out=io.StringIO())) is target


def test_warmup_by_invoke_is_dropped_and_said() -> None:
    out = io.StringIO()
    target = LambdaTarget.model_validate(
        {"type": "lambda", "image": "api", "warmup": {"method": "POST", "body": "{}"}}
    )
    assert loopback_only(target, Reporter(out=out)).warmup is None
    assert out.getvalue() == (
        "  warm-up by invoke: skipped in the sandbox (moto cannot run the function)\n"
    )
