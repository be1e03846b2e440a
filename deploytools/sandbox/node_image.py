"""The Node image the sandbox's Amplify builds run in, made on this machine (nothing can be
pulled from Docker Hub), in a host-network build from the Debian root filesystem image
`scripts/services --python-base` makes:

- Debian bookworm's `nodejs` package (Node 18.20), `ca-certificates` and `curl`, by apt over
  plain HTTP from the Debian mirror;
- npm 10.9.9 (the newest npm for Node 18), its tarball fetched from registry.npmjs.org, which
  then installs itself and corepack 0.32.0 from the registry into /usr/lib/node_modules.

A build spec's `corepack enable` makes the pnpm and yarn shims; corepack then downloads the
version the app's `packageManager` names from registry.npmjs.org. That registry, as this
machine reaches it, serves no package signatures (its /-/npm/v1/keys answers 404), so
corepack's signature check is off (COREPACK_INTEGRITY_KEYS=0): a hash in `packageManager`
(`pnpm@9.15.0+sha512.…`) is what verifies the download. The host's CA bundle
($SSL_CERT_FILE, else /etc/ssl/certs/ca-certificates.crt) is copied in and trusted by Node
(NODE_EXTRA_CA_CERTS), so HTTPS verifies behind a TLS-inspecting proxy too. Next.js telemetry,
npm's update check and corepack's download prompt are off: no traffic beyond the registry.

The image carries the label org.deploytools.node with its revision; an image of another
revision (an older one without npm) is made again.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

NODE_IMAGE = "deploytools/node:npm-local"
BASE_IMAGE = "deploytools/python:3-local"  # a Debian bookworm rootfs with apt
NPM = "10.9.9"
COREPACK = "0.32.0"
# Bump when the Dockerfile changes, so an image made from an older one is made again.
REVISION = 2
LABEL = "org.deploytools.node"
HOST_CA = "/etc/ssl/certs/deploytools-host-ca.pem"
DOCKERFILE = """FROM {base}
LABEL {label}="revision {revision}: Debian's nodejs; npm {npm}, corepack {corepack}"
COPY host-ca.pem {host_ca}
ENV NODE_EXTRA_CA_CERTS={host_ca} \\
    COREPACK_INTEGRITY_KEYS=0 \\
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \\
    NEXT_TELEMETRY_DISABLED=1 \\
    npm_config_update_notifier=false \\
    npm_config_fund=false
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      nodejs ca-certificates curl \\
 && rm -rf /var/lib/apt/lists/* \\
 && {{ [ -s {host_ca} ] || cp /etc/ssl/certs/ca-certificates.crt {host_ca}; }} \\
 && curl -fsS --cacert {host_ca} https://registry.npmjs.org/npm/-/npm-{npm}.tgz \\
      | tar -xz -C /tmp \\
 && node /tmp/package/bin/npm-cli.js install --global --no-audit npm@{npm} corepack@{corepack} \\
 && rm -rf /tmp/package /root/.npm \\
 && node --version && npm --version && corepack --version
"""


def ensure(client: Any, image: str = NODE_IMAGE, base: str = BASE_IMAGE) -> str | None:
    """Make `image` unless the engine has this revision of it; None when it is there, else
    why it is not."""
    import docker

    try:
        labels = client.images.get(image).labels or {}
        if f"revision {REVISION}:" in str(labels.get(LABEL, "")):
            return None
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.get(base)
    except docker.errors.ImageNotFound:
        return (
            f"no Node image {image}, and no {base} to make it from (scripts/services --python-base)"
        )
    try:
        client.images.build(
            fileobj=io.BytesIO(_context(base)),
            custom_context=True,
            tag=image,
            rm=True,
            network_mode="host",
        )
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        return f"no Node image {image}: installing Node, npm and corepack failed ({exc})"
    return None


def dockerfile(base: str = BASE_IMAGE) -> str:
    return DOCKERFILE.format(
        base=base, label=LABEL, revision=REVISION, npm=NPM, corepack=COREPACK, host_ca=HOST_CA
    )


def host_ca_bundle() -> bytes:
    """The CA bundle this machine trusts; empty when it has none (Debian's is used then)."""
    for candidate in (os.environ.get("SSL_CERT_FILE", ""), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return b""


def _context(base: str) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, content in (
            ("Dockerfile", dockerfile(base).encode()),
            ("host-ca.pem", host_ca_bundle()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return data.getvalue()
