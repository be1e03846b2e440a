"""A Kubernetes API double: a test double / emulator, not a Kubernetes.

moto's EKS has the control plane only; this stands in for the Kubernetes API behind a cluster,
for the sandbox and for tests. It covers exactly what deploytools calls:

- apps/v1 deployments: GET, list, PATCH as server-side apply (`application/apply-patch+yaml`,
  `fieldManager` required), strategic merge patch, JSON merge patch and JSON patch;
- apps/v1 replicasets: GET and list with an equality `labelSelector`;
- core/v1 pods: list (derived from the rollouts, one pod per replica, with container states);
- core/v1 services, and any other namespaced or cluster-scoped kind: GET, list, PATCH
  (apply and the patch types above), POST and DELETE, stored as given;
- /version.

Behind the deployments sits a simulated Deployment controller (`cluster.Cluster`): a template
change bumps the generation and the `deployment.kubernetes.io/revision` annotation and makes or
reuses the ReplicaSet for the template; the rollout is observed and finished after a short,
configurable time, or fails with a Progressing condition of reason ProgressDeadlineExceeded
when an image contains `sandbox-fail` or a container sets DEPLOYTOOLS_SANDBOX_FAIL=1.

Not covered: watches, subresources (status, scale), admission, RBAC beyond an all-or-nothing
switch (`Access`), field ownership (there is one manager, so apply acts as a merge patch),
real pods or scheduling, and token signatures (a token must be shaped like `aws eks
get-token`'s, prefix `k8s-aws-v1.`, else 401). `start()` runs it on free loopback ports.
"""

from deploytools.sandbox.k8s.cluster import FAIL_ENV, FAIL_IMAGE_MARK, Cluster
from deploytools.sandbox.k8s.server import Access, KubeApi, start, tls_available

__all__ = ["FAIL_ENV", "FAIL_IMAGE_MARK", "Access", "Cluster", "KubeApi", "start", "tls_available"]
