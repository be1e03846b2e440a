"""API Gateway HTTP APIs on loopback: the routes moto's apigatewayv2 holds, answered for real.

moto stores HTTP APIs, routes, integrations and stages, and reports each API's endpoint as
`https://{api_id}.execute-api.{region}.amazonaws.com`, which leads nowhere. This server answers
that endpoint on loopback, with the endpoint's host as the first path segment:

    https://abc123.execute-api.us-east-1.amazonaws.com/predict
    http://127.0.0.1:PORT/abc123.execute-api.us-east-1.amazonaws.com/predict

(`loopback_url` maps one to the other; `sandbox_url` does it for the running sandbox, whose
state lists this server under `serving["apigateway"]`). Each request is matched against the
API's routes as API Gateway matches them (exact path, then `{param}`, then `{proxy+}`, then
`$default`; the method, then ANY) on the `$default` stage or the stage named by the first path
segment. An `AWS_PROXY` integration with payload format 2.0 invokes its Lambda function
(function, version or alias ARN) through the sandbox's Lambda endpoint, so the function's
container answers; its answer is mapped back as API Gateway maps it. API Gateway's own answers
are kept: 404 `Not Found` for no route, 500 `Internal Server Error` for a function error,
503 `Service Unavailable` when the integration outlasts its timeout, which is the
integration's `TimeoutInMillis` capped at 29 s. DEPLOYTOOLS_SANDBOX_API_TIMEOUT_SECONDS lowers
that cap (tests make a cold start outlast it quickly); 29 s is the default.

An API in another account than moto's default (an environment with its own `account_id`) is
found in moto's backends (moto runs in the sandbox's process) and read, and its function
invoked, with keys of that account (sts:AssumeRole, as deploytools itself acts there).

Not served (answered 500, and logged): integrations other than AWS_PROXY to Lambda, payload
format 1.0, authorizers (routes with one are served as if they had none), CORS and throttling.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.config import Config

MAX_TIMEOUT_SECONDS = 29.0
TIMEOUT_VARIABLE = "DEPLOYTOOLS_SANDBOX_API_TIMEOUT_SECONDS"
EXECUTE_API = re.compile(
    r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)
ACCOUNT = "123456789012"  # moto's default account, which the sandbox's fake keys map to
FAKE_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def loopback_url(url: str, base: str) -> str | None:
    """The loopback URL serving an execute-api URL, or None when `url` is not one."""
    parts = urlsplit(url)
    if not EXECUTE_API.match(parts.hostname or ""):
        return None
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{base.rstrip('/')}/{parts.hostname}{rest}"


def sandbox_url(url: str) -> str | None:
    """`url` as the running sandbox serves it; None when no sandbox serves it."""
    from deploytools.sandbox import state

    running = state.read()
    base = running.serving.get("apigateway") if running else None
    return loopback_url(url, base) if base else None


def timeout_cap() -> float:
    """The integration timeout's cap: 29 s, or less when the sandbox setting says so."""
    value = os.environ.get(TIMEOUT_VARIABLE)
    return min(MAX_TIMEOUT_SECONDS, float(value)) if value else MAX_TIMEOUT_SECONDS


# --- route matching ---------------------------------------------------------------------------


def _segments_match(route: str, path: str) -> dict[str, str] | None:
    """Path parameters when `path` matches the route's path template, else None."""
    want = route.strip("/").split("/") if route.strip("/") else []
    got = path.strip("/").split("/") if path.strip("/") else []
    params: dict[str, str] = {}
    for index, part in enumerate(want):
        greedy = re.fullmatch(r"\{(\w+)\+\}", part)
        if greedy:
            rest = got[index:]
            if not rest:
                return None
            params[greedy.group(1)] = "/".join(rest)
            return params
        if index >= len(got):
            return None
        single = re.fullmatch(r"\{(\w+)\}", part)
        if single:
            params[single.group(1)] = got[index]
        elif part != got[index]:
            return None
    return params if len(got) == len(want) else None


def _rank(route_path: str) -> tuple[int, int]:
    """Exact paths first, then the most literal segments, then greedy paths."""
    greedy = "+}" in route_path
    literal = sum(1 for p in route_path.split("/") if p and not p.startswith("{"))
    return (1 if greedy else 0, -literal)


