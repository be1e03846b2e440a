"""A minimal app repository for the config tests: deploytools.yml and the Dockerfile it names."""

from __future__ import annotations

from pathlib import Path

# Line numbers in the tests' expected messages count from this text.
MINIMAL_CONFIG = """\
project: shop
region: us-east-1
environments:
  dev:
    account_id: "123456789012"
images:
  api:
    dockerfile: images/api/Dockerfile
targets:
  api:
    type: ecs
    cluster: shop-{env}
    image: api
"""


def write_config_repo(root: Path, config: str | bytes) -> Path:
    """The repository at `root` with `config` as its deploytools.yml; returns that file."""
    (root / "images" / "api").mkdir(parents=True, exist_ok=True)
    (root / "images" / "api" / "Dockerfile").write_text("FROM scratch\n")
    path = root / "deploytools.yml"
    if isinstance(config, bytes):
        path.write_bytes(config)
    else:
        path.write_text(config)
    return path
