"""Push retries: a loopback proxy in front of the real registry injects failures.

The Docker engine pushes through the proxy. Failures are injected where the engine itself
does not retry (the /v2/ ping and the manifest PUT; it retries blob uploads on its own, with
5 s pauses), so what is measured is deploytools' own retry and fail-fast behaviour.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.lib.retry import Backoff
from deploytools.output import Reporter
from deploytools.steps.images import BuildImages, ImageResult, PushFailed, build_images
from deploytools.steps.images.builder import SdkBuilder
from tests.fixtures.images.apps import env_config

Failure = Callable[[str, str, int], str | None]  # (method, path, nth request) -> what to do
ERRORS = {
    503: ("UNAVAILABLE", "service unavailable"),
    403: ("DENIED", "requested access to the resource is denied"),
    404: ("NAME_UNKNOWN", "repository name not known to registry"),
}
HOP_BY_HOP = {"transfer-encoding", "content-length", "connection", "keep-alive"}


class FlakyProxy:
    """Forwards to the registry, except for the requests `fail` picks: an HTTP error with a
    registry-style JSON body, or "reset" (the connection is closed with an RST)."""

    def __init__(self, upstream: str, fail: Failure) -> None:
        self.upstream = upstream
        self.fail = fail
        self.requests: list[tuple[str, str, str]] = []  # (method, path, what happened)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and fragment in p)

    def _decide(self, method: str, path: str) -> str | None:
        with self._lock:
            action = self.fail(method, path, len(self.requests) + 1)
            self.requests.append((method, path, action or "forwarded"))
        return action

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                body = self._body()
                action = proxy._decide(self.command, self.path)
                if action == "reset":
                    linger = struct.pack("ii", 1, 0)  # close with RST: "connection reset"
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    return
                if action is not None:
                    code, message = ERRORS[int(action)]
                    payload = json.dumps({"errors": [{"code": code, "message": message}]})
                    self._reply(
                        int(action), [("Content-Type", "application/json")], payload.encode()
                    )
                    return
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                if body or self.command in ("PUT", "PATCH", "POST"):
                    headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                self._reply(response.status, response.getheaders(), response.read())
                upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        return Handler


@pytest.fixture
def flaky(registry: str) -> Iterator[Callable[[Failure], FlakyProxy]]:
    proxies: list[FlakyProxy] = []

    def start(fail: Failure) -> FlakyProxy:
        proxies.append(FlakyProxy(registry, fail))
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.close()


def push_fn(
    aws: AwsContext, app: Path, proxy: FlakyProxy, docker_engine: Any, out: io.StringIO
) -> ImageResult:
    backoff = Backoff(attempts=4, first=0.05, factor=2)
    request = BuildImages(root=app, names=["fn"], registry_override=proxy.address, backoff=backoff)
    (result,) = build_images(
        aws,
        env_config(app),
        request,
        reporter=Reporter(out=out, err=io.StringIO()),
        builder=SdkBuilder(docker_engine, backoff=backoff),
    )
    return result


def manifest_puts(fail_first: int, action: str) -> Failure:
    seen: list[int] = []

    def fail(method: str, path: str, nth: int) -> str | None:
        if method == "PUT" and "/manifests/" in path:
            seen.append(nth)
            if len(seen) <= fail_first:
                return action
        return None

    return fail


def test_503s_on_the_manifest_are_retried_with_backoff(
    images_app: Path,
    moto_server_aws: AwsContext,
    flaky: Callable[[Failure], FlakyProxy],
    docker_engine: Any,
) -> None:
    proxy = flaky(manifest_puts(2, "503"))
    out = io.StringIO()
    result = push_fn(moto_server_aws, images_app, proxy, docker_engine, out)
    assert result.pushed and result.digest
    assert proxy.count("PUT", "/manifests/") == 3
    log = out.getvalue()
    assert "attempt 1 failed (received unexpected HTTP status: 503 Service Unavailable)" in log
    assert "retrying in 0.1s" in log and "attempt 2 failed" in log


def test_a_reset_connection_is_retried(
    images_app: Path,
    moto_server_aws: AwsContext,
    flaky: Callable[[Failure], FlakyProxy],
    docker_engine: Any,
) -> None:
    proxy = flaky(lambda method, path, nth: "reset" if nth == 1 else None)
    out = io.StringIO()
    result = push_fn(moto_server_aws, images_app, proxy, docker_engine, out)
    assert result.pushed
    assert proxy.requests[0] == ("GET", "/v2/", "reset")
    assert "attempt 1 failed" in out.getvalue() and "EOF" in out.getvalue()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("403", "denied (the credentials may not push here: they need ecr:InitiateLayerUpload"),
        ("404", "name unknown (the repository does not exist in this registry"),
    ],
)
def test_a_permanent_error_fails_at_once_with_the_reason(
    images_app: Path,
    moto_server_aws: AwsContext,
    flaky: Callable[[Failure], FlakyProxy],
    docker_engine: Any,
    status: str,
    reason: str,
) -> None:
    proxy = flaky(manifest_puts(99, status))
    with pytest.raises(PushFailed) as caught:
        push_fn(moto_server_aws, images_app, proxy, docker_engine, io.StringIO())
    assert f"refused by the registry: {reason}" in str(caught.value)
    assert proxy.count("PUT", "/manifests/") == 1


def test_transient_errors_past_the_last_attempt_fail_with_the_last_reason(
    images_app: Path,
    moto_server_aws: AwsContext,
    flaky: Callable[[Failure], FlakyProxy],
    docker_engine: Any,
) -> None:
    proxy = flaky(manifest_puts(99, "503"))
    with pytest.raises(PushFailed) as caught:
        push_fn(moto_server_aws, images_app, proxy, docker_engine, io.StringIO())
    assert str(caught.value).endswith(
        "failed 4 times; last error: received unexpected HTTP status: 503 Service Unavailable"
    )
    assert proxy.count("PUT", "/manifests/") == 4
