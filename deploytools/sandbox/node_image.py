"""The Node image the sandbox's Amplify builds run in, made on this machine (nothing can be
pulled): Debian's `nodejs` package installed with apt over plain HTTP into the Debian root
filesystem image `scripts/services --python-base` makes, in a host-network build.

Debian's nodejs (18 in bookworm) without npm: a build spec that calls `npm`, `pnpm` or
`corepack` fails in it with `not found`, which the build's reason then names.
"""

from __future__ import annotations

import io
from typing import Any

NODE_IMAGE = "deploytools/node:local"
BASE_IMAGE = "deploytools/python:3-local"  # a Debian bookworm rootfs with apt
DOCKERFILE = """FROM {base}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \\
 && rm -rf /var/lib/apt/lists/* \\
 && node --version
"""


def ensure(client: Any, image: str = NODE_IMAGE, base: str = BASE_IMAGE) -> str | None:
    """Make `image` unless the engine has it; None when it is there, else why it is not."""
    import docker

    try:
        client.images.get(image)
        return None
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.get(base)
    except docker.errors.ImageNotFound:
        return (
            f"no Node image {image}, and no {base} to make it from (scripts/services --python-base)"
        )
    dockerfile = DOCKERFILE.format(base=base).encode()
    try:
        client.images.build(fileobj=io.BytesIO(dockerfile), tag=image, rm=True, network_mode="host")
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        return f"no Node image {image}: installing Debian's nodejs failed ({exc})"
    return None
