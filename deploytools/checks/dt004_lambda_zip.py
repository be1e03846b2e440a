"""DT004: a Lambda zip over 250 MB unzipped, or one that carries tests, caches or training code.

The package is computed exactly as `deploy` builds it (lib.zip_selection.select_files: the built-in
excludes plus the target's), without writing the zip. This rule finds what still gets in; it
also names (as a warning) the code the built-in excludes drop without the target's
`excludes` saying so (a runtime script named test_query.py is dropped too), and reports a
configured handler whose module or function the package does not hold.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from deploytools.checks.base import CheckContext, Finding, Severity, rule
from deploytools.checks.lambda_package import dropped_silently, handler_problem
from deploytools.errors import BadInput
from deploytools.lib.zip_selection import (
    DEFAULT_EXCLUDES,
    UNZIPPED_LIMIT,
    compile_pattern,
    human_size,
    select_files,
)

RULE = "DT004"
EXAMPLES = 3


@dataclass(frozen=True)
class Kind:
    what: str
    folders: frozenset[str]
    files: tuple[str, ...]
    severity: Severity = Severity.ERROR


KINDS = (
    Kind(
        "tests",
        frozenset({"tests", "test", "testing", "__tests__"}),
        ("test_*.py", "*_test.py", "tests.py", "conftest.py", "pytest.ini", "tox.ini"),
    ),
    Kind(
        "caches",
        frozenset(
            {
                "__pycache__",
                ".pytest_cache",
                ".mypy_cache",
                ".ruff_cache",
                ".cache",
                ".tox",
                ".nox",
                ".hypothesis",
                ".ipynb_checkpoints",
            }
        ),
        ("*.pyc", "*.pyo"),
    ),
    Kind(
        "training code",
        frozenset(
            {
                "training",
                "notebooks",
                "experiments",
                "mlruns",
                "wandb",
                "checkpoints",
                "lightning_logs",
            }
        ),
        ("*.ipynb", "*.ckpt"),
    ),
    # A file named like a training script is likelier a mistake than not, but may be legitimate.
    Kind(
        "training code",
        frozenset(),
        ("train.py", "train_*.py", "*_train.py", "training_*.py"),
        Severity.WARNING,
    ),
)


@rule(
    RULE,
    "a Lambda zip package is too big or carries tests, caches or training code",
    description=(
        "Lambda zip targets: over 250 MB unzipped, or files that do not belong in a function "
        "(tests, caches, training code) that package.excludes does not leave out."
    ),
    needs_config=True,
)
def lambda_zip(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.config is None:
        return
    config_file = ctx.rel(ctx.config.path)
    for name, target in ctx.config.model.targets.items():
        package = getattr(target, "package", None)
        if target.type != "lambda" or package is None or "{" in package.source:
            continue
        line = ctx.config.line(("targets", name, "package", "source"))
        try:
            files = select_files(ctx.config.root / package.source, package.excludes)
        except BadInput:
            continue  # a missing source folder is DT000's finding
        if package.handler:
            problem = handler_problem(files, package.handler)
            if problem is not None:
                yield Finding(
                    config_file,
                    ctx.config.line(("targets", name, "package", "handler")),
                    RULE,
                    f"targets.{name}: {problem}",
                    fix=f"correct targets.{name}.package.handler, or the package's "
                    "source and excludes",
                )
        dropped = dropped_silently(
            ctx.config.root / package.source,
            package.excludes,
            defaults=DEFAULT_EXCLUDES,
            compile_pattern=compile_pattern,
        )
        if dropped:
            yield Finding(
                config_file,
                line,
                RULE,
                f"targets.{name}: the built-in excludes leave out of the zip package of "
                f"{package.source}: {_shown(dropped)}",
                fix=f"name them in targets.{name}.package.excludes to say they stay out; "
                "rename a runtime module that only looks like a test",
                severity=Severity.WARNING,
            )
        size = sum(f.size for f in files)
        if size > UNZIPPED_LIMIT:
            biggest = sorted(files, key=lambda f: f.size, reverse=True)[:EXAMPLES]
            listed = ", ".join(f"{f.name} ({human_size(f.size)})" for f in biggest)
            yield Finding(
                config_file,
                line,
                RULE,
                f"targets.{name}: the zip package of {package.source} is {human_size(size)} "
                f"unzipped; Lambda allows {human_size(UNZIPPED_LIMIT)} (largest: {listed})",
                fix=(
                    f"leave data and models out via targets.{name}.package.excludes, or deploy "
                    "a container image (image: instead of package:)"
                ),
            )
        for kind in KINDS:
            hits = [f.name for f in files if _is(kind, f.name)]
            if not hits:
                continue
            shown = _shown(hits)
            yield Finding(
                config_file,
                line,
                RULE,
                f"targets.{name}: the zip package of {package.source} includes "
                f"{kind.what}: {shown}",
                fix=f"add {_pattern(kind, hits[0])!r} to targets.{name}.package.excludes",
                severity=kind.severity,
            )


def _shown(paths: list[str]) -> str:
    more = f" and {len(paths) - EXAMPLES} more" if len(paths) > EXAMPLES else ""
    return ", ".join(paths[:EXAMPLES]) + more


def _is(kind: Kind, path: str) -> bool:
    *folders, file = path.split("/")
    return bool(kind.folders.intersection(folders)) or any(
        fnmatch.fnmatch(file, p) for p in kind.files
    )


def _pattern(kind: Kind, path: str) -> str:
    """The exclude that covers `path`: its folder of this kind, or its file pattern."""
    *folders, file = path.split("/")
    for folder in folders:
        if folder in kind.folders:
            return f"{folder}/"
    return next((p for p in kind.files if fnmatch.fnmatch(file, p)), file)
