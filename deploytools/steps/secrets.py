"""Secrets from SSM Parameter Store: read at deploy time and at run time, never written to disk.

A parameter's basename is the environment variable's name (`/app/dev/API_KEY` → `API_KEY`).
Every value is handed to `register_secret()` the moment it is read, so no later line of output
can show it.

Public API (the pipeline and the targets call these):

    resolve_secrets(aws, env, *, required_only=False, names=None, backoff=BACKOFF) -> SecretSet
        Every direct child of `secrets.ssm_path` (decrypted, all pages), or only
        `names` / the required ones, fetched with GetParameters in batches of at most 10.
    missing_required(aws, env, *, backoff=BACKOFF) -> list[str]
    check_required(aws, env, *, backoff=BACKOFF) -> None
        Raises MissingSecrets (BadInput, exit 2) naming every missing secret and the
        `aws ssm put-parameter` command that adds it. Read-only: call it before any change.
    secret_arns(aws, env, *, names=None, backoff=BACKOFF) -> dict[str, str]
        name -> parameter ARN, for ECS/Batch `secrets: [{name, valueFrom}]`.
    target_secret_names(env, target_name) -> list[str]
        The secrets a target receives: its own `secrets:` list, else every required one.
    seed_missing(aws, env, *, names=None) -> list[str]
        Sandbox only: puts a generated SecureString for each missing required secret and
        returns the names it seeded (the run lists them).
    list_parameters(aws, env, *, backoff=BACKOFF) -> list[ParameterInfo]
        Names, types, versions, last-modified. Never decrypts and never sees a value.
    nested_parameters(aws, env, *, backoff=BACKOFF) -> list[str]
        Parameters below a sub-path of `ssm_path`: not the environment's variables (chamber's
        layout: the variables are the path's direct children), ignored and listed once.

SecretSet.values(names) gives name -> value (for `exec`, `export`, and a Lambda's encrypted
environment when `secrets_in_environment` is on); SecretSet.arns(names) gives name -> ARN.
"""

from __future__ import annotations

import re
import secrets as token_source
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.errors import BadInput, DeployError
from deploytools.lib.aws_errors import error_code
from deploytools.lib.retry import Backoff, Jitter, retry
from deploytools.output import register_secret

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BATCH = 10  # GetParameters accepts at most 10 names per call
THROTTLING = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)


def put_parameter_command(name: str) -> str:
    """The AWS CLI command that adds a missing SecureString parameter (value left to type)."""
    return f"aws ssm put-parameter --name {name} --type SecureString --value '...'"


class MissingSecrets(BadInput):
    """Required secrets are not in Parameter Store; nothing was changed."""

    def __init__(self, names: Sequence[str], path: str) -> None:
        self.names = list(names)
        self.path = path
        lines = [
            f"required secret(s) missing from SSM Parameter Store under {path}: "
            + ", ".join(self.names),
            "add each one with:",
        ]
        lines += [f"  {put_parameter_command(path + name)}" for name in self.names]
        super().__init__("\n".join(lines))


class InvalidSecretName(BadInput):
    """A parameter's basename cannot be an environment variable name."""


class DuplicateSecretName(BadInput):
    """Two parameters under the path share a basename, so one would shadow the other."""


class NoSecretsSection(BadInput):
    """The config has no `secrets:` section."""


class SecretsUnavailable(DeployError):
    """SSM kept failing (throttled past every retry, or another error)."""


# On top of botocore's own retries; full jitter, so deploys throttled together spread out.
BACKOFF = Backoff(first=1.0, cap=20.0, attempts=5, jitter=Jitter.FULL)


@dataclass(frozen=True)
class Secret:
    name: str  # the environment variable name (the parameter's basename)
    parameter: str  # the full parameter name
    arn: str
    type: str
    version: int
    value: str = field(repr=False, compare=False)


@dataclass(frozen=True)
class SecretSet:
    """Secrets read for one environment; `repr` and `metadata()` never show a value."""

    path: str | None
    secrets: tuple[Secret, ...] = ()
    missing: tuple[str, ...] = ()  # required names that were not found

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.secrets]

    def _pick(self, names: Iterable[str] | None) -> list[Secret]:
        if names is None:
            return list(self.secrets)
        wanted = set(names)
        return [s for s in self.secrets if s.name in wanted]

    def values(self, names: Iterable[str] | None = None) -> dict[str, str]:
        return {s.name: s.value for s in self._pick(names)}

    def arns(self, names: Iterable[str] | None = None) -> dict[str, str]:
        return {s.name: s.arn for s in self._pick(names)}

    def metadata(self) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "parameter": s.parameter, "type": s.type, "version": s.version}
            for s in self.secrets
        ]


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    parameter: str
    type: str
    version: int
    last_modified: datetime | None

    def as_dict(self) -> dict[str, Any]:
        modified = self.last_modified.isoformat() if self.last_modified else None
        return {
            "name": self.name,
            "parameter": self.parameter,
            "type": self.type,
            "version": self.version,
            "last_modified": modified,
        }


