"""ETL: normalises raw review records into the processed layout."""

import json
import os

RAW_BUCKET = os.environ["RAW_BUCKET"]
PROCESSED_BUCKET = os.environ["PROCESSED_BUCKET"]


def transform(record: dict) -> dict:
    return {
        "restaurant": record.get("name", "").strip().lower(),
        "stars": int(record.get("rating", 0)),
    }


def handler(event, context):
    records = [transform(r) for r in event.get("records", [])]
    return {
        "statusCode": 200,
        "body": json.dumps({"from": RAW_BUCKET, "to": PROCESSED_BUCKET, "records": records}),
    }
