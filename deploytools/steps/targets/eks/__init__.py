"""EKS targets, without kubectl or a Kubernetes client library: `k8s_client` speaks the few
Kubernetes API calls over HTTPS, `connection` reaches the cluster (endpoint, CA, the
`aws eks get-token` bearer token), `manifests` loads and patches k8s/*.yaml, `rollout` holds
kubectl's rollout semantics, and `refresher` deploys, waits, and undoes a failed rollout.
"""

from __future__ import annotations

from deploytools.steps.targets.eks.refresher import Refresher

__all__ = ["Refresher"]
