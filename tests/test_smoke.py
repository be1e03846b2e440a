"""Smoke checks against a real HTTP server on 127.0.0.1 that fails N times, then answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploytools.config.model import Smoke
from deploytools.lib.retry import Backoff, Jitter
from deploytools.steps.smoke import BACKOFF, SmokeFailed, check_one, run_smoke

FAST = Backoff(first=0.05, cap=0.2, attempts=None, jitter=Jitter.EQUAL)


@dataclass
class Flaky:
    """Answers 503 `failures` times, then 200 (or 503 forever with failures=-1)."""

    failures: int
    calls: int = 0
    methods: tuple[str, ...] = ()


@pytest.fixture
def server() -> Iterator[tuple[str, Flaky]]:
    state = Flaky(failures=0)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.calls += 1
            state.methods += (self.command,)
            down = state.failures < 0 or state.calls <= state.failures
            body = b"model still loading: cold start" if down else b"ok"
            self.send_response(503 if down else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_succeeds_after_failures(server: tuple[str, Flaky]) -> None:
    url, state = server
    state.failures = 3
    result = check_one(Smoke(url=f"{url}/health", timeout=10), backoff=FAST)
    assert result.ok and result.status == 200 and result.attempts == 4 and state.calls == 4


def test_method_is_used(server: tuple[str, Flaky]) -> None:
    url, state = server
    check_one(Smoke(url=f"{url}/predict", method="POST"), backoff=FAST)
    assert state.methods == ("POST",)


def test_never_succeeds_fails_with_status_and_body(server: tuple[str, Flaky]) -> None:
    url, state = server
    state.failures = -1
    with pytest.raises(SmokeFailed) as caught:
        run_smoke([Smoke(url=f"{url}/health", timeout=1)], backoff=FAST)
    message = str(caught.value)
    assert message.startswith(
        f"smoke GET {url}/health: expected 200, got 503: model still loading: cold start (after "
    )
    result = caught.value.results[0]
    assert not result.ok and result.status == 503 and result.attempts >= 3
    assert result.seconds < 2  # within the check's own timeout (1 s) plus one request


def test_no_response_says_so() -> None:
    with pytest.raises(SmokeFailed) as caught:
        run_smoke([Smoke(url="http://127.0.0.1:9/health", timeout=1)], backoff=FAST)
    assert "expected 200, no response: " in str(caught.value)
    assert caught.value.results[0].status is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = replace(BACKOFF, first=1.0, random=lambda: 1.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    low = replace(BACKOFF, first=1.0, random=lambda: 0.0)
    assert [low.delay(n) for n in range(1, 4)] == [0.5, 1.0, 2.0]


def test_every_check_runs_and_every_failure_is_reported(server: tuple[str, Flaky]) -> None:
    url, _ = server
    checks = [Smoke(url=f"{url}/health"), Smoke(url="http://127.0.0.1:9/x", timeout=1)]
    with pytest.raises(SmokeFailed) as caught:
        run_smoke(checks, backoff=FAST)
    assert [r.ok for r in caught.value.results] == [True, False]
    assert str(caught.value).count("\n") == 0  # one line: only the failed check