def match_route(
    routes: list[dict[str, Any]], method: str, path: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The route API Gateway picks for `method path`, with its path parameters."""
    candidates = []
    for route in routes:
        key = str(route.get("RouteKey", ""))
        if key == "$default":
            continue
        route_method, _, route_path = key.partition(" ")
        if route_method not in (method, "ANY"):
            continue
        params = _segments_match(route_path, path)
        if params is not None:
            candidates.append((_rank(route_path), route_method == "ANY", route, params))
    if candidates:
        candidates.sort(key=lambda c: (c[0], c[1]))
        return candidates[0][2], candidates[0][3]
    fallback = next((r for r in routes if r.get("RouteKey") == "$default"), None)
    return (fallback, {}) if fallback else None


# --- events and answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # the path API Gateway received (stage included, for a named stage)
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


def event_v2(
    request: Request,
    *,
    api_id: str,
    domain: str,
    stage: str,
    route_key: str,
    params: Mapping[str, str],
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends a Lambda integration."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    headers["host"] = domain
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes)[:16].decode(),
            "routeKey": route_key,
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = dict(params)
    if request.body:
        try:
            event["body"] = request.body.decode()
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    return event


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def message(cls, status: int, text: str) -> Answer:
        body = json.dumps({"message": text}).encode()
        return cls(status, [("Content-Type", "application/json")], body)


def answer_from(payload: bytes) -> Answer:
    """A 2.0 integration's answer: its statusCode/headers/body, or the payload as JSON body."""
    try:
        document = json.loads(payload or b"null")
    except ValueError:
        return Answer.message(500, "Internal Server Error")
    if not isinstance(document, dict) or "statusCode" not in document:
        return Answer(200, [("Content-Type", "application/json")], payload)
    headers = [(str(k), str(v)) for k, v in (document.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(c)) for c in document.get("cookies") or []]
    body = document.get("body")
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode() if body else b""
    if document.get("isBase64Encoded") and raw:
        raw = base64.b64decode(raw)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return Answer(int(document["statusCode"]), headers, raw)


def function_of(integration_uri: str) -> str:
    """The Lambda function (ARN, qualifier included) of an integration URI."""
    if "/functions/" in integration_uri:
        return integration_uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]
    return integration_uri


# --- the server --------------------------------------------------------------------------------


