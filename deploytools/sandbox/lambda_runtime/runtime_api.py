"""The Lambda Runtime API (2018-06-01) for one execution environment, on a loopback port.

The runtime in the container long-polls `GET /runtime/invocation/next`, then posts
`/runtime/invocation/{id}/response` or `/{id}/error`; a runtime that cannot load the handler
posts `/runtime/init/error` and exits. One environment serves one invocation at a time, as
Lambda's do.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
# How often a blocked `next` looks up from its queue to see whether the server is closing.
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Outcome:
    """What an invocation came to: the payload Invoke returns, and the error type if any."""

    payload: bytes
    error_type: str | None = None  # None: the handler answered

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    @classmethod
    def error(cls, error_type: str, message: str) -> Outcome:
        body = {"errorType": error_type, "errorMessage": message}
        return cls(json.dumps(body).encode(), error_type)


@dataclass
class Invocation:
    payload: bytes
    deadline_ms: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None

    def finish(self, outcome: Outcome) -> None:
        if not self.done.is_set():
            self.outcome = outcome
            self.done.set()


class RuntimeApi:
    """A Runtime API server for one environment; `submit` queues an invocation for it."""

    def __init__(self, *, function_arn: str, host: str = "127.0.0.1") -> None:
        self.function_arn = function_arn
        self._queue: queue.Queue[Invocation] = queue.Queue()
        self._active: dict[str, Invocation] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.init_error: Outcome | None = None
        self.ended: Outcome | None = None  # the runtime is gone: every invocation gets this
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="lambda-runtime-api",
            daemon=True,
        )
        self._thread.start()

    @property
    def address(self) -> str:
        """host:port, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def submit(self, payload: bytes, *, timeout_seconds: float) -> Invocation:
        deadline_ms = int((time.time() + timeout_seconds) * 1000)
        invocation = Invocation(payload, deadline_ms)
        self._queue.put(invocation)
        if self.ended is not None:
            self.fail_all(self.ended)
        return invocation

    def end(self, outcome: Outcome) -> None:
        """The runtime is gone (it exited, or failed to initialise): nothing more will run."""
        if self.ended is None:
            self.ended = outcome
        self.fail_all(self.ended)

    def fail_all(self, outcome: Outcome) -> None:
        """Finish every queued or running invocation with `outcome` (the runtime is gone)."""
        with self._lock:
            active = list(self._active.values())
            self._active.clear()
        while True:
            try:
                active.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for invocation in active:
            invocation.finish(outcome)

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    # --- the endpoints ---------------------------------------------------------------------

    def next_invocation(self) -> Invocation | None:
        while not self._closing.is_set():
            try:
                invocation = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            with self._lock:
                self._active[invocation.id] = invocation
            return invocation
        return None

    def finish(self, request_id: str, outcome: Outcome) -> bool:
        with self._lock:
            invocation = self._active.pop(request_id, None)
        if invocation is None:
            return False
        invocation.finish(outcome)
        return True

    def failed_init(self, outcome: Outcome) -> None:
        self.init_error = outcome
        self.end(outcome)


def _error_outcome(body: bytes, header_type: str | None) -> Outcome:
    """The runtime's error document, as Invoke returns it (errorType, errorMessage, trace)."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    error_type = str(document.get("errorType") or header_type or "Unhandled")
    document.setdefault("errorType", error_type)
    document.setdefault("errorMessage", "")
    # Invoke's error payload has no requestId: that is the runtime's business.
    document.pop("requestId", None)
    return Outcome(json.dumps(document).encode(), error_type)


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"


def _handler(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _answer(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            try:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the container went away mid-answer; its watcher reports that

        def _status(self, status: int, status_text: str) -> None:
            self._answer(status, json.dumps({"status": status_text}).encode())

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._answer(404, b'{"errorType":"NotFound"}')
                return
            invocation = api.next_invocation()
            if invocation is None:
                self._answer(500, b'{"errorType":"Runtime.Shutdown"}')
                return
            self._answer(
                200,
                invocation.payload,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": invocation.id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                    "Lambda-Runtime-Trace-Id": _trace_id(),
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
            if self.path == f"{PREFIX}/init/error":
                api.failed_init(_error_outcome(body, error_type))
                self._status(202, "OK")
                return
            parts = self.path[len(PREFIX) :].strip("/").split("/")
            if not self.path.startswith(PREFIX) or len(parts) != 3 or parts[0] != "invocation":
                self._answer(404, b'{"errorType":"NotFound"}')
                return
            request_id, kind = parts[1], parts[2]
            if kind == "response":
                outcome = Outcome(body)
            elif kind == "error":
                outcome = _error_outcome(body, error_type)
            else:
                self._answer(404, b'{"errorType":"NotFound"}')
                return
            if api.finish(request_id, outcome):
                self._status(202, "OK")
            else:
                self._answer(400, b'{"errorType":"InvalidRequestID"}')

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: what the function prints is in its container's log."""

    return Handler
