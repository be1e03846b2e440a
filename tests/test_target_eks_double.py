"""The Kubernetes API double itself: the API surface it promises and its Deployment controller.

The double is a test double (deploytools.sandbox.k8s); these tests pin what the EKS target and
the sandbox rely on, in the shapes the real API server uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from deploytools.aws import AwsContext
from deploytools.sandbox import k8s
from deploytools.sandbox.k8s import patch
from deploytools.steps.targets.eks import connection
from tests.support.fake_engine import FakeEngine

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "api", "labels": {"app": "api"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "api"}},
        "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {
                "containers": [
                    {"name": "api", "image": "api:1", "env": [{"name": "A", "value": "1"}]}
                ]
            },
        },
    },
}


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str | None = None,
        **params: str,
    ) -> requests.Response:
        headers = dict(self.headers)
        data = None
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
            data = body if isinstance(body, str) else json.dumps(body)
        return requests.request(
            method, self.base + path, headers=headers, data=data, params=params, timeout=10
        )

    def apply(self, path: str, document: dict[str, Any], **params: str) -> requests.Response:
        params.setdefault("fieldManager", "test")
        return self.call(
            "PATCH", path, yaml.safe_dump(document), "application/apply-patch+yaml", **params
        )


@pytest.fixture
def double() -> Iterator[k8s.KubeApi]:
    engine = FakeEngine(missing=["api:never-pushed"])
    api = k8s.start(rollout_seconds=0.2, workloads=engine)
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def kube(double: k8s.KubeApi) -> Client:
    token = connection.get_token(AwsContext(region="us-east-1"), "c1")
    return Client(f"{double.url}/k8s/c1", token)


def settled(kube: Client, name: str = "api") -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        document: dict[str, Any] = kube.call("GET", f"{DEPLOYMENTS}/{name}").json()
        if document["status"].get("observedGeneration") == document["metadata"]["generation"] and (
            document["status"].get("replicas")
            == document["status"].get("updatedReplicas")
            == document["status"].get("availableReplicas")
            == document["spec"]["replicas"]
            or any(
                c["reason"] == "ProgressDeadlineExceeded"
                for c in document["status"].get("conditions", [])
            )
        ):
            return document
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_apply_creates_then_a_template_change_is_a_new_revision(kube: Client) -> None:
    created = kube.apply(f"{DEPLOYMENTS}/api", DEPLOYMENT)
    assert created.status_code == 201
    first = settled(kube)
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert first["status"]["availableReplicas"] == 2

    changed = patch.merge_patch(
        DEPLOYMENT,
        {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "api:2"}]}}}},
    )
    assert kube.apply(f"{DEPLOYMENTS}/api", changed).status_code == 200
    second = settled(kube)

    assert second["metadata"]["generation"] == 2
    assert second["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    replica_sets = kube.call(
        "GET", "/apis/apps/v1/namespaces/default/replicasets", labelSelector="app=api"
    ).json()
    assert replica_sets["kind"] == "ReplicaSetList"
    by_revision = {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
        for rs in replica_sets["items"]
    }
    assert sorted(by_revision) == ["1", "2"]
    assert by_revision["1"]["spec"]["replicas"] == 0
    assert by_revision["2"]["spec"]["replicas"] == 2
    assert by_revision["2"]["metadata"]["ownerReferences"][0]["uid"] == second["metadata"]["uid"]


def test_an_image_never_pushed_exceeds_the_progress_deadline(kube: Client) -> None:
    kube.apply(f"{DEPLOYMENTS}/api", DEPLOYMENT)
    settled(kube)
    broken = [{"name": "api", "image": "api:never-pushed"}]
    kube.call(
        "PATCH",
        f"{DEPLOYMENTS}/api",
        {"spec": {"progressDeadlineSeconds": 1, "template": {"spec": {"containers": broken}}}},
        "application/strategic-merge-patch+json",
    )
    document = settled(kube)
    (progressing,) = [c for c in document["status"]["conditions"] if c["type"] == "Progressing"]
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    assert progressing["status"] == "False"
    assert document["status"]["availableReplicas"] == 2  # the old ReplicaSet still serves
    # The strategic merge kept the env of the container it merged into by name.
    assert document["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"}
    ]
    pods = kube.call("GET", "/api/v1/namespaces/default/pods", labelSelector="app=api").json()[
        "items"
    ]
    waiting = [
        s["state"]["waiting"]["reason"]
        for p in pods
        for s in p["status"]["containerStatuses"]
        if "waiting" in s["state"]
    ]
    assert waiting == ["ImagePullBackOff"]


def test_the_patch_types(kube: Client) -> None:
    kube.apply(f"{DEPLOYMENTS}/api", DEPLOYMENT)
    merge = kube.call(
        "PATCH",
        f"{DEPLOYMENTS}/api",
        {"metadata": {"labels": {"team": "ml"}}},
        "application/merge-patch+json",
    )
    assert merge.json()["metadata"]["labels"] == {"app": "api", "team": "ml"}
    replaced = kube.call(
        "PATCH",
        f"{DEPLOYMENTS}/api",
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        "application/json-patch+json",
    )
    assert replaced.json()["spec"]["replicas"] == 3
    unsupported = kube.call("PATCH", f"{DEPLOYMENTS}/api", {}, "application/xml")
    assert unsupported.status_code == 415


def test_errors_are_status_objects(kube: Client) -> None:
    missing = kube.call("GET", f"{DEPLOYMENTS}/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "nope" not found',
        "reason": "NotFound",
        "code": 404,
    }
    no_manager = kube.apply(f"{DEPLOYMENTS}/api", DEPLOYMENT, fieldManager="")
    assert no_manager.status_code == 422
    wrong_name = kube.apply(f"{DEPLOYMENTS}/other", DEPLOYMENT)
    assert wrong_name.status_code == 400


def test_services_keep_their_cluster_ip(kube: Client) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api"},
        "spec": {"ports": [{"port": 80}]},
    }
    first = kube.apply("/api/v1/namespaces/default/services/api", service).json()
    service["spec"]["ports"] = [{"port": 8080}]
    second = kube.apply("/api/v1/namespaces/default/services/api", service).json()
    assert second["spec"]["clusterIP"] == first["spec"]["clusterIP"]
    assert second["spec"]["ports"] == [{"port": 8080}]


def test_clusters_are_separate(double: k8s.KubeApi, kube: Client) -> None:
    kube.apply(f"{DEPLOYMENTS}/api", DEPLOYMENT)
    other = Client(f"{double.url}/k8s/c2", kube.headers["Authorization"].removeprefix("Bearer "))
    assert other.call("GET", f"{DEPLOYMENTS}/api").status_code == 404


def test_without_moto_other_paths_are_not_found(double: k8s.KubeApi) -> None:
    assert requests.get(f"{double.url}/clusters/c1", timeout=5).status_code == 404


def test_strategic_merge_patch_merges_lists_by_name() -> None:
    target = {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}
    merged = patch.strategic_merge_patch(
        target, {"containers": [{"name": "b", "image": "2"}, {"name": "c"}]}
    )
    assert merged == {
        "containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}, {"name": "c"}]
    }
    assert patch.strategic_merge_patch({"args": ["x"]}, {"args": ["y"]}) == {"args": ["y"]}


def test_json_patch_operations() -> None:
    document = {"a": {"b": [1, 2]}}
    assert patch.json_patch(document, [{"op": "add", "path": "/a/b/-", "value": 3}]) == {
        "a": {"b": [1, 2, 3]}
    }
    assert patch.json_patch(document, [{"op": "remove", "path": "/a/b/0"}]) == {"a": {"b": [2]}}
    with pytest.raises(patch.PatchError):
        patch.json_patch(document, [{"op": "replace", "path": "/a/c", "value": 1}])
    with pytest.raises(patch.PatchError):
        patch.json_patch(document, [{"op": "test", "path": "/a/b", "value": []}])


def test_without_an_engine_the_rollout_is_simulated_and_says_so() -> None:
    api = k8s.start(rollout_seconds=0.2, workloads="no Docker engine in this test")
    try:
        token = connection.get_token(AwsContext(region="us-east-1"), "c1")
        kube = Client(f"{api.url}/k8s/c1", token)
        kube.apply(f"{DEPLOYMENTS}/api", DEPLOYMENT)
        document = settled(kube)
        pods = kube.call("GET", "/api/v1/namespaces/default/pods").json()["items"]
    finally:
        api.stop()
    (progressing,) = [c for c in document["status"]["conditions"] if c["type"] == "Progressing"]
    assert progressing["reason"] == "NewReplicaSetAvailable"
    assert progressing["message"].endswith(
        "has successfully progressed. simulated: its pods were not run "
        "(no Docker engine in this test)"
    )
    assert pods == []
