"""The HTTP plumbing every sandbox server shares: a threaded loopback server around one
handler function, and the forwarding of a request to moto for the emulators that front it.

A handler takes a `Request` and returns an `Answer`; whatever it raises becomes the answer
`on_error` makes of it, so a client always gets a response, never a hung socket.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

# Headers that describe one hop, not the message.
HOP_HEADERS = frozenset(
    {
        "host",
        "connection",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "accept-encoding",
        "keep-alive",
    }
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # hop-by-hop headers removed
    body: bytes

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


Handle = Callable[[Request], Answer]
OnError = Callable[[Exception], Answer]


@dataclass
class Served:
    url: str
    stop: Callable[[], None]


def serve(
    handle: Handle,
    on_error: OnError,
    *,
    name: str,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: ssl.SSLContext | None = None,
) -> Served:
    """Serve `handle` on host:port (0: a free port) in a daemon thread until `stop()`."""
    server = ThreadingHTTPServer((host, port), _handler_class(handle, on_error))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    scheme = "https" if tls is not None else "http"

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return Served(f"{scheme}://{host}:{server.server_address[1]}", stop)


def forward(session: requests.Session, base_url: str, request: Request) -> Answer:
    """`request` sent on to base_url (moto) unchanged; its answer without hop headers."""
    answer = session.request(
        request.method,
        base_url.rstrip("/") + request.path,
        headers=request.headers,
        data=request.body or None,
        timeout=120,
        allow_redirects=False,
    )
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
    return Answer(answer.status_code, headers, answer.content)


def _handler_class(handle: Handle, on_error: OnError) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one segment: split small writes meet delayed ACKs
        # (~40 ms each), and Go's SDK (Terraform) then sometimes retries a POST that
        # already succeeded.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            try:
                answer = handle(Request(self.command, self.path, headers, body))
            except Exception as exc:  # the client must get an answer
                answer = on_error(exc)
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: polling would drown the sandbox log."""

    return Handler
