"""Build, push, verify and skip, for real: the Docker engine builds, a real registry on
loopback stands in for ECR's data plane and moto's server for its control plane, through the
same registry_override the sandbox uses."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from deploytools.aws import AwsContext
from deploytools.lib.ecr_image import DOCKER_V2, OCI_INDEX, OCI_MANIFEST
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter
from deploytools.steps.images import (
    BuildFailed,
    BuildImages,
    ImageRejected,
    ImageResult,
    RepositoryMissing,
    build_images,
    image_tag,
    plan_images,
)
from deploytools.steps.images.builder import BuildRequest, Progress, SdkBuilder
from deploytools.steps.images.registry import Endpoint
from deploytools.steps.release import deployed_commit
from tests.fixtures.images.apps import env_config

FAST = Backoff(attempts=3, first=0.01)


class CountingBuilder:
    """The real legacy builder, counting what it is asked to build."""

    def __init__(self, inner: SdkBuilder) -> None:
        self.inner = inner
        self.name = inner.name
        self.built: list[str] = []

    def build(self, request: BuildRequest, *, push: Endpoint | None, progress: Progress) -> None:
        self.built.append(request.tags[0])
        self.inner.build(request, push=push, progress=progress)

    def has_image(self, ref: str) -> bool:
        return self.inner.has_image(ref)

    def image_id(self, ref: str) -> str | None:
        return self.inner.image_id(ref)

    def capacity(self) -> int:
        return self.inner.capacity()


@pytest.fixture
def builder(docker_engine: Any) -> CountingBuilder:
    return CountingBuilder(SdkBuilder(docker_engine, backoff=FAST))


def publish(
    aws: AwsContext | None,
    root: Path,
    registry: str,
    builder: CountingBuilder,
    out: io.StringIO | None = None,
    **options: Any,
) -> list[ImageResult]:
    request = BuildImages(root=root, registry_override=registry, backoff=FAST, **options)
    reporter = Reporter(out=out or io.StringIO(), err=io.StringIO())
    return build_images(aws, env_config(root), request, reporter=reporter, builder=builder)


def registry_manifest(registry: str, repository: str, reference: str) -> bytes:
    response = requests.get(
        f"http://{registry}/v2/{repository}/manifests/{reference}",
        headers={"Accept": f"{DOCKER_V2}, {OCI_MANIFEST}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.content


def test_built_pushed_verified_then_nothing_to_do(
    images_app: Path, moto_server_aws: AwsContext, registry: str, builder: CountingBuilder
) -> None:
    first = publish(moto_server_aws, images_app, registry, builder)
    assert [(r.name, r.built, r.pushed) for r in first] == [("fn", True, True), ("api", True, True)]
    assert len(builder.built) == 2
    ecr = moto_server_aws.client("ecr")
    for result in first:
        # the registry (data plane) holds the image; its manifest digest is what we deploy
        body = registry_manifest(registry, result.repository, result.tag)
        assert result.digest == "sha256:" + hashlib.sha256(body).hexdigest()
        manifest = json.loads(body)
        config = requests.get(
            f"http://{registry}/v2/{result.repository}/blobs/{manifest['config']['digest']}",
            timeout=10,
        ).json()
        assert (config["os"], config["architecture"]) == ("linux", "amd64")
        # ECR's control plane knows it by that digest (how a Lambda target checks the image)
        found = ecr.describe_images(
            repositoryName=result.repository, imageIds=[{"imageDigest": result.digest}]
        )["imageDetails"]
        assert found[0]["imageTags"] == [result.tag]
        assert result.uri == f"{result.repository_uri}@{result.digest}"
        assert result.repository_uri.endswith(
            f".dkr.ecr.us-east-1.amazonaws.com/{result.repository}"
        )
        repo = ecr.describe_repositories(repositoryNames=[result.repository])["repositories"][0]
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfiguration"]["encryptionType"] == "AES256"

    out = io.StringIO()
    second = publish(moto_server_aws, images_app, registry, builder, out=out)
    assert len(builder.built) == 2  # nothing built, nothing pushed
    assert [(r.built, r.pushed) for r in second] == [(False, False), (False, False)]
    assert [r.digest for r in second] == [r.digest for r in first]
    assert f"image fn: {first[0].repository}:{first[0].tag} already in ECR" in out.getvalue()
    assert "(build and push skipped)" in out.getvalue()


def test_a_sent_file_changes_the_tag_an_ignored_file_does_not(
    images_app: Path, moto_server_aws: AwsContext, registry: str, builder: CountingBuilder
) -> None:
    (first,) = publish(moto_server_aws, images_app, registry, builder, names=["fn"])
    (images_app / "app" / "debug.log").write_text("ignored by **/*.log\n")
    (images_app / "secrets" / "token.txt").write_text("ignored by secrets/\n")
    (same,) = publish(moto_server_aws, images_app, registry, builder, names=["fn"])
    assert (same.tag, same.digest, same.built) == (first.tag, first.digest, False)
    (images_app / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    (changed,) = publish(moto_server_aws, images_app, registry, builder, names=["fn"])
    assert changed.tag != first.tag and changed.digest != first.digest and changed.built
    assert len(builder.built) == 2


def test_plan_says_what_build_would_do(
    images_app: Path, moto_server_aws: AwsContext, registry: str, builder: CountingBuilder
) -> None:
    env = env_config(images_app)
    before = plan_images(moto_server_aws, env, root=images_app)
    assert [(p.name, p.in_ecr, p.create_repository) for p in before] == [
        ("fn", False, True),
        ("api", False, True),
    ]
    assert before[0].action == "build, push (create repository)"
    results = publish(moto_server_aws, images_app, registry, builder)
    after = plan_images(moto_server_aws, env, root=images_app)
    assert [(p.tag, p.digest, p.in_ecr) for p in after] == [
        (r.tag, r.digest, True) for r in results
    ]
    assert after[0].action == "skip (content tag in ECR)"


def index_manifest(platform: str = "amd64") -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "sha256:" + "a" * 64,
                    "size": 480,
                    "platform": {"architecture": platform, "os": "linux"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "sha256:" + "b" * 64,
                    "size": 566,
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                    "platform": {"architecture": "unknown", "os": "unknown"},
                },
            ],
        }
    )


def test_an_oci_index_is_refused_for_the_lambda_image(
    images_app: Path, moto_server_aws: AwsContext, registry: str, builder: CountingBuilder
) -> None:
    """An index pushed by buildx with default attestations (simulated: put into ECR under the
    content tag) is refused for the Lambda image and accepted for the ECS one."""
    env = env_config(images_app)
    ecr = moto_server_aws.client("ecr")
    for name in ("fn", "api"):
        image = env.model.images[name]
        _, tag = image_tag(images_app, image)
        ecr.create_repository(repositoryName=image.repository)
        ecr.put_image(
            repositoryName=image.repository,
            imageManifest=index_manifest(),
            imageManifestMediaType=OCI_INDEX,
            imageTag=tag,
        )
    with pytest.raises(ImageRejected) as caught:
        publish(moto_server_aws, images_app, registry, builder, names=["fn"])
    message = str(caught.value)
    assert "is an OCI image index (2 manifests: linux/amd64, unknown/unknown)" in message
    assert "--provenance=false --sbom=false" in message and "provenance: false" in message
    (api,) = publish(moto_server_aws, images_app, registry, builder, names=["api"])
    assert not api.built
    assert builder.built == []


def test_a_missing_repository_is_not_created_when_told_not_to(
    images_app: Path, moto_server_aws: AwsContext, registry: str, builder: CountingBuilder
) -> None:
    config = images_app / "deploytools.yml"
    config.write_text(
        config.read_text().replace(
            "  fn:\n    context: .\n", "  fn:\n    context: .\n    create_repository: false\n"
        )
    )
    with pytest.raises(RepositoryMissing) as caught:
        publish(moto_server_aws, images_app, registry, builder, names=["fn"])
    assert str(caught.value) == (
        f"ECR repository {env_config(images_app).model.images['fn'].repository} does not exist and "
        "create_repository is false; create it (e.g. Terraform aws_ecr_repository) or set "
        "create_repository: true"
    )
    assert builder.built == []


def test_the_git_sha_is_a_tag_too(
    images_app: Path, moto_server_aws: AwsContext, registry: str, builder: CountingBuilder
) -> None:
    from deploytools import proc

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    proc.run(["git", "init", "-q"], cwd=images_app)
    proc.run(["git", "add", "-A"], cwd=images_app)
    proc.run([*git, "commit", "-q", "-m", "initial"], cwd=images_app)
    sha = proc.run(["git", "rev-parse", "HEAD"], cwd=images_app).stdout.strip()
    commit = deployed_commit(images_app)
    assert commit == sha
    (fn,) = publish(
        moto_server_aws,
        images_app,
        registry,
        builder,
        names=["fn"],
        commit=commit,
        extra_tags=("release-1",),
    )
    assert fn.tags == (fn.tag, sha, "release-1")
    ecr = moto_server_aws.client("ecr")
    for tag in (sha, "release-1"):
        found = ecr.describe_images(repositoryName=fn.repository, imageIds=[{"imageTag": tag}])
        assert found["imageDetails"][0]["imageDigest"] == fn.digest
        body = registry_manifest(registry, fn.repository, tag)
        assert "sha256:" + hashlib.sha256(body).hexdigest() == fn.digest
    (images_app / "VERSION").write_text("2.0.0\n")  # a tracked change: the SHA no longer names it
    assert deployed_commit(images_app) is None
    (changed,) = publish(
        moto_server_aws,
        images_app,
        registry,
        builder,
        names=["fn"],
        commit=deployed_commit(images_app),
    )
    assert changed.tags == (changed.tag,)


def test_a_local_build_needs_no_aws(
    images_app: Path, registry: str, builder: CountingBuilder, docker_engine: Any
) -> None:
    (fn,) = publish(None, images_app, registry, builder, names=["fn"], push=False)
    assert fn.built and not fn.pushed and fn.digest is None
    assert fn.uri == f"{fn.repository}:{fn.tag}"
    image = docker_engine.images.get(fn.uri)
    assert (image.attrs["Os"], image.attrs["Architecture"]) == ("linux", "amd64")
    (again,) = publish(None, images_app, registry, builder, names=["fn"], push=False)
    assert not again.built and len(builder.built) == 1


def test_a_failing_build_shows_the_step_and_its_last_lines(
    images_app: Path,
    moto_server_aws: AwsContext,
    registry: str,
    builder: CountingBuilder,
    busybox_image: str,
) -> None:
    (images_app / "Dockerfile").write_text(
        f"FROM {busybox_image}\nCOPY app/ /app/\nRUN echo compiling the model && false\n"
    )
    out = io.StringIO()
    with pytest.raises(BuildFailed) as caught:
        publish(moto_server_aws, images_app, registry, builder, out=out, names=["fn"])
    message = str(caught.value)
    assert message.startswith(
        "image fn: build failed at Step 3/3 : RUN echo compiling the model && false: "
        "The command '/bin/sh -c echo compiling the model && false' returned a non-zero code: 1\n"
    )
    assert "compiling the model" in message.splitlines()[-1]
    assert "  … fn: Step 1/3 : FROM deploytools/busybox:local" in out.getvalue()
    assert "  … fn: Step 3/3 : RUN echo compiling the model && false" in out.getvalue()
