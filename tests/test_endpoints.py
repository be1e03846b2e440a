"""The wording of an AWS endpoint that stopped answering, found through an error's chain."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from deploytools.errors import DeployError
from deploytools.lib import endpoints

ADVICE = (
    "the AWS endpoint http://127.0.0.1:9/ stopped answering; check that it is running (the "
    "sandbox: deploytools sandbox status; AWS: this machine's network and any "
    "AWS_ENDPOINT_URL setting), then run the command again"
)


def _refused() -> DeployError:
    """What a step raises when its endpoint refuses the connection (port 9: nothing there)."""
    ssm = boto3.client(
        "ssm",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    try:
        ssm.get_parameter(Name="/x")
    except EndpointConnectionError as exc:
        try:
            raise DeployError(f"cannot read the deploy lock /x: {exc}") from exc
        except DeployError as wrapped:
            return wrapped
    pytest.fail("something answered on 127.0.0.1:9")


def test_an_unreachable_endpoint_is_found_through_the_chain() -> None:
    error = _refused()
    down = endpoints.unreachable(error)
    assert down is not None and down.url == "http://127.0.0.1:9/"
    assert endpoints.operation(str(error), down) == "cannot read the deploy lock /x"


def test_the_message_gains_the_advice_once() -> None:
    error = _refused()
    explained = endpoints.explained(str(error), error)
    assert explained == f"{error}; {ADVICE}"
    assert endpoints.explained(explained, error) == explained


def test_other_errors_are_left_as_they_are() -> None:
    try:
        raise DeployError("image api: build failed") from ValueError("no")
    except DeployError as error:
        assert endpoints.unreachable(error) is None
        assert endpoints.explained(str(error), error) == "image api: build failed"
