"""The images step on a generated 5,000-file context: first build vs a no-op rerun.

Measured side by side in one run, through the same code `deploy` runs (build_images):

- first build step: content tag, ECR lookup, build with the Docker engine (the legacy builder
  here; buildx where present), push to a real registry on loopback, read back and verify;
- no-op build step: the same call again: content tag and one ECR lookup, nothing built;
- content tag alone: walk the context with its .dockerignore and hash it.

ECR's control plane is moto's server (in this process); the registry and the Docker engine
are the machine's (`scripts/services up`). Prints; asserts nothing. Targets: no-op/first
ratio at most 0.05, content tag under 1 s.

    .venv/bin/python bench/bench_images.py            # 5,000 files
    .venv/bin/python bench/bench_images.py --tiny     # 50 files, to prove it runs
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine_cleanup import remove_images_tagged  # beside this script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCKER_HOST = "unix:///run/deploytools/docker.sock"
REGISTRY = os.environ.get("DEPLOYTOOLS_REGISTRY", "127.0.0.1:5055")
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
IGNORE = """# generated: dependencies, logs and caches stay out of the image
deploytools.yml
node_modules
**/*.log
**/__pycache__
!src/pkg0/keep.log
"""


def generate(root: Path, files: int) -> None:
    """`files` sent files in nested packages, plus ignored noise the walk must not enter."""
    root.mkdir(parents=True)
    for index in range(files):
        path = root / "src" / f"pkg{index % 50}" / f"mod{index % 7}" / f"file{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n" * 40)
    for index in range(max(files // 2, 1)):
        path = root / "node_modules" / f"dep{index % 100}" / f"index{index}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("module.exports = 1;\n")
    (root / "src" / "pkg0" / "debug.log").write_text("noise\n")
    (root / "src" / "pkg0" / "keep.log").write_text("kept by a ! line\n")
    (root / ".dockerignore").write_text(IGNORE)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx/\n")
    project = f"bench{uuid.uuid4().hex[:8]}"
    (root / "deploytools.yml").write_text(
        f"project: {project}\nregion: us-east-1\n"
        "environments:\n  dev:\n    account_id: '123456789012'\n"
        "images:\n  ctx:\n    context: .\n    dockerfile: Dockerfile\n"
    )


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def content_tag_seconds(root: Path, runs: int) -> tuple[list[float], str, int]:
    from deploytools.lib.build_context import load_context
    from deploytools.steps.images.content_tag import content_tag

    def once() -> tuple[str, int]:
        ctx = load_context(root, root / "Dockerfile")
        tag = content_tag(ctx, build_args={}, platform="linux/amd64", target=None)
        return tag, len(ctx.files)

    times, tag, sent = [], "", 0
    for _ in range(runs):
        seconds, (tag, sent) = timed(once)
        times.append(seconds)
    return times, tag, sent


def services_missing(docker_host: str) -> str | None:
    import docker
    import requests

    try:
        docker.DockerClient(base_url=docker_host, timeout=10).ping()
    except Exception as exc:
        return f"no Docker engine at {docker_host} ({exc.__class__.__name__}): scripts/services up"
    try:
        requests.get(f"http://{REGISTRY}/v2/", timeout=3)
    except requests.RequestException:
        return f"no registry at {REGISTRY}: scripts/services up"
    return None


def build_step_seconds(root: Path, docker_host: str) -> tuple[float, float, Any]:
    import docker
    from moto.server import ThreadedMotoServer

    from deploytools.aws import AwsContext
    from deploytools.config import load_config
    from deploytools.output import Reporter
    from deploytools.steps.images import BuildImages, build_images

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        aws = AwsContext(
            "us-east-1", endpoints=dict.fromkeys(("ecr", "sts"), f"http://{host}:{port}")
        )
        env = load_config(root / "deploytools.yml").for_env("dev")

        def step() -> Any:
            reporter = Reporter(out=io.StringIO(), err=io.StringIO())
            request = BuildImages(root=root, registry_override=REGISTRY)
            return build_images(aws, env, request, reporter=reporter)

        first, (built,) = timed(step)
        noops = [timed(step) for _ in range(3)]
        noop = statistics.median(seconds for seconds, _ in noops)
        assert built.built and not any(r[0].built for _, r in noops)
        return first, noop, built
    finally:
        server.stop()
        remove_images_tagged(docker.DockerClient(base_url=docker_host), env.model.project)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000, help="sent files to generate")
    parser.add_argument("--tiny", action="store_true", help="50 files, to prove the bench runs")
    args = parser.parse_args()
    files = 50 if args.tiny else args.files
    for key, value in FAKE_AWS.items():
        os.environ.setdefault(key, value)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    docker_host = (
        os.environ.get("DOCKER_HOST") or os.environ.get("DEPLOYTOOLS_DOCKER_HOST") or DOCKER_HOST
    )
    os.environ["DOCKER_HOST"] = docker_host

    with tempfile.TemporaryDirectory(prefix="bench-images-") as folder:
        root = Path(folder) / "ctx"
        generate(root, files)
        times, tag, sent = content_tag_seconds(root, runs=5)
        print(f"context: {sent} files sent ({files} generated + Dockerfile, .dockerignore, 1 log)")
        print(f"content tag: {tag}")
        print(
            f"content tag time: {times[0]:.3f} s first, {statistics.median(times):.3f} s median "
            f"of {len(times)} (target < 1 s)"
        )
        missing = services_missing(docker_host)
        if missing:
            print(f"build step: skipped: {missing}")
            return 0
        first, noop, built = build_step_seconds(root, docker_host)
        print(f"first build step (build, push, verify): {first:.3f} s -> {built.digest[:19]}…")
        print(f"no-op build step (content tag in ECR): {noop:.3f} s (median of 3)")
        print(f"ratio no-op / first: {noop / first:.4f} (target <= 0.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
