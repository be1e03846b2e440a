"""EKS for the sandbox: a double of the Kubernetes API behind every cluster, reached through
moto's EKS control plane, whose pods run as containers.

moto answers the EKS API (CreateCluster, DescribeCluster, …) but its clusters have no
Kubernetes API, and the endpoint it reports leads nowhere. This emulator takes over the `eks`
service endpoint: it forwards every EKS call to moto and rewrites `cluster.endpoint` (and the
CA) in DescribeCluster/CreateCluster answers to the double in `deploytools.sandbox.k8s`, which
serves the Deployments, ReplicaSets, Services, Secrets and pods deploytools reads and patches.

Executed: every pod of every ReplicaSet, as containers on the local Docker engine, from the
loopback registry by the pod template's image reference, with its env (Secrets and
ConfigMaps by `valueFrom`), command and args; readiness and liveness probes inside the
containers (`--network none`). A rollout completes or exceeds its progress deadline because
of what those containers do (see `deploytools.sandbox.k8s.kubelet` for the rules).
Simulated: pods when no Docker engine answers (a rollout then completes after
DEPLOYTOOLS_SANDBOX_ROLLOUT_SECONDS, default 2, and its Progressing condition says
`simulated: …`); scheduling, nodes, Services' load balancers, pod networking, resources.

DEPLOYTOOLS_SANDBOX_HEALTH_SCALE (default 1) scales probe periods, initial delays and
back-offs, as it scales the ECS health checks.
"""

from __future__ import annotations

import os

from deploytools.sandbox import containers, k8s
from deploytools.sandbox.emulators import Emulator, EmulatorContext

ROLLOUT_VARIABLE = "DEPLOYTOOLS_SANDBOX_ROLLOUT_SECONDS"
SCALE_VARIABLE = "DEPLOYTOOLS_SANDBOX_HEALTH_SCALE"


def start(ctx: EmulatorContext) -> Emulator:
    seconds = float(os.environ.get(ROLLOUT_VARIABLE) or 2)
    # HTTPS with a real CA when possible, so clients exercise the same path as on AWS.
    tls = k8s.tls_available()
    api = k8s.start(
        host=ctx.host,
        moto_url=ctx.moto_url,
        tls=tls,
        rollout_seconds=seconds,
        workloads=containers.connect(ctx.registry),
        probe_scale=float(os.environ.get(SCALE_VARIABLE) or 1),
    )
    return Emulator(name="eks", services={"eks": api.url}, stop=api.stop)
