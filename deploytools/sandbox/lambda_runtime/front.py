"""The sandbox's Lambda endpoint: moto for the control plane, real containers for Invoke.

Every request is forwarded to moto unchanged except:

- `Invoke` (`POST /2015-03-31/functions/{name}/invocations`): the function version named
  (qualifier in the path, the ARN or `Qualifier`; an alias resolves to its version through
  moto's GetFunction) runs in an execution environment (see `environments`) and the answer is
  Lambda's: 200 with the handler's payload, or with `X-Amz-Function-Error: Unhandled` and the
  `errorType`/`errorMessage` document; `X-Amz-Executed-Version` names the version.
  `InvocationType: Event` answers 202 and runs in the background; `DryRun` answers 204.
- `CreateFunction` / `UpdateFunctionCode` of a Zip function: the package (`ZipFile`, or the S3
  object named, read from moto's S3 as the caller; see `packages`) is kept by CodeSha256
  before moto sees the call, so the function can be mounted later. A package that cannot be
  read or unzipped fails the call with Lambda's `InvalidParameterValueException`, and moto
  never sees it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import requests

from deploytools.sandbox import containers, loopback_http
from deploytools.sandbox.lambda_runtime import packages
from deploytools.sandbox.lambda_runtime.environments import Environments, StartFailed
from deploytools.sandbox.lambda_runtime.functions import (
    CodeStore,
    FunctionUnrunnable,
    spec_from,
)

API = "/2015-03-31/functions"

Answer = tuple[int, dict[str, str], bytes]


def function_and_qualifier(raw: str, query: str) -> tuple[str, str | None]:
    """(name, qualifier) of Invoke's FunctionName path part and its `Qualifier` parameter."""
    name = unquote(raw)
    qualifier: str | None = next(iter(parse_qs(query).get("Qualifier") or []), None)
    if name.startswith("arn:"):
        parts = name.split(":")
        name = parts[6] if len(parts) > 6 else name
        if len(parts) > 7:
            qualifier = parts[7]
    elif ":" in name:
        name, qualifier = name.split(":", 1)
    return name, qualifier


def _error(status: int, error_type: str, message: str) -> Answer:
    body = json.dumps({"Type": "User", "message": message}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}, body


class Front:
    def __init__(
        self, moto_url: str, *, environments: Environments, code: CodeStore, registry: str | None
    ) -> None:
        self.moto_url = moto_url.rstrip("/")
        self.environments = environments
        self.code = code
        self.registry = registry
        self.session = requests.Session()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = loopback_http.forward(
            self.session, self.moto_url, loopback_http.Request(method, path, headers, body)
        )
        return answer.status, answer.headers, answer.body

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        split = urlsplit(path)
        parts = split.path.rstrip("/").split("/")
        # ['', '2015-03-31', 'functions', name, 'invocations']
        if method == "POST" and len(parts) == 5 and parts[4] == "invocations":
            return self.invoke(parts[3], split.query, headers, body)
        code: dict[str, Any] | None = None
        if method == "POST" and split.path.rstrip("/") == API:
            code = json.loads(body or b"{}").get("Code") or {}
        elif method == "PUT" and len(parts) == 5 and parts[4] == "code":
            code = json.loads(body or b"{}")
        if code is not None and not code.get("DryRun"):
            refused = self._keep_code(code, headers)
            if refused is not None:
                return refused  # as Lambda: the call fails and nothing changes
        return self.forward(method, path, headers, body)

    def invoke(self, raw_name: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        name, qualifier = function_and_qualifier(raw_name, query)
        lookup = f"{API}/{quote(name, safe='')}"
        if qualifier:
            lookup += f"?Qualifier={quote(qualifier, safe='')}"
        status, out, answer = self.forward("GET", lookup, _plain(headers), b"")
        if status != 200:
            return status, out, answer
        try:
            spec = spec_from(json.loads(answer), registry=self.registry, code=self.code)
        except FunctionUnrunnable as exc:
            return _error(409, "ResourceConflictException", f"sandbox: {exc}")
        kind = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        base = {"x-amzn-RequestId": str(uuid.uuid4()), "X-Amz-Executed-Version": spec.version}
        if kind == "DryRun":
            return 204, base, b""
        if kind == "Event":
            threading.Thread(
                target=self._quietly, args=(spec, body), name="lambda-event", daemon=True
            ).start()
            return 202, base, b""
        try:
            outcome = self.environments.invoke(spec, body)
        except StartFailed as exc:
            return _error(
                409,
                "ResourceConflictException",
                f"The function {spec.name}:{spec.version} cannot start in the sandbox: {exc}",
            )
        result = {**base, "Content-Type": "application/json"}
        if outcome.failed:
            result["X-Amz-Function-Error"] = "Unhandled"
        return 200, result, outcome.payload

    def _quietly(self, spec: Any, body: bytes) -> None:
        # An asynchronous invocation's failure goes nowhere without a destination.
        with contextlib.suppress(StartFailed):
            self.environments.invoke(spec, body)

    def _keep_code(self, code: dict[str, Any], headers: dict[str, str]) -> Answer | None:
        """Keep the package a Zip function is created or updated with; Lambda's answer when
        the package cannot be read."""
        try:
            data = packages.package_of(code, moto_url=self.moto_url, headers=headers)
            if data is not None:
                self.code.add(data)
        except packages.PackageUnavailable as exc:
            return _error(400, "InvalidParameterValueException", str(exc))
        except zipfile.BadZipFile:
            return _error(
                400,
                "InvalidParameterValueException",
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        return None


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _plain(headers: dict[str, str]) -> dict[str, str]:
    """The caller's headers for our own GET to moto (it reads account and region from them)."""
    return {
        k: v
        for k, v in headers.items()
        if k.lower() in ("authorization", "x-amz-date", "x-amz-security-token", "user-agent")
    }


def _answer(front: Front) -> loopback_http.Handle:
    def handle(request: loopback_http.Request) -> loopback_http.Answer:
        return loopback_http.Answer(
            *front.handle(request.method, request.path, request.headers, request.body)
        )

    return handle


def _failed(exc: Exception) -> loopback_http.Answer:
    """The client must get an answer, not a hung socket."""
    return loopback_http.Answer(*_error(500, "ServiceException", f"sandbox Lambda emulator: {exc}"))


@dataclass
class Running:
    url: str
    environments: Environments
    stop: Callable[[], None]


def serve(
    moto_url: str,
    *,
    work_dir: Path,
    registry: str | None,
    sandbox_id: str,
    host: str = "127.0.0.1",
    port: int = 0,
    workloads: containers.DockerWorkloads | str | None = None,
) -> Running:
    """Start the Lambda front in a thread (the sandbox's, and tests'). Function containers
    carry the label deploytools.sandbox=`sandbox_id`."""
    if workloads is None:
        workloads = containers.connect(registry, sandbox_id)
    environments = Environments(workloads, moto_url=moto_url)
    front = Front(
        moto_url, environments=environments, code=CodeStore(work_dir / "code"), registry=registry
    )
    served = loopback_http.serve(
        _answer(front), _failed, name="lambda-emulator", host=host, port=port
    )

    def stop() -> None:
        served.stop()
        environments.close()

    return Running(served.url, environments, stop)
