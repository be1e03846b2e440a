"""A Lambda handler that loads its model once per execution environment, not per request."""

from __future__ import annotations

import json
import os
from typing import Any

MODEL_NAME = os.environ.get("MODEL_NAME", "baseline")


def _load_model() -> dict[str, Any]:
    # Loaded at init, outside the handler: warm invocations skip this cost.
    return {"name": MODEL_NAME, "bias": float(os.environ.get("MODEL_BIAS", "0"))}


MODEL = _load_model()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    body = json.loads(event.get("body") or "{}")
    value = float(body.get("x", 0)) + MODEL["bias"]
    return {"statusCode": 200, "body": json.dumps({"model": MODEL["name"], "prediction": value})}