def api_account(api_id: str) -> str:
    """The account whose moto backend holds the API (moto's default when none is found, or
    when moto does not run in this process)."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account_id, regions in list(apigatewayv2_backends.items()):
        if any(api_id in backend.apis for backend in list(regions.values())):
            return str(account_id)
    return ACCOUNT


def account_of(function: str, default: str) -> str:
    """The account in a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:...)."""
    parts = function.split(":")
    return parts[4] if function.startswith("arn:") and len(parts) > 4 and parts[4] else default


class Gateway:
    def __init__(self, moto_url: str, lambda_url: str) -> None:
        self.moto_url = moto_url
        self.lambda_url = lambda_url
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._keys: dict[str, dict[str, str]] = {ACCOUNT: FAKE_KEYS}
        self._lock = threading.Lock()
        self._invokes = ThreadPoolExecutor(max_workers=32, thread_name_prefix="apigw-invoke")

    def _keys_for(self, account: str) -> dict[str, str]:
        """Keys that act in `account`: moto maps an assumed role's key id to its account."""
        if account not in self._keys:
            sts = boto3.client(
                "sts", endpoint_url=self.moto_url, region_name="us-east-1", **FAKE_KEYS
            )
            role = f"arn:aws:iam::{account}:role/deploytools-sandbox-apigateway"
            keys = sts.assume_role(RoleArn=role, RoleSessionName="apigateway")["Credentials"]
            self._keys[account] = {
                "aws_access_key_id": keys["AccessKeyId"],
                "aws_secret_access_key": keys["SecretAccessKey"],
            }
        return self._keys[account]

    def client(self, service: str, region: str, account: str = ACCOUNT) -> Any:
        with self._lock:
            key = (service, region, account)
            if key not in self._clients:
                url = self.lambda_url if service == "lambda" else self.moto_url
                # The integration's timeout is ours to enforce: the invoke itself may run long.
                config = Config(
                    retries={"mode": "standard", "total_max_attempts": 1},
                    read_timeout=960,
                    max_pool_connections=32,
                )
                self._clients[key] = boto3.client(
                    service,
                    endpoint_url=url,
                    region_name=region,
                    config=config,
                    **self._keys_for(account),
                )
            return self._clients[key]

    def handle(self, request: Request) -> Answer:
        domain, _, rest = request.path.lstrip("/").partition("/")
        found = EXECUTE_API.match(domain)
        if found is None:
            return Answer.message(404, "Not Found")
        api_id, region = found.group("api"), found.group("region")
        path = "/" + rest
        account = api_account(api_id)
        apis = self.client("apigatewayv2", region, account)
        try:
            apis.get_api(ApiId=api_id)
        except apis.exceptions.NotFoundException:
            return Answer.message(404, "Not Found")
        stages = {s["StageName"] for s in apis.get_stages(ApiId=api_id).get("Items", [])}
        first = rest.split("/", 1)[0]
        if first in stages and first != "$default":
            stage, route_path = first, "/" + rest[len(first) :].lstrip("/")
        elif "$default" in stages:
            stage, route_path = "$default", path
        else:
            return Answer.message(404, "Not Found")
        routes = apis.get_routes(ApiId=api_id).get("Items", [])
        matched = match_route(routes, request.method, route_path)
        if matched is None:
            return Answer.message(404, "Not Found")
        route, params = matched
        target = str(route.get("Target", ""))
        if not target.startswith("integrations/"):
            return Answer.message(404, "Not Found")
        integration = apis.get_integration(ApiId=api_id, IntegrationId=target.split("/", 1)[1])
        served = Request(
            request.method, path, request.query, request.headers, request.body, request.source_ip
        )
        return self._integrate(
            integration,
            event_v2(
                served,
                api_id=api_id,
                domain=domain,
                stage=stage,
                route_key=str(route["RouteKey"]),
                params=params,
            ),
            region,
            account,
        )

    def _integrate(
        self, integration: dict[str, Any], event: dict[str, Any], region: str, account: str
    ) -> Answer:
        uri = str(integration.get("IntegrationUri", ""))
        if integration.get("IntegrationType") != "AWS_PROXY" or ":lambda:" not in uri:
            return self._not_served(f"integration {integration.get('IntegrationType')} {uri}")
        if str(integration.get("PayloadFormatVersion", "2.0")) != "2.0":
            return self._not_served("payload format 1.0")
        limit = min(timeout_cap(), int(integration.get("TimeoutInMillis") or 30000) / 1000)
        client = self.client("lambda", region, account_of(function_of(uri), account))
        future = self._invokes.submit(
            client.invoke, FunctionName=function_of(uri), Payload=json.dumps(event).encode()
        )
        try:
            answer = future.result(timeout=limit)
        except FutureTimeout:
            # The function goes on (and warms up); the caller gets API Gateway's answer.
            return Answer.message(503, "Service Unavailable")
        except Exception as exc:
            print(f"apigateway: invoke {function_of(uri)} failed: {exc}", file=sys.stderr)
            return Answer.message(500, "Internal Server Error")
        if answer.get("FunctionError"):
            return Answer.message(500, "Internal Server Error")
        return answer_from(answer["Payload"].read())

    @staticmethod
    def _not_served(what: str) -> Answer:
        print(f"apigateway: simulated: {what} is not served by the sandbox", file=sys.stderr)
        return Answer.message(500, "Internal Server Error")

    def close(self) -> None:
        self._invokes.shutdown(wait=False, cancel_futures=True)


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            request = Request(
                self.command, path, query, list(self.headers.items()), body, self.client_address[0]
            )
            try:
                answer = gateway.handle(request)
            except Exception as exc:  # the client must get an answer, not a hung socket
                print(f"apigateway: {exc}", file=sys.stderr)
                answer = Answer.message(500, "Internal Server Error")
            self.send_response(answer.status)
            for key, value in answer.headers:
                self.send_header(key, value)
            self.send_header("Apigw-Requestid", uuid.uuid4().hex[:16])
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the function's container has the log that matters."""

    return Handler


@dataclass
class Running:
    url: str
    stop: Callable[[], None]


def serve(moto_url: str, lambda_url: str, *, host: str = "127.0.0.1", port: int = 0) -> Running:
    """Start the HTTP API server in a thread (the sandbox's, and tests')."""
    gateway = Gateway(moto_url, lambda_url)
    server = ThreadingHTTPServer((host, port), _handler(gateway))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="apigateway", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        gateway.close()

    return Running(f"http://{host}:{server.server_address[1]}", stop)
