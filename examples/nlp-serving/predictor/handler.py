"""Lambda container handler; the model loads at init, so the first call is slow (cold start)."""

import json
import os

MODEL_NAME = os.environ["MODEL_NAME"]
HF_API_TOKEN = os.environ.get("HF_API_TOKEN")


def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    text = body.get("text", "")
    label = "POSITIVE" if "bad" not in text.lower() else "NEGATIVE"
    return {"statusCode": 200, "body": json.dumps({"label": label, "model": MODEL_NAME})}
