"""A Kubernetes API double: a test double / emulator, not a Kubernetes.

moto's EKS has the control plane only; this stands in for the Kubernetes API behind a cluster,
for the sandbox and for tests. It covers exactly what deploytools calls:

- apps/v1 deployments: GET, list, PATCH as server-side apply (`application/apply-patch+yaml`,
  `fieldManager` required), strategic merge patch, JSON merge patch and JSON patch;
- apps/v1 replicasets: GET and list with an equality `labelSelector`;
- core/v1 pods: list (each pod runs as containers; see `kubelet` for what is executed);
- core/v1 services, and any other namespaced or cluster-scoped kind: GET, list, PATCH
  (apply and the patch types above), POST and DELETE, stored as given;
- /version.

Behind the deployments sits a Deployment controller (`cluster.Cluster`): a template change
bumps the generation and the `deployment.kubernetes.io/revision` annotation and makes or
reuses the ReplicaSet for the template; the ReplicaSets are scaled as the strategy says and
their pods run as containers on the local Docker engine (`kubelet`), so a rollout completes
because the new pods are ready, or fails with a Progressing condition of reason
ProgressDeadlineExceeded because they could not be pulled, exited or failed their probes.
Without an engine, the rollout completes after `rollout_seconds` and says `simulated: …`.
Secrets and ConfigMaps are stored as given and feed the pods' `valueFrom` env.

Not covered: watches, subresources (status, scale), admission, RBAC beyond an all-or-nothing
switch (`Access`), field ownership (there is one manager, so apply acts as a merge patch),
scheduling, nodes, pod networking (each pod has only its own loopback), and token signatures
(a token must be shaped like `aws eks get-token`'s, prefix `k8s-aws-v1.`, else 401).
`start()` runs it on free loopback ports.
"""

from deploytools.sandbox.k8s.cluster import Cluster
from deploytools.sandbox.k8s.server import Access, KubeApi, start, tls_available

__all__ = ["Access", "Cluster", "KubeApi", "start", "tls_available"]
