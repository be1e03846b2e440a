"""A loopback stand-in of GitHub's REST API for issue comments (list, create, update), which
records every comment; the PR-comment tests talk to it instead of api.github.com."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LIST_OR_CREATE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments(?:\?.*)?$")
UPDATE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


class FakeGitHub:
    def __init__(self) -> None:
        self.comments: dict[int, dict[str, Any]] = {}  # id -> {"issue", "body"}
        self.requests: list[tuple[str, str]] = []
        self.token = "ghs_fake"
        self.url = ""

    def on(self, issue: int) -> list[dict[str, Any]]:
        return [{"id": i, **c} for i, c in sorted(self.comments.items()) if c["issue"] == issue]


def _handler(api: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {api.token}":
                self._reply(401, {"message": "Bad credentials"})
                return False
            return True

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return dict(json.loads(self.rfile.read(length) or b"{}"))

        def do_GET(self) -> None:
            api.requests.append(("GET", self.path))
            match = LIST_OR_CREATE.match(self.path)
            if not self._authorized():
                return
            if not match:
                self._reply(404, {"message": "Not Found"})
                return
            self._reply(200, [{"id": c["id"], "body": c["body"]} for c in api.on(int(match[2]))])

        def do_POST(self) -> None:
            api.requests.append(("POST", self.path))
            match = LIST_OR_CREATE.match(self.path)
            if not self._authorized() or not match:
                return
            body = self._body()["body"]
            if len(body) > 65_536:
                self._reply(422, {"message": "body is too long (maximum is 65536 characters)"})
                return
            new_id = max(api.comments, default=100) + 1
            api.comments[new_id] = {"issue": int(match[2]), "body": body}
            self._reply(201, {"id": new_id, "body": body})

        def do_PATCH(self) -> None:
            api.requests.append(("PATCH", self.path))
            match = UPDATE.match(self.path)
            if not self._authorized() or not match or int(match[2]) not in api.comments:
                return
            api.comments[int(match[2])]["body"] = self._body()["body"]
            self._reply(200, {"id": int(match[2])})

    return Handler


@contextmanager
def fake_github() -> Iterator[FakeGitHub]:
    api = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
