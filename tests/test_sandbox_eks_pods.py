"""EKS pods as containers: the Kubernetes double's kubelet on the real Docker engine and registry.

Each test pushes small busybox images and lets the workload decide: an image that was never
pushed, a process that exits, a readiness probe that never passes, a healthy httpd. Probe
periods and back-offs are scaled down (probe_scale) so that a 5 s period takes one second.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from deploytools.aws import AwsContext
from deploytools.config.model import EksTarget
from deploytools.output import Reporter, StepRecord
from deploytools.sandbox import containers, k8s
from deploytools.steps.targets import refresher_for
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack
from deploytools.steps.targets.eks import connection
from tests import support
from tests.support import workload_images
from tests.support.workload_images import PushedImage

SANDBOX = support.run_sandbox_id("test-eks-pods")
CLUSTER = "shop-dev"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
SECRET_VALUE = "pod-s3cr3t-91ad"  # a test value that must never be printed
HTTP_READY = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5}
NEVER_READY = {"httpGet": {"path": "/missing", "port": 8080}, "periodSeconds": 5}
ALIVE = {"exec": {"command": ["sh", "-c", "test -f /www/health"]}, "periodSeconds": 5}


@pytest.fixture
def images(docker_engine: Any, registry: str, busybox_image: str) -> dict[str, PushedImage]:
    return {
        "httpd": workload_images.push(
            docker_engine, registry, busybox_image, workload_images.HTTPD
        ),
    }


@pytest.fixture
def double(moto_endpoint: str, docker_engine: Any, registry: str) -> Iterator[k8s.KubeApi]:
    workloads = containers.DockerWorkloads(docker_engine, registry, SANDBOX)
    api = k8s.start(moto_url=moto_endpoint, workloads=workloads, probe_scale=0.2)
    try:
        yield api
    finally:
        api.stop()
        workloads.remove_all()


def call(double: k8s.KubeApi, method: str, path: str, body: Any = None) -> Any:
    token = connection.get_token(AwsContext(region="us-east-1"), CLUSTER)
    headers = {"Authorization": f"Bearer {token}"}
    params = {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/apply-patch+yaml"
        params = {"fieldManager": "test"}
        data = yaml.safe_dump(body)
    answer = requests.request(
        method, f"{double.url}/k8s/{CLUSTER}{path}", headers=headers, params=params, data=data,
        timeout=30,
    )  # fmt: skip
    assert answer.status_code < 300, answer.text
    return answer.json()


def deployment(image: str, replicas: int = 1, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "labels": {"app": "api"}},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": 8,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": image, **container}]},
            },
        },
    }


def wait_for(what: Callable[[], Any], seconds: float = 40) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def pods(double: k8s.KubeApi) -> list[dict[str, Any]]:
    return list(call(double, "GET", "/api/v1/namespaces/default/pods")["items"])


def waiting(double: k8s.KubeApi) -> list[dict[str, Any]]:
    return [
        s["state"]["waiting"]
        for pod in pods(double)
        for s in pod["status"]["containerStatuses"]
        if "waiting" in s["state"]
    ]


def ours(docker_engine: Any) -> list[Any]:
    label = f"{containers.SANDBOX_LABEL}={SANDBOX}"
    return list(
        docker_engine.containers.list(all=True, filters={"label": label}, ignore_removed=True)
    )


def test_an_image_never_pushed_with_bin_false_is_not_running(double: k8s.KubeApi) -> None:
    image = workload_images.never_pushed().ecr_uri
    call(double, "PATCH", f"{DEPLOYMENTS}/api", deployment(image, command=["/bin/false"]))

    backoff = wait_for(lambda: [w for w in waiting(double) if w["reason"] == "ImagePullBackOff"])

    assert backoff == [
        {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    ]
    (pod,) = pods(double)
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["containerStatuses"][0]["ready"] is False
    status = call(double, "GET", f"{DEPLOYMENTS}/api")["status"]
    assert (status["availableReplicas"], status["unavailableReplicas"]) == (0, 1)
    reasons = wait_for(
        lambda: [
            c["reason"]
            for c in call(double, "GET", f"{DEPLOYMENTS}/api")["status"].get("conditions", [])
            if c["reason"] == "ProgressDeadlineExceeded"
        ]
    )
    assert reasons == ["ProgressDeadlineExceeded"]


def test_an_exiting_process_crash_loops_with_its_exit_code(
    double: k8s.KubeApi, images: dict[str, PushedImage]
) -> None:
    image = images["httpd"].ecr_uri
    call(double, "PATCH", f"{DEPLOYMENTS}/api", deployment(image, command=["/bin/false"]))

    crashing = wait_for(
        lambda: [
            s
            for pod in pods(double)
            for s in pod["status"]["containerStatuses"]
            if s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff"
        ]
    )

    assert crashing[0]["lastState"]["terminated"]["exitCode"] == 1
    assert crashing[0]["lastState"]["terminated"]["reason"] == "Error"
    assert crashing[0]["restartCount"] >= 1
    assert "(last exit code 1)" in crashing[0]["state"]["waiting"]["message"]


def test_a_healthy_httpd_pod_becomes_available_with_its_secret_in_the_env(
    double: k8s.KubeApi, images: dict[str, PushedImage], docker_engine: Any
) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "api-keys"},
        "data": {"API_KEY": base64.b64encode(SECRET_VALUE.encode()).decode()},
    }
    call(double, "PATCH", "/api/v1/namespaces/default/secrets/api-keys", secret)
    env = [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "api-keys", "key": "API_KEY"}}},
    ]
    manifest = deployment(
        images["httpd"].ecr_uri, replicas=2, env=env, readinessProbe=HTTP_READY,
        livenessProbe=ALIVE,
    )  # fmt: skip
    call(double, "PATCH", f"{DEPLOYMENTS}/api", manifest)

    status = wait_for(
        lambda: (
            (s := call(double, "GET", f"{DEPLOYMENTS}/api")["status"]).get("availableReplicas") == 2
            and s
        )
    )

    assert (status["readyReplicas"], status["updatedReplicas"], status["replicas"]) == (2, 2, 2)
    assert status["observedGeneration"] == 1
    (progressing,) = [c for c in status["conditions"] if c["type"] == "Progressing"]
    assert progressing["reason"] == "NewReplicaSetAvailable"
    running = ours(docker_engine)
    assert len(running) == 2
    for container in running:
        assert container.attrs["HostConfig"]["NetworkMode"] == "none"
        code, output = container.exec_run(["sh", "-c", 'test "$API_KEY" = "$EXPECTED"'],
                                          environment={"EXPECTED": SECRET_VALUE})  # fmt: skip
        assert code == 0, output
        assert container.labels[containers.WORKLOAD_LABEL] == f"eks:{CLUSTER}/default/api"
    assert SECRET_VALUE not in json.dumps(pods(double))  # the env names the Secret, no value
    # `sandbox down` removes containers by the sandbox's label: these are all of them.
    assert containers.remove_labelled(docker_engine, SANDBOX) == 2
    assert ours(docker_engine) == []


def test_a_failing_readiness_probe_blocks_the_rollout_and_the_refresher_rolls_back(
    moto_endpoint: str,
    double: k8s.KubeApi,
    images: dict[str, PushedImage],
    docker_engine: Any,
    tmp_path: Path,
) -> None:
    aws = AwsContext(
        region="us-east-1",
        endpoints={"sts": moto_endpoint, "iam": moto_endpoint, "eks": double.url},
    )
    aws.client("eks").create_cluster(
        name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={}
    )
    manifests = tmp_path / "k8s"
    manifests.mkdir()
    good = deployment("placeholder", replicas=1, readinessProbe=HTTP_READY)
    (manifests / "deployment.yaml").write_text(yaml.safe_dump(good))
    target = EksTarget.model_validate(
        {"type": "eks", "cluster": CLUSTER, "deployment": "api", "image": "api",
         "manifests": "k8s", "timeout": 60}
    )  # fmt: skip
    polling = replace(STATUS_POLLING, first=0.2)
    reporter = Reporter(out=io.StringIO(), err=io.StringIO())
    refresher = refresher_for(
        "api", target, aws=aws, reporter=reporter, root=tmp_path, polling=polling
    )
    image = images["httpd"].ecr_uri
    first = refresher.refresh(RefreshInputs(image=image), StepRecord("api"))
    assert first.revision == "1"
    serving = {c.id for c in ours(docker_engine)}
    assert len(serving) == 1

    bad = deployment("placeholder", replicas=1, readinessProbe=NEVER_READY)
    (manifests / "deployment.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(RolledBack) as caught:
        refresher.refresh(RefreshInputs(image=image), StepRecord("api"))

    message = str(caught.value)
    assert 'deployment "api" exceeded its progress deadline: ReplicaSet "api-' in message
    assert f"rolled back to the template of revision 1 ({image}), now revision 3" in message
    status = call(double, "GET", f"{DEPLOYMENTS}/api")["status"]
    assert (status["availableReplicas"], status["replicas"]) == (1, 1)
    # The pod of revision 1 served throughout and still does; the unready one is gone.
    assert wait_for(lambda: {c.id for c in ours(docker_engine)} == serving)


def test_stopping_the_double_removes_its_containers(
    moto_endpoint: str, docker_engine: Any, registry: str, images: dict[str, PushedImage]
) -> None:
    workloads = containers.DockerWorkloads(docker_engine, registry, SANDBOX)
    api = k8s.start(moto_url=moto_endpoint, workloads=workloads, probe_scale=0.2)
    try:
        call(api, "PATCH", f"{DEPLOYMENTS}/api", deployment(images["httpd"].ecr_uri, replicas=2))
        wait_for(lambda: len(ours(docker_engine)) == 2)
    finally:
        api.stop()
    assert ours(docker_engine) == []
