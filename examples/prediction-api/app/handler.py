"""Predicts a value for a date; the model loads once per container (cold start)."""

import json
import os

MODEL_NAME = os.environ.get("MODEL_NAME", "date-regressor")
API_KEY = os.getenv("MODEL_API_KEY")


def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    if event.get("rawPath", "").endswith("/health"):
        return {"statusCode": 200, "body": json.dumps({"ok": True, "model": MODEL_NAME})}
    date = body.get("date", "1970-01-01")
    prediction = sum(int(part) for part in date.split("-")) % 100
    return {"statusCode": 200, "body": json.dumps({"date": date, "prediction": prediction})}
