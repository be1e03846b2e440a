"""EKS targets against moto's EKS and the Kubernetes API double (deploytools.sandbox.k8s).

moto has no Kubernetes API, so the double stands in for it: it is what the sandbox runs, and
it sits in front of moto's EKS so that describe_cluster leads to it over HTTPS with its own CA.
Its pods run on a test double of the Docker engine (tests.support.fake_engine): an image that
was never pushed fails to pull, one listed as exiting crashes. What real containers do is
tests/test_sandbox_eks_pods.py.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from deploytools.aws import AwsContext
from deploytools.config.model import EksTarget
from deploytools.errors import BadInput
from deploytools.output import Reporter, StepRecord
from deploytools.sandbox import k8s
from deploytools.sandbox.emulators import EmulatorContext
from deploytools.sandbox.emulators import eks as eks_emulator
from deploytools.steps.targets import eks, refresher_for
from deploytools.steps.targets._wait import STATUS_POLLING
from deploytools.steps.targets.base import RefreshInputs, RolledBack, TargetFailed
from deploytools.steps.targets.eks import connection, k8s_client, rollout
from tests.support.fake_engine import FakeEngine

FIXTURES = Path(__file__).parent / "fixtures"
CLUSTER = "tastetrend-dev"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
V1 = f"{REGISTRY}/api@sha256:{'1' * 64}"
V2 = f"{REGISTRY}/api@sha256:{'2' * 64}"
BROKEN = f"{REGISTRY}/api@sha256:{'3' * 64}"  # never pushed
CRASHES = f"{REGISTRY}/api@sha256:{'4' * 64}"  # its process exits
FAST = replace(STATUS_POLLING, first=0.02)
DEPLOYMENTS = ("apps", "deployments")


@pytest.fixture
def workloads(request: pytest.FixtureRequest) -> FakeEngine | str:
    """The pods' engine; a test may pass a string (why none runs) to simulate them."""
    return getattr(request, "param", None) or FakeEngine(missing=[BROKEN], exits={CRASHES: 1})


@pytest.fixture
def double(moto_endpoint: str, workloads: FakeEngine | str) -> Iterator[k8s.KubeApi]:
    api = k8s.start(
        moto_url=moto_endpoint, tls=True, rollout_seconds=0.2, workloads=workloads, probe_scale=0.1
    )
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def aws(moto_endpoint: str, double: k8s.KubeApi) -> AwsContext:
    endpoints = dict.fromkeys(("sts", "iam", "ec2"), moto_endpoint)
    endpoints["eks"] = double.url  # EKS through the double's proxy, as in the sandbox
    return AwsContext(region="us-east-1", endpoints=endpoints)


@pytest.fixture
def cluster(aws: AwsContext) -> str:
    aws.client("eks").create_cluster(
        name=CLUSTER,
        roleArn="arn:aws:iam::123456789012:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": []},
    )
    return CLUSTER


def make_target(**overrides: Any) -> EksTarget:
    data: dict[str, Any] = {
        "type": "eks",
        "cluster": CLUSTER,
        "deployment": "api",
        "container": "api",
        "image": "api",
        "manifests": "k8s/api",
        "timeout": 30,
    }
    data.update(overrides)
    return EksTarget.model_validate(data)


def refresher(
    aws: AwsContext, target: EksTarget | None = None, out: io.StringIO | None = None
) -> eks.Refresher:
    reporter = Reporter(out=out or io.StringIO(), err=io.StringIO())
    made = refresher_for(
        "web", target or make_target(), aws=aws, reporter=reporter, root=FIXTURES, polling=FAST
    )
    assert isinstance(made, eks.Refresher)
    return made


def stored_deployment(double: k8s.KubeApi) -> dict[str, Any]:
    return double.cluster(CLUSTER).get(DEPLOYMENTS, "default", "api")


def container_image(deployment: dict[str, Any], name: str = "api") -> str:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return str(next(c["image"] for c in containers if c["name"] == name))


# --- success --------------------------------------------------------------------------------


