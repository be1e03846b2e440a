"""EKS for the sandbox: a test double of the Kubernetes API behind every cluster, reached
through moto's EKS control plane.

moto answers the EKS API (CreateCluster, DescribeCluster, …) but its clusters have no
Kubernetes API, and the endpoint it reports leads nowhere. This emulator takes over the `eks`
service endpoint: it forwards every EKS call to moto and rewrites `cluster.endpoint` (and the
CA) in DescribeCluster/CreateCluster answers to the double in `deploytools.sandbox.k8s`, which
emulates the Deployments, ReplicaSets, Services and pods deploytools reads and patches (see
that package for exactly what it covers and what it leaves out).

DEPLOYTOOLS_SANDBOX_ROLLOUT_SECONDS sets how long a simulated rollout takes (default 2).
"""

from __future__ import annotations

import os

from deploytools.sandbox import k8s
from deploytools.sandbox.emulators import Emulator, EmulatorContext

ROLLOUT_VARIABLE = "DEPLOYTOOLS_SANDBOX_ROLLOUT_SECONDS"


def start(ctx: EmulatorContext) -> Emulator:
    seconds = float(os.environ.get(ROLLOUT_VARIABLE) or 2)
    # HTTPS with a real CA when possible, so clients exercise the same path as on AWS.
    tls = k8s.tls_available()
    api = k8s.start(host=ctx.host, moto_url=ctx.moto_url, tls=tls, rollout_seconds=seconds)
    return Emulator(name="eks", services={"eks": api.url}, stop=api.stop)