def ssm_path(env: EnvConfig) -> str:
    if env.model.secrets is None:
        raise NoSecretsSection(
            "deploytools.yml has no secrets: section; add one, e.g.\n"
            "secrets:\n  ssm_path: /{project}/{env}/\n  required: [API_KEY]"
        )
    return env.model.secrets.ssm_path


def required_names(env: EnvConfig) -> list[str]:
    return list(env.model.secrets.required) if env.model.secrets else []


def target_secret_names(env: EnvConfig, target_name: str) -> list[str]:
    target = env.model.targets[target_name]
    return list(target.secrets) if target.secrets is not None else required_names(env)


def call(function: Callable[..., Any], *, backoff: Backoff = BACKOFF, **kwargs: Any) -> Any:
    """One SSM call, retried with jittered backoff while it is throttled."""
    try:
        return retry(lambda: function(**kwargs), backoff=backoff, transient=_throttled)
    except ClientError as exc:
        if not _throttled(exc):
            raise
        raise SecretsUnavailable(
            f"SSM Parameter Store is still throttling after {backoff.attempts} tries "
            f"(each with botocore's own retries): {exc}"
        ) from exc


def _throttled(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in THROTTLING


def read_path(
    ssm: Any,
    path: str,
    *,
    decrypt: bool = True,
    backoff: Backoff = BACKOFF,
    recursive: bool = False,
) -> list[dict[str, Any]]:
    """The direct children of `path` (every parameter below it with `recursive`), all pages;
    values registered as secrets."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Path": path, "Recursive": recursive, "WithDecryption": decrypt}
        if token:
            kwargs["NextToken"] = token
        page = call(ssm.get_parameters_by_path, backoff=backoff, **kwargs)
        for parameter in page.get("Parameters", []):
            register_secret(parameter.get("Value", ""))
            found.append(parameter)
        token = page.get("NextToken")
        if not token:
            return found


def read_named(
    ssm: Any, parameters: Sequence[str], *, decrypt: bool = True, backoff: Backoff = BACKOFF
) -> tuple[list[dict[str, Any]], list[str]]:
    """(found, not found) for full parameter names, fetched at most BATCH per call."""
    found: list[dict[str, Any]] = []
    invalid: list[str] = []
    unique = list(dict.fromkeys(parameters))
    for start in range(0, len(unique), BATCH):
        batch = unique[start : start + BATCH]
        page = call(ssm.get_parameters, backoff=backoff, Names=batch, WithDecryption=decrypt)
        for parameter in page.get("Parameters", []):
            register_secret(parameter.get("Value", ""))
            found.append(parameter)
        invalid.extend(page.get("InvalidParameters", []))
    return found, invalid


def env_name(parameter: str) -> str:
    """The variable name of a parameter; refuses names a shell could not export."""
    name = parameter.rstrip("/").rsplit("/", 1)[-1]
    if not ENV_NAME.match(name):
        raise InvalidSecretName(
            f"SSM parameter {parameter}: '{name}' is not a valid environment variable name "
            "(letters, digits and _, not starting with a digit); rename the parameter"
        )
    return name


def _to_secrets(parameters: Iterable[dict[str, Any]]) -> tuple[Secret, ...]:
    by_name: dict[str, Secret] = {}
    for parameter in parameters:
        full = parameter["Name"]
        name = env_name(full)
        if name in by_name:
            raise DuplicateSecretName(
                f"SSM parameters {by_name[name].parameter} and {full} both become ${name}; "
                "keep one of them"
            )
        by_name[name] = Secret(
            name=name,
            parameter=full,
            arn=parameter.get("ARN", ""),
            type=parameter.get("Type", ""),
            version=int(parameter.get("Version", 0)),
            value=parameter.get("Value", ""),
        )
    return tuple(sorted(by_name.values(), key=lambda s: s.name))


def resolve_secrets(
    aws: AwsContext,
    env: EnvConfig,
    *,
    required_only: bool = False,
    names: Sequence[str] | None = None,
    backoff: Backoff = BACKOFF,
) -> SecretSet:
    """Read the environment's secrets (decrypted, registered as secrets on arrival)."""
    if env.model.secrets is None:
        return SecretSet(path=None)
    path = ssm_path(env)
    ssm = aws.client("ssm")
    if required_only or names is not None:
        wanted = list(names) if names is not None else required_names(env)
        for name in wanted:
            env_name(f"{path}{name}")
        found, _ = read_named(ssm, [f"{path}{n}" for n in wanted], backoff=backoff)
    else:
        found = read_path(ssm, path, backoff=backoff)
    secrets = _to_secrets(found)
    present = {s.name for s in secrets}
    missing = tuple(n for n in required_names(env) if n not in present)
    return SecretSet(path=path, secrets=secrets, missing=missing)


def missing_required(aws: AwsContext, env: EnvConfig, *, backoff: Backoff = BACKOFF) -> list[str]:
    """Required names with no parameter; read-only and without decryption."""
    required = required_names(env)
    if not required:
        return []
    path = ssm_path(env)
    _, invalid = read_named(
        aws.client("ssm"), [f"{path}{n}" for n in required], decrypt=False, backoff=backoff
    )
    absent = set(invalid)
    return [n for n in required if f"{path}{n}" in absent]


def check_required(aws: AwsContext, env: EnvConfig, *, backoff: Backoff = BACKOFF) -> None:
    """Fail before any change when a required secret is missing."""
    missing = missing_required(aws, env, backoff=backoff)
    if missing:
        raise MissingSecrets(missing, ssm_path(env))


def secret_arns(
    aws: AwsContext,
    env: EnvConfig,
    *,
    names: Sequence[str] | None = None,
    backoff: Backoff = BACKOFF,
) -> dict[str, str]:
    """name -> parameter ARN (ECS/Batch `valueFrom`), read without decryption."""
    if env.model.secrets is None:
        return {}
    found = read_path(aws.client("ssm"), ssm_path(env), decrypt=False, backoff=backoff)
    arns = {s.name: s.arn for s in _to_secrets(found)}
    if names is None:
        return arns
    absent = [n for n in names if n not in arns]
    if absent:
        raise MissingSecrets(absent, ssm_path(env))
    return {n: arns[n] for n in names}


def list_parameters(
    aws: AwsContext, env: EnvConfig, *, backoff: Backoff = BACKOFF
) -> list[ParameterInfo]:
    """Metadata of the path's direct children; DescribeParameters returns no values."""
    infos = [
        ParameterInfo(
            name=env_name(parameter["Name"]),
            parameter=parameter["Name"],
            type=parameter.get("Type", ""),
            version=int(parameter.get("Version", 0)),
            last_modified=parameter.get("LastModifiedDate"),
        )
        for parameter in _describe(aws, ssm_path(env), option="OneLevel", backoff=backoff)
    ]
    return sorted(infos, key=lambda i: i.name)


def nested_parameters(aws: AwsContext, env: EnvConfig, *, backoff: Backoff = BACKOFF) -> list[str]:
    """Full names of the parameters below sub-paths of the path (metadata only, no value)."""
    if env.model.secrets is None:
        return []
    path = ssm_path(env)
    below = _describe(aws, path, option="Recursive", backoff=backoff)
    return sorted(p["Name"] for p in below if "/" in p["Name"].removeprefix(path))


def _describe(aws: AwsContext, path: str, *, option: str, backoff: Backoff) -> list[dict[str, Any]]:
    """DescribeParameters under `path` (`OneLevel` or `Recursive`), all pages."""
    ssm = aws.client("ssm")
    filters = [{"Key": "Path", "Option": option, "Values": [path.rstrip("/") or "/"]}]
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"ParameterFilters": filters}
        if token:
            kwargs["NextToken"] = token
        page = call(ssm.describe_parameters, backoff=backoff, **kwargs)
        found.extend(page.get("Parameters", []))
        token = page.get("NextToken")
        if not token:
            return found


