"""Training job: every setting comes from the environment; fail fast on a missing one."""

import os

REQUIRED = ["JOB_ID", "DATASET_ID", "TARGET_COLUMN", "S3_BUCKET_DATASETS"]


def main() -> None:
    missing = [name for name in REQUIRED if not os.getenv(name)]
    if missing:
        raise SystemExit(f"missing environment variables: {missing}")
    job_id = os.environ["JOB_ID"]
    dataset = os.environ["DATASET_ID"]
    target = os.environ["TARGET_COLUMN"]
    bucket = os.environ["S3_BUCKET_DATASETS"]
    print(f"training job {job_id}: s3://{bucket}/{dataset} -> {target}")


if __name__ == "__main__":
    main()
