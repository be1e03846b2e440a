"""What one function version runs: from moto's GetFunction answer to a container to start."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ECR's registry host; the loopback registry stands in for it under the same repository names.
ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
PYTHON_RUNTIME = re.compile(r"^python(3\.\d+)$")
RUNTIME_IMAGE = "public.ecr.aws/lambda/python:{version}"


class FunctionUnrunnable(Exception):
    """A function version the sandbox cannot start (no image, no code, unknown runtime)."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function version, as its execution environment needs it."""

    name: str
    arn: str  # unqualified
    version: str
    region: str
    timeout: int
    memory: int
    environment: Mapping[str, str]
    image: str  # what the container runs: the function's image, or the runtime's base image
    pull: bool  # the image comes from the registry (an Image function)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    working_dir: str | None = None
    code_dir: Path | None = None  # a Zip function's package, mounted at /var/task
    runtime: str | None = None
    code_id: str = ""  # the image digest or CodeSha256: a new deploy is a new environment

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.arn, self.version, self.code_id)

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.version}"


def registry_reference(image_uri: str, registry: str | None) -> str:
    """The pullable reference of an ECR image URI: the same repository in the loopback
    registry (images step pushes there under the ECR repository's name)."""
    if registry and ECR_HOST.match(image_uri):
        return registry + "/" + ECR_HOST.sub("", image_uri)
    return image_uri


def spec_from(answer: Mapping[str, Any], *, registry: str | None, code: CodeStore) -> FunctionSpec:
    """The FunctionSpec of a GetFunction answer (its Configuration and Code)."""
    config = answer.get("Configuration") or {}
    arn = str(config["FunctionArn"])
    version = str(config.get("Version") or "$LATEST")
    unqualified = arn if arn.count(":") == 6 else arn.rsplit(":", 1)[0]
    common: dict[str, Any] = {
        "name": str(config["FunctionName"]),
        "arn": unqualified,
        "version": version,
        "region": arn.split(":")[3],
        "timeout": int(config.get("Timeout") or 3),
        "memory": int(config.get("MemorySize") or 128),
        "environment": dict((config.get("Environment") or {}).get("Variables") or {}),
    }
    if config.get("PackageType") == "Image":
        image_uri = str((answer.get("Code") or {}).get("ImageUri") or "")
        if not image_uri:
            raise FunctionUnrunnable(f"function {common['name']} has no ImageUri")
        image_config = (config.get("ImageConfigResponse") or {}).get("ImageConfig") or {}
        return FunctionSpec(
            **common,
            image=registry_reference(image_uri, registry),
            pull=True,
            command=list(image_config.get("Command") or []) or None,
            entrypoint=list(image_config.get("EntryPoint") or []) or None,
            working_dir=image_config.get("WorkingDirectory") or None,
            code_id=image_uri,
        )
    runtime = str(config.get("Runtime") or "")
    matched = PYTHON_RUNTIME.match(runtime)
    if matched is None:
        raise FunctionUnrunnable(
            f"function {common['name']}: the sandbox runs Zip functions of python3.x runtimes "
            f"only, not {runtime or 'no runtime'}"
        )
    sha = str(config.get("CodeSha256") or "")
    code_dir = code.directory(sha)
    if code_dir is None:
        raise FunctionUnrunnable(
            f"function {common['name']}: the sandbox never saw its package (CodeSha256 {sha}); "
            "deploy it through the sandbox's Lambda endpoint"
        )
    return FunctionSpec(
        **common,
        image=RUNTIME_IMAGE.format(version=matched.group(1)),
        pull=False,
        command=[str(config.get("Handler") or "lambda_function.lambda_handler")],
        code_dir=code_dir,
        runtime=runtime,
        code_id=sha,
    )


@dataclass
class CodeStore:
    """Zip packages seen on their way to moto, by CodeSha256, unpacked for mounting."""

    root: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def code_sha256(data: bytes) -> str:
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    def add(self, data: bytes) -> str:
        sha = self.code_sha256(data)
        target = self._path(sha)
        with self._lock:
            if target.is_dir():
                return sha
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    archive.extractall(partial)
            except zipfile.BadZipFile:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            partial.rename(target)
        return sha

    def directory(self, sha: str) -> Path | None:
        path = self._path(sha)
        return path if path.is_dir() else None

    def _path(self, sha: str) -> Path:
        # CodeSha256 is base64, "/" included: its hex form names the folder.
        try:
            name = base64.b64decode(sha, validate=True).hex()
        except ValueError:
            name = ""
        return self.root / (name or "unknown")
