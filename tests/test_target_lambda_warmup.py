"""The probe loop (lib.http_probe) as the Lambda warm-up runs it: backoff with jitter inside a
budget, 29 s per attempt; the URL and invoke probes."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from deploytools.lib.http_probe import Probe, http_probe, until_healthy
from deploytools.lib.retry import Backoff
from deploytools.steps.targets import warmup


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def backoff(clock: FakeClock, jitter: float = 1.0) -> Backoff:
    return replace(warmup.BACKOFF, sleep=clock.sleep, clock=clock.monotonic, random=lambda: jitter)


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    full = replace(warmup.BACKOFF, random=lambda: 1.0)
    half = replace(warmup.BACKOFF, random=lambda: 0.0)
    assert [full.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 20, 20]
    assert [half.delay(n) for n in range(1, 4)] == [0.5, 1, 2]


def test_until_healthy_stops_at_the_first_success() -> None:
    clock = FakeClock()
    outcomes = iter([False, False, True])
    result = until_healthy(
        lambda _: Probe(next(outcomes), "x"), budget=warmup.budget(60), backoff=backoff(clock)
    )
    assert (result.healthy, result.attempts) == (True, 3)
    assert clock.sleeps == [1, 2]


def test_until_healthy_gives_up_when_the_next_wait_would_pass_the_budget() -> None:
    clock = FakeClock()
    timeouts: list[float] = []

    def probe(timeout: float) -> Probe:
        timeouts.append(timeout)
        clock.now += timeout  # every attempt times out, like API Gateway's 504 after 29 s
        return Probe(False, "504")

    result = until_healthy(probe, budget=warmup.budget(100), backoff=backoff(clock))

    assert not result.healthy
    assert result.last.description == "504"
    assert timeouts[0] == warmup.API_GATEWAY_LIMIT  # never longer than API Gateway waits
    assert all(t <= warmup.API_GATEWAY_LIMIT for t in timeouts)
    assert clock.now <= 100 + warmup.API_GATEWAY_LIMIT
    assert result.attempts == len(timeouts) == 4


@pytest.fixture
def slow_then_fast() -> Iterator[str]:
    """A server whose first answer takes 1.5 s (a cold start), later ones are immediate."""
    calls: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls.append(1)
            if len(calls) == 1:
                time.sleep(1.5)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


def test_http_probe_times_out_then_succeeds(slow_then_fast: str) -> None:
    probe = http_probe(slow_then_fast)
    first = probe(0.3)
    assert not first.healthy
    assert first.description == f"GET {slow_then_fast}: no answer within 0 s"
    assert probe(5) == Probe(True, f"GET {slow_then_fast} → 200: ok")


def test_http_probe_wants_the_expected_status(slow_then_fast: str) -> None:
    probe = http_probe(slow_then_fast, expect_status=204)
    probe(5)
    assert not probe(5).healthy


def test_invoke_probe_reads_function_errors() -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    stubber = Stubber(client)

    def payload(text: str) -> StreamingBody:
        return StreamingBody(io.BytesIO(text.encode()), len(text))

    expected = {"FunctionName": "f", "Qualifier": "live", "Payload": b"{}", "LogType": "None"}
    stubber.add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": payload('{"errorType": "ImportError"}'),
        },
        expected,
    )
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": payload("{}")}, expected)
    stubber.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded", 429)
    with stubber:
        probe = warmup.invoke_probe(client, function="f", qualifier="live", body=None)
        failed = probe(29)
        assert not failed.healthy
        assert failed.description == 'invoke f:live → Unhandled error: {"errorType": "ImportError"}'
        assert probe(29) == Probe(True, "invoke f:live → 200: {}")
        throttled = probe(29)
        assert not throttled.healthy
        assert "TooManyRequestsException" in throttled.description
