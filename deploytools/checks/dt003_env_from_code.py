"""DT003: an environment variable the code reads that its target neither sets nor gets from SSM.

The failure this catches: a parameter added to train.py (`os.environ["LEARNING_RATE"]`) but
never to the container's environment, found only when the job starts and dies. Reads with a
default (`os.getenv("X", "d")`) still run without it, so they are warnings, not errors.

Reads are `os.getenv` / `os.environ` with a literal name and the fields of pydantic-settings
models (`deploytools.checks.pysettings`). A variable the code that submits a Batch job or an
ECS task passes in `containerOverrides` counts as set for that target
(`deploytools.checks.overrides`). A read is reported once per variable and target; targets
that share the code are named in one finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.checks.index import skipped
from deploytools.checks.overrides import Override, overrides
from deploytools.checks.pysettings import settings_reads
from deploytools.config.interpolate import Resolver
from deploytools.config.model import Config

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
    case_insensitive: bool = False  # pydantic-settings matches names in any case


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
    passed = _overrides(ctx) if any(t.env_from_code for t in model.targets.values()) else []
    missing: dict[tuple[Path, EnvRead], list[tuple[str, str]]] = {}
    for name, target in model.targets.items():
        if not target.env_from_code:
            continue
        secrets = target.secrets if target.secrets is not None else required
        provided = {*target.environment, *secrets, *PROVIDED_EVERYWHERE, *PROVIDED[target.type]}
        provided |= _passed_per_run(model, name, passed)
        upper = {p.upper() for p in provided}
        if target.secrets is None:
            fix_place = "secrets.required"
        else:
            fix_place = f"targets.{name}.secrets (and secrets.required)"
        seen: set[str] = set()
        for path in _python_files([ctx.config.root / p for p in target.env_from_code]):
            for read in reads(ctx.read(path)):
                known = read.name in provided or (read.case_insensitive and read.name in upper)
                if known or read.name in seen:
                    continue
                seen.add(read.name)
                missing.setdefault((path, read), []).append((name, fix_place))
    for (path, read), targets in missing.items():
        yield _finding(ctx, path, read, targets)


def _finding(
    ctx: CheckContext, path: Path, read: EnvRead, targets: list[tuple[str, str]]
) -> Finding:
    names = ", ".join(f"targets.{t}" for t, _ in targets)
    runs = "runs" if len(targets) == 1 else "run"
    where = "neither sets it (environment) nor gets it from SSM (secrets)"
    if len(targets) > 1:
        where = "set it neither in environment nor from SSM (secrets)"
    default = " (it has a default, so the code runs, but not as configured)"
    first, fix_place = targets[0]
    return Finding(
        ctx.rel(path),
        read.line,
        RULE,
        f"{names} {runs} code that reads {read.name} ({read.how}), but the "
        f"target{'s' if len(targets) > 1 else ''} {where}" + (default if read.has_default else ""),
        fix=f"add {read.name} to targets.{first}.environment or to {fix_place}",
        severity=Severity.WARNING if read.has_default else Severity.ERROR,
    )


def _overrides(ctx: CheckContext) -> list[Override]:
    return overrides((path, ctx.read(path)) for path in ctx.files("*.py"))


def _passed_per_run(model: Config, name: str, passed: list[Override]) -> set[str]:
    """Names the code submitting this target's jobs (or tasks) passes in containerOverrides."""
    target = model.targets[name]
    if target.type not in ("batch", "ecs"):
        return set()
    written = getattr(target, "job_definition", None) or f"{{project}}-{{env}}-{name}"
    deployed = {Resolver(model.project, env).text(written) for env in model.environments}
    names: set[str] = set()
    for override in passed:
        if override.kind != target.type:
            continue
        named = override.definition
        if named is None or any(d in named or named in d for d in deployed):
            names |= override.names
    return names


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
    for field in settings_reads(tree):
        insensitive = not field.case_sensitive
        found.append(EnvRead(field.name, field.line, field.how, field.has_default, insensitive))
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
