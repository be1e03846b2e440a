"""AWS's documented limits and patterns for the names deploytools.yml gives, checked before any
change so that a bad name fails at its line instead of after images and Terraform ran."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from deploytools.config.model import Config
from deploytools.config.yamlpos import KeyPath

REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
PARTITION = r"arn:aws[a-zA-Z-]*"
ACCOUNT = r"\d{12}"


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts for one kind of name, and how to say it."""

    what: str
    pattern: re.Pattern[str]
    max_length: int
    allowed: str
    min_length: int = 1

    def problem(self, value: str) -> str | None:
        """Why `value` is refused, or None when AWS accepts it."""
        if not self.min_length <= len(value) <= self.max_length or not self.pattern.fullmatch(
            value
        ):
            return f"{_shown(value)} is not a valid {self.what}: {self.allowed}"
        return None


def _rule(what: str, pattern: str, max_length: int, allowed: str, min_length: int = 1) -> NameRule:
    return NameRule(what, re.compile(pattern), max_length, allowed, min_length)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:80] + "...")


_FUNCTION_NAME = r"[a-zA-Z0-9_-]{1,64}"
LAMBDA_FUNCTION = _rule(
    "Lambda function name",
    rf"(?:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:|{ACCOUNT}:function:)?{_FUNCTION_NAME}",
    140,
    "1-64 letters, digits, hyphens and underscores, or the function's ARN (without a version "
    "or alias)",
)
LAMBDA_ALIAS = _rule(
    "Lambda alias",
    r"(?![0-9]+$)[a-zA-Z0-9_-]+",
    128,
    "1-128 letters, digits, hyphens and underscores, not only digits",
)
ECR_REPOSITORY = _rule(
    "ECR repository name",
    r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
    256,
    "2-256 lowercase letters, digits and . _ - / (each part starts and ends with a letter or "
    "digit)",
    min_length=2,
)
ECS_CLUSTER = _rule(
    "ECS cluster name",
    rf"(?:{PARTITION}:ecs:{REGION}:{ACCOUNT}:cluster/)?[a-zA-Z0-9_-]{{1,255}}",
    400,
    "1-255 letters, digits, hyphens and underscores, or the cluster's ARN",
)
ECS_SERVICE = _rule(
    "ECS service name",
    rf"(?:{PARTITION}:ecs:{REGION}:{ACCOUNT}:service/(?:[a-zA-Z0-9_-]{{1,255}}/)?)?"
    r"[a-zA-Z0-9_-]{1,255}",
    700,
    "1-255 letters, digits, hyphens and underscores, or the service's ARN",
)
CONTAINER = _rule(
    "container name", r"[a-zA-Z0-9_-]+", 255, "1-255 letters, digits, hyphens and underscores"
)
EKS_CLUSTER = _rule(
    "EKS cluster name",
    r"[0-9A-Za-z][A-Za-z0-9_-]*",
    100,
    "1-100 letters, digits, hyphens and underscores, starting with a letter or digit",
)
KUBERNETES_NAMESPACE = _rule(
    "Kubernetes namespace",
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
    63,
    "1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
)
KUBERNETES_CONTAINER = _rule(
    "Kubernetes container name",
    KUBERNETES_NAMESPACE.pattern.pattern,
    63,
    KUBERNETES_NAMESPACE.allowed,
)
KUBERNETES_NAME = _rule(
    "Kubernetes object name",
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    253,
    "1-253 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit",
)
BATCH_JOB_DEFINITION = _rule(
    "Batch job definition name",
    r"[a-zA-Z0-9_-]+",
    128,
    "1-128 letters, digits, hyphens and underscores",
)
BATCH_JOB_QUEUE = _rule(
    "Batch job queue",
    rf"(?:{PARTITION}:batch:{REGION}:{ACCOUNT}:job-queue/)?[a-zA-Z0-9_-]{{1,128}}",
    400,
    "1-128 letters, digits, hyphens and underscores, or the queue's ARN",
)
AWS_REGION = _rule("AWS region", REGION, 30, "a region code such as us-east-1 or eu-central-1")

SSM_MAX_LENGTH = 1011
SSM_MAX_LEVELS = 15
SSM_CHARACTERS = re.compile(r"[a-zA-Z0-9_.\-/]+")


def ssm_parameter_problem(value: str, what: str = "SSM parameter name") -> str | None:
    """Parameter Store's rules for a name or a path: its characters, length, depth and the
    reserved aws/ssm prefixes."""
    allowed = (
        "letters, digits and _ . - / only, at most 1011 characters and 15 levels, not starting "
        "with aws or ssm"
    )
    first = value.strip("/").split("/", 1)[0].lower()
    reserved = first in ("aws", "ssm") or (
        not value.startswith("/") and first.startswith(("aws", "ssm"))
    )
    levels = len([part for part in value.split("/") if part])
    if (
        not SSM_CHARACTERS.fullmatch(value)
        or len(value) > SSM_MAX_LENGTH
        or levels > SSM_MAX_LEVELS
        or "//" in value
        or reserved
    ):
        return f"{_shown(value)} is not a valid {what}: {allowed}"
    return None


def named_values(model: Config) -> Iterator[tuple[KeyPath, str, NameRule | None]]:
    """Every resource name of a resolved model with its key path and rule (None: an SSM name).
    Regions are not among them: one environment's view holds its own region at the top."""
    if model.secrets:
        yield ("secrets", "ssm_path"), model.secrets.ssm_path, None
        for index, secret in enumerate(model.secrets.required):
            yield ("secrets", "required", index), model.secrets.ssm_path + secret, None
    for name, image in model.images.items():
        if image.repository is not None:
            yield ("images", name, "repository"), image.repository, ECR_REPOSITORY
    for name, target in model.targets.items():
        for key, rule in TARGET_RULES[target.type].items():
            value = getattr(target, key)
            if isinstance(value, str):
                yield ("targets", name, key), value, rule
    amplify = model.frontend.amplify if model.frontend else None
    if amplify and amplify.access_token_parameter:
        yield (
            ("frontend", "amplify", "access_token_parameter"),
            amplify.access_token_parameter,
            None,
        )


TARGET_RULES: dict[str, dict[str, NameRule]] = {
    "ecs": {"cluster": ECS_CLUSTER, "service": ECS_SERVICE, "container": CONTAINER},
    "lambda": {"function": LAMBDA_FUNCTION, "alias": LAMBDA_ALIAS},
    "eks": {
        "cluster": EKS_CLUSTER,
        "namespace": KUBERNETES_NAMESPACE,
        "deployment": KUBERNETES_NAME,
        "container": KUBERNETES_CONTAINER,
    },
    "batch": {"job_definition": BATCH_JOB_DEFINITION, "job_queue": BATCH_JOB_QUEUE},
}


def regions(model: Config) -> Iterator[tuple[KeyPath, str]]:
    yield ("region",), model.region
    for env_name, environment in model.environments.items():
        if environment.region is not None:
            yield ("environments", env_name, "region"), environment.region


def problem(value: str, rule: NameRule | None) -> str | None:
    return rule.problem(value) if rule else ssm_parameter_problem(value)
