"""A sandbox record naming moto's server, so `--sandbox` commands run in this process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploytools.aws import AwsContext
from deploytools.sandbox import state
from deploytools.sandbox.server import SERVICES  # the record the real sandbox writes


def moto_sandbox(
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    registry: str = "127.0.0.1:1",
    region: str = "us-east-1",
    endpoints: dict[str, str] | None = None,
) -> AwsContext:
    """Write the record (this process stands in for the sandbox's); a client context for it.

    The registry defaults to a closed loopback port: for tests that push no image.
    `endpoints` adds services moto lacks (an emulator's URL) or overrides moto's.
    """
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    served = {**dict.fromkeys(SERVICES, moto_endpoint), **(endpoints or {})}
    state.write(state.SandboxState(os.getpid(), served, registry))
    return AwsContext(region, None, served, credentials=("sandbox", "sandbox"))
