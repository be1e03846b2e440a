"""Which network a build's RUN steps get: the engine's default bridge, or the host's.

An engine started without a bridge (as on a machine whose containers may use loopback only)
gives a default-network build no way out, so `RUN pip install` and `apt-get` fail. There the
build runs with the host's network, which reaches what the machine reaches.
"""

from __future__ import annotations

from typing import Any

from deploytools import proc
from deploytools.errors import BadInput

HOST = "host"


def sdk_network_mode(client: Any) -> str | None:
    """ "host" when the engine has no bridge network, else None (the engine's default)."""
    networks = client.networks.list()
    return None if any(n.attrs.get("Driver") == "bridge" for n in networks) else HOST


def cli_network_mode(docker_host: str) -> str | None:
    """The same question through the docker CLI (the buildx path has no SDK client)."""
    try:
        listed = proc.run(
            ["docker", "network", "ls", "--filter", "driver=bridge", "--format", "{{.Name}}"],
            check=False,
            timeout=30,
            env={"DOCKER_HOST": docker_host},
        )
    except BadInput:  # no docker CLI: buildx is not in use either
        return None
    if listed.returncode != 0:
        return None  # the build itself will report an engine that does not answer
    return None if listed.stdout.strip() else HOST
