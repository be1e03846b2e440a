"""What the pipeline asks of the secrets step (deploytools.steps.secrets)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.steps import secrets


class SecretsPort(Protocol):
    def missing(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        """Required secrets absent from SSM; read-only."""
        ...

    def check(self, aws: AwsContext, env: EnvConfig) -> None:
        """MissingSecrets (bad input) unless every required secret is in SSM."""
        ...

    def seed(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        """Put placeholders for the missing required secrets (the sandbox); their names."""
        ...

    def require_parameter(self, aws: AwsContext, name: str, *, seed: bool) -> bool:
        """Whether `name` had to be seeded; False when it exists; else BadInput."""
        ...

    def arns(self, aws: AwsContext, env: EnvConfig) -> dict[str, str]:
        """Name -> SSM parameter ARN, for targets that inject secrets by reference."""
        ...

    def values(self, aws: AwsContext, env: EnvConfig, names: Sequence[str]) -> dict[str, str]:
        """Name -> value: only for Lambdas that take secrets in their encrypted environment."""
        ...

    def nested(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        """Parameters below sub-paths of the path: ignored (not variables); read-only."""
        ...


class SsmSecrets:
    """Secrets in the environment's SSM Parameter Store path."""

    def missing(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        return secrets.missing_required(aws, env)

    def check(self, aws: AwsContext, env: EnvConfig) -> None:
        secrets.check_required(aws, env)

    def seed(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        return secrets.seed_missing(aws, env)

    def require_parameter(self, aws: AwsContext, name: str, *, seed: bool) -> bool:
        return secrets.require_parameter(aws, name, seed=seed)

    def arns(self, aws: AwsContext, env: EnvConfig) -> dict[str, str]:
        return secrets.secret_arns(aws, env)

    def values(self, aws: AwsContext, env: EnvConfig, names: Sequence[str]) -> dict[str, str]:
        return secrets.resolve_secrets(aws, env, names=list(names)).values(names)

    def nested(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        return secrets.nested_parameters(aws, env)
