"""Only secrets are masked: GitHub cannot unmask, so a masked word is hidden for the whole run."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from deploytools.output.mask import forget_all, redact, register_secret
from deploytools.steps.terraform import plan as planlib


@pytest.fixture(autouse=True)
def _empty_registry() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


def test_item_08_values_shorter_than_four_characters_are_not_masked_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        register_secret("PUT")
        register_secret("GET")
    assert redact("platform WEB_COMPUTE, PUT /items") == "platform WEB_COMPUTE, PUT /items"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "a secret value is shorter than 4 characters and is not masked (masking it would "
        "garble every line that contains those characters): use a longer secret"
    ]
    register_secret("s3cr")
    assert redact("key s3cr") == "key ***"


def test_item_08_a_tainted_structured_output_masks_only_secret_like_leaves() -> None:
    plan = {
        "output_changes": {
            "routes": {
                "after": {
                    "methods": ["GET", "PUT"],
                    "url": "http://localhost:3000",
                    "platform": "WEB_COMPUTE",
                    "token": "tok-9f8e7d6c5b",
                    "dsn": "postgres://app:hunter22@db:5432/app",
                },
                "after_sensitive": True,
            },
            "password": {"after": "pw-12", "after_sensitive": True},
            "public": {"after": "http://example.invalid", "after_sensitive": False},
        }
    }
    assert planlib.sensitive_values(plan) == {
        "tok-9f8e7d6c5b",
        "postgres://app:hunter22@db:5432/app",
        "pw-12",  # a sensitive string is a secret, whatever it looks like
    }