def test_manifests_are_applied_with_the_digest_and_the_rollout_is_waited_for(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    out = io.StringIO()
    made = refresher(aws, make_target(environment={"MODEL_NAME": "distilbert"}), out)

    first = made.refresh(RefreshInputs(image=V1), StepRecord("web"))
    record = StepRecord("web")
    second = made.refresh(RefreshInputs(image=V2), record)

    assert (first.revision, first.image) == ("1", V1)
    assert (second.revision, second.image) == ("2", V2)
    deployment = stored_deployment(double)
    assert container_image(deployment) == V2
    assert container_image(deployment, "metrics") == "public.ecr.aws/docker/library/busybox:1.36"
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "MODEL_NAME", "value": "distilbert"},
    ]
    assert deployment["status"]["updatedReplicas"] == deployment["status"]["availableReplicas"] == 2
    service = double.cluster(CLUSTER).get(("", "services"), "default", "api")
    assert service["spec"]["ports"] == [{"port": 80, "targetPort": 8080}]
    applies = [(m, p) for m, p, t in double.requests if t == "application/apply-patch+yaml"]
    assert applies[-2:] == [
        ("PATCH", "/apis/apps/v1/namespaces/default/deployments/api"),
        ("PATCH", "/api/v1/namespaces/default/services/api"),
    ]
    # Both were applied; only the Deployment changed (the Service is as the first left it).
    assert record.changed == [f"eks {CLUSTER}/default/api: applied Deployment api"]
    said = out.getvalue().splitlines()
    assert "  … web: rollout: 1 of 2 new replicas updated" in said  # maxSurge 25% of 2: one
    assert "  … web: rollout: 1 old replicas pending termination" in said


