"""AutoML API: registers datasets and submits training jobs to Batch."""

import json
import os

S3_BUCKET_DATASETS = os.environ["S3_BUCKET_DATASETS"]
BATCH_JOB_QUEUE = os.environ["BATCH_JOB_QUEUE"]
BATCH_JOB_DEFINITION = os.environ["BATCH_JOB_DEFINITION"]
JWT_SECRET = os.environ["JWT_SECRET"]


def container_overrides(job_id: str, dataset_id: str, target_column: str) -> dict:
    return {
        "environment": [
            {"name": "JOB_ID", "value": job_id},
            {"name": "DATASET_ID", "value": dataset_id},
            {"name": "TARGET_COLUMN", "value": target_column},
            {"name": "S3_BUCKET_DATASETS", "value": S3_BUCKET_DATASETS},
        ]
    }


def handler(event, context):
    if event.get("rawPath") == "/health":
        return {"statusCode": 200, "body": json.dumps({"ok": True})}
    body = json.loads(event.get("body") or "{}")
    overrides = container_overrides(body["job_id"], body["dataset_id"], body["target"])
    return {"statusCode": 202, "body": json.dumps({"queue": BATCH_JOB_QUEUE, **overrides})}
