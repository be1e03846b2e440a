"""DT003: an environment variable the code reads that its target neither sets nor gets from SSM.

The failure this catches: a parameter added to train.py (`os.environ["LEARNING_RATE"]`) but
never to the container's environment, found only when the job starts and dies. Reads with a
default (`os.getenv("X", "d")`) still run without it, so they are warnings, not errors.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.checks.index import skipped

RULE = "DT003"
# Set by the platform itself, so code may read them without the target setting them.
PROVIDED_EVERYWHERE = {
    "PATH", "HOME", "HOSTNAME", "LANG", "LC_ALL", "TZ", "PWD", "USER", "PYTHONPATH",
    "PYTHONUNBUFFERED", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
}  # fmt: skip
PROVIDED = {
    "lambda": {
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER",
        "_X_AMZN_TRACE_ID", "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS",
    },
    "ecs": {
        "ECS_CONTAINER_METADATA_URI", "ECS_CONTAINER_METADATA_URI_V4", "ECS_AGENT_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    },
    "batch": {
        "AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ATTEMPT", "AWS_BATCH_JQ_NAME", "AWS_BATCH_CE_NAME",
        "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE", "AWS_BATCH_JOB_NODE_INDEX",
        "AWS_BATCH_JOB_NUM_NODES", "AWS_BATCH_JOB_MAIN_NODE_INDEX",
        "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS", "ECS_CONTAINER_METADATA_URI",
        "ECS_CONTAINER_METADATA_URI_V4", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    },
    "eks": {
        "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_STS_REGIONAL_ENDPOINTS",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    },
}  # fmt: skip


@dataclass(frozen=True)
class EnvRead:
    name: str
    line: int
    how: str  # as written, e.g. os.getenv or os.environ[...]
    has_default: bool


@rule(
    RULE,
    "an environment variable the code reads is not passed to its target",
    description=(
        "For targets with env_from_code, os.getenv / os.environ reads whose name is neither in "
        "the target's environment nor among its SSM secrets. Reads with a default are warnings."
    ),
    needs_config=True,
)
def env_from_code(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.config is None:
        return
    model = ctx.config.model
    required = model.secrets.required if model.secrets else []
    for name, target in model.targets.items():
        if not target.env_from_code:
            continue
        secrets = target.secrets if target.secrets is not None else required
        provided = {*target.environment, *secrets, *PROVIDED_EVERYWHERE, *PROVIDED[target.type]}
        if target.secrets is None:
            fix_place = "secrets.required"
        else:
            fix_place = f"targets.{name}.secrets (and secrets.required)"
        for path in _python_files([ctx.config.root / p for p in target.env_from_code]):
            seen: set[str] = set()
            for read in reads(ctx.read(path)):
                if read.name in provided or read.name in seen:
                    continue
                seen.add(read.name)
                where = "neither sets it (environment) nor gets it from SSM (secrets)"
                default = " (it has a default, so the code runs, but not as configured)"
                yield Finding(
                    ctx.rel(path),
                    read.line,
                    RULE,
                    f"targets.{name} runs code that reads {read.name} ({read.how}), but the "
                    f"target {where}" + (default if read.has_default else ""),
                    fix=f"add {read.name} to targets.{name}.environment or to {fix_place}",
                    severity=Severity.WARNING if read.has_default else Severity.ERROR,
                )


def reads(source: str) -> list[EnvRead]:
    """Every literal-named environment read in a Python module, in source order."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # not our rule's business: the code does not even parse
    names = _Names.of(tree)
    found: list[EnvRead] = []
    for node in ast.walk(tree):
        read = names.read(node)
        if read is not None:
            found.append(read)
    return sorted(found, key=lambda r: (r.line, r.name))


@dataclass
class _Names:
    """What `os`, `os.environ` and `os.getenv` are called in one module (imports, aliases)."""

    os: set[str]
    environ: set[str]
    getenv: set[str]

    @classmethod
    def of(cls, tree: ast.AST) -> _Names:
        names = cls(os=set(), environ=set(), getenv=set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "os":
                        names.os.add(alias.asname or "os")
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                for alias in node.names:
                    if alias.name == "environ":
                        names.environ.add(alias.asname or "environ")
                    elif alias.name in ("getenv", "getenvb"):
                        names.getenv.add(alias.asname or alias.name)
        return names

    def is_environ(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.environ
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.os
        )

    def is_getenv(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.getenv
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "getenv"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.os
        )

    def read(self, node: ast.AST) -> EnvRead | None:
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            name = _literal(node.slice)
            if name and self.is_environ(node.value):
                return EnvRead(name, node.lineno, f"{_text(node.value)}[...]", has_default=False)
        if not isinstance(node, ast.Call) or not node.args:
            return None
        name = _literal(node.args[0])
        if name is None:
            return None
        with_default = len(node.args) > 1 or any(k.arg == "default" for k in node.keywords)
        if self.is_getenv(node.func):
            return EnvRead(name, node.lineno, _text(node.func), with_default)
        func = node.func
        if isinstance(func, ast.Attribute) and self.is_environ(func.value):
            if func.attr == "get":
                return EnvRead(name, node.lineno, _text(func), with_default)
            if func.attr == "setdefault":
                return EnvRead(name, node.lineno, _text(func), has_default=True)
            if func.attr == "pop":
                return EnvRead(name, node.lineno, _text(func), with_default)
        return None


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _python_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            yield path
        elif path.is_dir():
            for found in sorted(path.rglob("*.py")):
                if not any(skipped(part) for part in found.relative_to(path).parts[:-1]):
                    yield found