def test_applying_the_same_manifests_again_changes_nothing(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    made = refresher(aws, make_target(environment={"MODEL_NAME": "distilbert"}))
    first = made.refresh(RefreshInputs(image=V1), StepRecord("web"))
    version = stored_deployment(double)["metadata"]["resourceVersion"]
    record = StepRecord("web")
    again = made.refresh(RefreshInputs(image=V1), record)
    # A no-op deploy: applied, but nothing moved, so nothing is recorded as changed.
    assert record.changed == []
    assert (again.revision, again.image) == (first.revision, first.image) == ("1", V1)
    assert stored_deployment(double)["metadata"]["resourceVersion"] == version


def test_patching_the_same_image_again_changes_nothing(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    refresher(aws).refresh(RefreshInputs(image=V1), StepRecord("web"))  # made by manifests
    made = refresher(aws, make_target(manifests=None))
    changed = StepRecord("web")
    made.refresh(RefreshInputs(image=V2), changed)
    record = StepRecord("web")
    made.refresh(RefreshInputs(image=V2), record)
    assert changed.changed == [f"eks {CLUSTER}/default/api: container api → {V2}"]
    assert record.changed == []


def test_without_manifests_the_image_is_patched(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    refresher(aws).refresh(
        RefreshInputs(image=V1), StepRecord("web")
    )  # Terraform or a human created it
    made = refresher(aws, make_target(manifests=None))

    state = made.refresh(RefreshInputs(image=V2), StepRecord("web"))

    assert (state.revision, state.image) == ("2", V2)
    assert (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/api",
        k8s_client.STRATEGIC,
    ) in double.requests
    assert container_image(stored_deployment(double), "metrics").endswith("busybox:1.36")


def test_the_same_image_again_is_no_new_revision(aws: AwsContext, cluster: str) -> None:
    made = refresher(aws)
    made.refresh(RefreshInputs(image=V1), StepRecord("web"))
    assert made.refresh(RefreshInputs(image=V1), StepRecord("web")).revision == "1"


# --- failure and rollback -------------------------------------------------------------------


def test_progress_deadline_exceeded_rolls_back_to_the_previous_template(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    made = refresher(aws)
    made.refresh(RefreshInputs(image=V1), StepRecord("web"))

    with pytest.raises(RolledBack) as caught:
        made.refresh(RefreshInputs(image=BROKEN), StepRecord("web"))

    message = str(caught.value)
    assert 'deployment "api" exceeded its progress deadline: ReplicaSet "api-' in message
    assert f'container api: ImagePullBackOff: Back-off pulling image "{BROKEN}"' in message
    assert f"rolled back to the template of revision 1 ({V1}), now revision 3" in message
    assert caught.value.restored.image == V1
    deployment = stored_deployment(double)
    assert container_image(deployment) == V1
    assert deployment["metadata"]["annotations"][rollout.REVISION] == "3"
    assert (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/api",
        k8s_client.JSON_PATCH,
    ) in double.requests
    assert rollout.rollout_status(deployment).done


def test_a_crashing_container_is_named_and_rolled_back(aws: AwsContext, cluster: str) -> None:
    refresher(aws).refresh(RefreshInputs(image=V1), StepRecord("web"))

    with pytest.raises(RolledBack) as caught:
        refresher(aws).refresh(RefreshInputs(image=CRASHES), StepRecord("web"))

    message = str(caught.value)
    assert re.search(
        r"pods: container api: CrashLoopBackOff: back-off (10|20|40)s restarting failed "
        r"container=api pod=api-\w+-\w+_default\([0-9a-f-]+\) \(last exit code 1\); rolled back",
        message,
    ), message


def test_a_failing_first_deploy_has_nothing_to_roll_back_to(aws: AwsContext, cluster: str) -> None:
    with pytest.raises(
        TargetFailed, match="the deployment is new, so there is nothing to roll back to"
    ):
        refresher(aws).refresh(RefreshInputs(image=BROKEN), StepRecord("web"))


def stuck_rollout(aws: AwsContext, double: k8s.KubeApi) -> eks.Refresher:
    """A refresher whose polls are 7 s apart on a fake clock, against a cluster whose own clock
    stands still, so that its simulated rollouts never finish (rollout_seconds) nor exceed their
    progress deadline (2 s in the fixture's manifest), however slow the machine. Each of the
    refresher's waits is one pass of the double's controller, as the seconds it waits would
    be on a real cluster; the controller thread may add more, which change nothing."""
    double.cluster(CLUSTER).clock = lambda: 0.0
    clock = iter(float(t) for t in range(0, 100_000, 7))
    polling = replace(
        STATUS_POLLING, first=0, sleep=lambda _: double.reconcile(), clock=lambda: next(clock)
    )
    return eks.Refresher(
        "web",
        make_target(timeout=20),
        aws=aws,
        reporter=Reporter(out=io.StringIO(), err=io.StringIO()),
        root=FIXTURES,
        polling=polling,
    )


@pytest.mark.parametrize("workloads", ["no engine in this test"], indirect=True)
def test_a_rollout_that_does_not_finish_in_time_is_rolled_back(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    refresher(aws).refresh(RefreshInputs(image=V1), StepRecord("web"))
    made = stuck_rollout(aws, double)
    with pytest.raises(RolledBack) as caught:
        made.refresh(RefreshInputs(image=V2), StepRecord("web"))
    message = str(caught.value)
    assert (
        "the rollout did not finish in 20 s (targets.web.timeout): 0 of 2 new replicas updated"
        in message
    )
    # Revision 1's ReplicaSet still has its 2 replicas (revision 2's never got one), so, as on a
    # real cluster, the rollback is complete as soon as the controller has observed it.
    assert f"rolled back to the template of revision 1 ({V1}), now revision 3" in message
    assert caught.value.restored.image == V1
    deployment = stored_deployment(double)
    assert container_image(deployment) == V1
    assert rollout.rollout_status(deployment).done


@pytest.mark.parametrize("workloads", ["no engine in this test"], indirect=True)
def test_a_rollback_that_does_not_finish_in_time_either_is_said(
    aws: AwsContext, cluster: str, double: k8s.KubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresher(aws).refresh(RefreshInputs(image=V1), StepRecord("web"))
    made = stuck_rollout(aws, double)
    monkeypatch.setattr(double.cluster(CLUSTER), "reconcile", lambda: None)  # no controller
    with pytest.raises(TargetFailed) as caught:
        made.refresh(RefreshInputs(image=V2), StepRecord("web"))
    assert not isinstance(caught.value, RolledBack)
    waiting = "waiting for the deployment spec update to be observed"
    assert str(caught.value).endswith(
        f"the rollout did not finish in 20 s (targets.web.timeout): {waiting}; rolling back to "
        f"revision 1 failed too: the rollback did not finish in 20 s (targets.web.timeout): "
        f"{waiting}"
    )
    assert container_image(stored_deployment(double)) == V1  # the undo itself was made


def test_restore_puts_an_earlier_revision_back(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    made = refresher(aws)
    first = made.refresh(RefreshInputs(image=V1), StepRecord("web"))
    made.refresh(RefreshInputs(image=V2), StepRecord("web"))

    restored = made.restore(first, StepRecord("rollback"))

    assert restored.image == V1
    assert restored.revision == "3"
    assert container_image(stored_deployment(double)) == V1


# --- access ---------------------------------------------------------------------------------


def test_401_names_eks_access_entries(aws: AwsContext, cluster: str, double: k8s.KubeApi) -> None:
    double.access = k8s.Access.UNAUTHORIZED
    with pytest.raises(connection.EksAccessDenied) as caught:
        refresher(aws).refresh(RefreshInputs(image=V1), StepRecord("web"))
    message = str(caught.value)
    assert message.startswith(
        f"the Kubernetes API of EKS cluster {CLUSTER} answered 401 Unauthorized: the IAM principal "
    )
    assert "has no EKS access entry on it" in message
    assert (
        f"aws eks create-access-entry --cluster-name {CLUSTER} --principal-arn arn:aws:" in message
    )
    assert "the eks_cluster Terraform module's access entry" in message


def test_403_names_the_access_policy(aws: AwsContext, cluster: str, double: k8s.KubeApi) -> None:
    double.access = k8s.Access.FORBIDDEN
    with pytest.raises(
        connection.EksAccessDenied, match=r"403 Forbidden .*associate-access-policy"
    ):
        refresher(aws).current()


def test_the_double_wants_an_eks_token(cluster: str, double: k8s.KubeApi) -> None:
    url = f"{double.url}/k8s/{CLUSTER}/apis/apps/v1/namespaces/default/deployments"
    assert requests.get(url, timeout=5).status_code == 401
    bad = requests.get(url, headers={"Authorization": "Bearer k8s-aws-v1.bm9wZQ"}, timeout=5)
    assert bad.status_code == 401
    assert bad.json()["reason"] == "Unauthorized"


def test_the_principal_of_an_assumed_role_is_its_role(aws: AwsContext) -> None:
    aws._clients["sts"] = type(
        "Sts",
        (),
        {
            "get_caller_identity": lambda self: {
                "Arn": "arn:aws:sts::123456789012:assumed-role/deploy/gha-1"
            }
        },
    )()
    assert connection.principal_arn(aws) == "arn:aws:iam::123456789012:role/deploy"


# --- the token ------------------------------------------------------------------------------


def test_token_is_a_presigned_get_caller_identity_url_for_the_cluster(aws: AwsContext) -> None:
    token = connection.get_token(aws, CLUSTER)

    assert token.startswith("k8s-aws-v1.")
    body = token.removeprefix("k8s-aws-v1.")
    assert "=" not in body and "+" not in body and "/" not in body  # base64url, no padding
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert url == connection.decode(token)
    query = parse_qs(urlsplit(url).query)
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["Version"] == ["2011-06-15"]
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert len(query["X-Amz-Signature"][0]) == 64
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert "x-k8s-aws-id" not in query  # a signed header, not a parameter


def test_the_token_client_does_not_touch_the_shared_sts_client(aws: AwsContext) -> None:
    connection.get_token(aws, CLUSTER)
    assert "Account" in aws.client("sts").get_caller_identity()


# --- current, plan, the double's EKS proxy --------------------------------------------------


def test_current_and_describe_change(aws: AwsContext, cluster: str) -> None:
    made = refresher(aws)
    assert made.current() is None
    assert (
        made.describe_change(V1)
        == f"eks {CLUSTER}/default/api: does not exist (applied from k8s/api) → {V1}"
    )
    made.refresh(RefreshInputs(image=V1), StepRecord("web"))
    state = made.current()
    assert state is not None
    assert (state.type, state.resource, state.image, state.revision) == ("eks", "api", V1, "1")
    assert state.detail == {"cluster": CLUSTER, "namespace": "default", "container": "api"}
    assert made.describe_change(V2) == f"eks {CLUSTER}/default/api: {V1} (revision 1) → {V2}"


def test_current_is_none_without_the_cluster(aws: AwsContext) -> None:
    assert refresher(aws).current() is None


def test_describe_cluster_leads_to_the_double_over_tls(
    aws: AwsContext, cluster: str, double: k8s.KubeApi
) -> None:
    described = aws.client("eks").describe_cluster(name=CLUSTER)["cluster"]
    assert described["endpoint"] == f"{double.tls_url}/k8s/{CLUSTER}"
    assert described["endpoint"].startswith("https://127.0.0.1:")
    ca = base64.b64decode(described["certificateAuthority"]["data"])
    assert ca.startswith(b"-----BEGIN CERTIFICATE-----")


def test_the_sandbox_emulator_serves_eks(moto_endpoint: str) -> None:
    emulator = eks_emulator.start(EmulatorContext(moto_url=moto_endpoint))
    try:
        aws = AwsContext(
            region="us-east-1", endpoints={"eks": emulator.services["eks"], "sts": moto_endpoint}
        )
        aws.client("eks").create_cluster(
            name="sandbox", roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={}
        )
        endpoint = aws.client("eks").describe_cluster(name="sandbox")["cluster"]["endpoint"]
        assert endpoint.endswith("/k8s/sandbox")
        target = make_target(cluster="sandbox")
        made = eks.Refresher(
            "web",
            target,
            aws=aws,
            reporter=Reporter(out=io.StringIO()),
            root=FIXTURES,
            polling=FAST,
        )
        assert made.current() is None
    finally:
        emulator.stop()


# --- manifests ------------------------------------------------------------------------------


def test_manifests_without_our_deployment_are_refused(aws: AwsContext, cluster: str) -> None:
    with pytest.raises(BadInput, match="no Deployment named web"):
        refresher(aws, make_target(deployment="web")).refresh(
            RefreshInputs(image=V1), StepRecord("web")
        )


def test_a_container_must_be_named_when_there_are_several(aws: AwsContext, cluster: str) -> None:
    with pytest.raises(
        BadInput, match=r"2 containers \(api, metrics\): set targets\.web\.container"
    ):
        refresher(aws, make_target(container=None)).refresh(
            RefreshInputs(image=V1), StepRecord("web")
        )


# --- kubectl rollout status -----------------------------------------------------------------


def deployment(generation: int = 2, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "api", "generation": generation},
        "spec": {"replicas": 2},
        "status": status,
    }


@pytest.mark.parametrize(
    ("status", "done", "failed", "message"),
    [
        (
            {"observedGeneration": 1},
            False,
            False,
            "waiting for the deployment spec update to be observed",
        ),
        (
            {
                "observedGeneration": 2,
                "conditions": [
                    {
                        "type": "Progressing",
                        "reason": "ProgressDeadlineExceeded",
                        "message": "too slow",
                    }
                ],
            },
            False,
            True,
            'deployment "api" exceeded its progress deadline: too slow',
        ),
        (
            {"observedGeneration": 2, "updatedReplicas": 1, "replicas": 3},
            False,
            False,
            "1 of 2 new replicas updated",
        ),
        (
            {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3},
            False,
            False,
            "1 old replicas pending termination",
        ),
        (
            {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1},
            False,
            False,
            "1 of 2 updated replicas available",
        ),
        (
            {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2},
            True,
            False,
            'deployment "api" successfully rolled out',
        ),
    ],
)
def test_rollout_status_follows_kubectl(
    status: dict[str, Any], done: bool, failed: bool, message: str
) -> None:
    assert rollout.rollout_status(deployment(**status)) == rollout.Rollout(done, failed, message)
