"""Small workload images for the sandbox's container tests, built from the local busybox
base and pushed to the loopback registry (nothing can be pulled from elsewhere)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"

# busybox httpd serving /www on 8080: /health answers 200, anything else 404.
HTTPD = """FROM {base}
RUN mkdir -p /www && echo ok > /www/health
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""
# A process that exits at once, as a broken entry point does.
EXITS = """FROM {base}
CMD ["sh", "-c", "echo starting; exit 3"]
"""


@dataclass(frozen=True)
class PushedImage:
    repository: str  # e.g. test/ab12cd34ef56
    digest: str

    @property
    def ecr_uri(self) -> str:
        """The reference a task definition or pod template names, as on AWS."""
        return f"{ECR_HOST}/{self.repository}@{self.digest}"


def push(client: Any, registry: str, base: str, dockerfile: str) -> PushedImage:
    """Build `dockerfile` (with {base} filled in) and push it; its repository and digest."""
    repository = f"test/{uuid.uuid4().hex[:12]}"
    ref = f"{registry}/{repository}"
    text = dockerfile.format(base=base).encode()
    client.images.build(fileobj=io.BytesIO(text), tag=f"{ref}:v1", rm=True, network_mode="none")
    for line in client.images.push(ref, tag="v1", stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"push of {ref}:v1 failed: {line['error']}")
    digests = client.images.get(f"{ref}:v1").attrs["RepoDigests"]
    digest = next(d for d in digests if d.startswith(ref + "@")).split("@", 1)[1]
    return PushedImage(repository, digest)


def never_pushed() -> PushedImage:
    return PushedImage(f"test/{uuid.uuid4().hex[:12]}", "sha256:" + "0" * 64)
