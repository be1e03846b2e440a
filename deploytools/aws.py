"""AWS sessions and clients: region, profile, endpoint overrides, retries, the account guard.

The same code talks to AWS, to moto and to the sandbox: only the endpoints differ.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from deploytools.errors import AccountMismatch, BadInput, DeployError

# botocore's names for the per-service endpoint variables (AWS_ENDPOINT_URL_<SERVICE_ID>).
SERVICE_IDS = {
    "ecr": "ECR",
    "ecs": "ECS",
    "eks": "EKS",
    "lambda": "LAMBDA",
    "batch": "BATCH",
    "ssm": "SSM",
    "sts": "STS",
    "s3": "S3",
    "iam": "IAM",
    "amplify": "AMPLIFY",
    "logs": "CLOUDWATCH_LOGS",
    "kms": "KMS",
}
DEFAULT_MAX_ATTEMPTS = 8


@dataclass
class AwsContext:
    """Carries region, profile and endpoints; builds clients lazily, once per service."""

    region: str
    profile: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)  # explicit, e.g. the sandbox's
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    credentials: tuple[str, str] | None = None  # (key id, secret): the sandbox's fake keys
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _session: boto3.Session | None = field(default=None, init=False, repr=False)
    _identity: dict[str, str] | None = field(default=None, init=False, repr=False)

    def endpoint_for(self, service: str) -> str | None:
        """Explicit endpoint, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL."""
        if service in self.endpoints:
            return self.endpoints[service]
        service_id = SERVICE_IDS.get(service, service.upper().replace("-", "_"))
        return os.environ.get(f"AWS_ENDPOINT_URL_{service_id}") or os.environ.get(
            "AWS_ENDPOINT_URL"
        )

    @property
    def boto_config(self) -> BotoConfig:
        # botocore still defaults to 'legacy' retries; 'standard' backs off on throttling too.
        return BotoConfig(
            region_name=self.region,
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=10,
            read_timeout=60,
            # Targets refresh concurrently (up to 16 at once) through one client per service;
            # botocore's default pool of 10 would drop connections and warn.
            max_pool_connections=32,
        )

    def session(self) -> boto3.Session:
        if self._session is None:
            try:
                key_id, secret = self.credentials or (None, None)
                self._session = boto3.Session(
                    profile_name=self.profile,
                    region_name=self.region,
                    aws_access_key_id=key_id,
                    aws_secret_access_key=secret,
                )
            except BotoCoreError as exc:
                raise BadInput(f"AWS profile {self.profile!r}: {exc}") from exc
        return self._session

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                # Any: the service is a runtime string, and typed stubs overload on literals.
                session: Any = self.session()
                self._clients[service] = session.client(
                    service,
                    endpoint_url=self.endpoint_for(service),
                    config=self.boto_config,
                )
            return self._clients[service]

    def caller_identity(self) -> dict[str, str]:
        """sts:GetCallerIdentity, asked once per context: the account guard and the release
        record's author share one answer (this context's credentials do not change)."""
        if self._identity is None:
            answer = self.client("sts").get_caller_identity()
            self._identity = {key: str(answer[key]) for key in ("Account", "Arn", "UserId")}
        return self._identity

    def caller_account(self) -> str:
        try:
            identity = self.caller_identity()
        except (ClientError, BotoCoreError) as exc:
            raise DeployError(
                f"cannot identify the AWS caller (sts:GetCallerIdentity): {exc}"
            ) from exc
        return identity["Account"]

    def assert_account(self, expected: str, *, env: str) -> str:
        """The account guard: refuse to touch any account but the environment's own."""
        actual = self.caller_account()
        if actual != expected:
            raise AccountMismatch(
                f"environment '{env}' is account {expected}, but the AWS credentials belong to "
                f"account {actual}; switch credentials (--profile, or the role your CI assumes)"
            )
        return actual
