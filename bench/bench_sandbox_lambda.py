"""Sandbox Lambda invokes: cold (a new container and runtime) vs warm (the same environment).

An Image function from the stand-in Lambda base, pushed to the loopback registry, invoked
through the sandbox's Lambda front (moto's server in this process, the machine's Docker engine
and registry: `scripts/services up`, `scripts/base-images`). Prints; asserts nothing.

    python bench/bench_sandbox_lambda.py            # 5 cold, 50 warm
    python bench/bench_sandbox_lambda.py --tiny     # 1 cold, 3 warm
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCKER_HOST = "unix:///run/deploytools/docker.sock"
REGISTRY = os.environ.get("DEPLOYTOOLS_REGISTRY", "127.0.0.1:5055")
ACCOUNT = "123456789012"
HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def push_image(work: Path) -> str:
    import docker

    (work / "app.py").write_text(HANDLER)
    (work / "Dockerfile").write_text(
        "FROM public.ecr.aws/lambda/python:3.12\n"
        "COPY app.py ${LAMBDA_TASK_ROOT}/\n"
        'CMD ["app.handler"]\n'
    )
    repository = f"bench/lambda-{uuid.uuid4().hex[:8]}"
    client = docker.DockerClient(base_url=DOCKER_HOST, timeout=300)
    try:
        client.images.build(path=str(work), tag=f"{REGISTRY}/{repository}:v1", rm=True)
        client.images.push(f"{REGISTRY}/{repository}", tag="v1")
        digest = client.images.get_registry_data(f"{REGISTRY}/{repository}:v1").id
    finally:
        client.close()
    return f"{repository}@{digest}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="1 cold and 3 warm invokes")
    args = parser.parse_args()
    colds, warms = (1, 3) if args.tiny else (5, 50)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DOCKER_HOST": DOCKER_HOST,
    }.items():
        os.environ[name] = value

    import boto3
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    from deploytools.sandbox.lambda_runtime import front

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        image = push_image(Path(tmp))
        running = front.serve(
            moto_url, work_dir=Path(tmp) / "lambda", registry=REGISTRY, sandbox_id="bench"
        )
        try:
            boto3.client("iam", endpoint_url=moto_url).create_role(
                RoleName="bench", AssumeRolePolicyDocument="{}"
            )
            client = boto3.client(
                "lambda",
                endpoint_url=running.url,
                config=Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=120),
            )
            cold, warm = [], []
            for index in range(colds):
                name = f"bench-{index}"
                client.create_function(
                    FunctionName=name,
                    Role=f"arn:aws:iam::{ACCOUNT}:role/bench",
                    PackageType="Image",
                    Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{image}"},
                )
                started = time.perf_counter()
                client.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()
                cold.append(time.perf_counter() - started)
            for _ in range(warms):
                started = time.perf_counter()
                client.invoke(FunctionName="bench-0", Payload=b"{}")["Payload"].read()
                warm.append(time.perf_counter() - started)
        finally:
            running.stop()
            moto.stop()
    cold_median, warm_median = statistics.median(cold), statistics.median(warm)
    print(f"cold invoke (new container + runtime), median of {colds}: {cold_median * 1000:8.1f} ms")
    print(f"warm invoke (reused environment), median of {warms}:   {warm_median * 1000:8.1f} ms")
    print(f"warm/cold ratio: {warm_median / cold_median:.3f}")


if __name__ == "__main__":
    main()