def seed_missing(
    aws: AwsContext, env: EnvConfig, *, names: Sequence[str] | None = None
) -> list[str]:
    """Sandbox only: a generated SecureString for each missing required secret."""
    if env.model.secrets is None:
        return []
    path = ssm_path(env)
    ssm = aws.client("ssm")
    wanted = list(names) if names is not None else required_names(env)
    _, absent = read_named(ssm, [f"{path}{n}" for n in wanted], decrypt=False)
    seeded: list[str] = []
    for name in wanted:
        if f"{path}{name}" in absent:
            _put_placeholder(ssm, f"{path}{name}")
            seeded.append(name)
    return seeded


def require_parameter(aws: AwsContext, name: str, *, seed: bool) -> bool:
    """One named parameter exists: True when it had to be seeded (sandbox, `seed`), False
    when it was there; else BadInput with the command that adds it."""
    ssm = aws.client("ssm")
    _, absent = read_named(ssm, [name], decrypt=False)
    if not absent:
        return False
    if not seed:
        raise BadInput(_not_in_ssm(name))
    _put_placeholder(ssm, name)
    return True


def read_parameter(aws: AwsContext, name: str, *, backoff: Backoff = BACKOFF) -> str:
    """One named parameter's decrypted value, registered as a secret; else BadInput with the
    command that adds it."""
    try:
        found, _ = read_named(aws.client("ssm"), [name], decrypt=True, backoff=backoff)
    except ClientError as exc:
        raise SecretsUnavailable(f"ssm GetParameters {name}: {exc}") from exc
    if not found:
        raise BadInput(_not_in_ssm(name))
    return str(found[0].get("Value", ""))


def _not_in_ssm(name: str) -> str:
    return f"{name} is not in SSM Parameter Store; add it: {put_parameter_command(name)}"


def _put_placeholder(ssm: Any, name: str) -> None:
    """Sandbox only: a generated SecureString value, registered for masking first."""
    value = token_source.token_urlsafe(24)
    register_secret(value)  # before it travels anywhere
    ssm.put_parameter(
        Name=name,
        Value=value,
        Type="SecureString",
        Overwrite=False,
        Description="placeholder generated by deploytools for the sandbox",
    )
