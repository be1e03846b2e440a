"""DT010: GitHub Actions workflows under .github/workflows/ of the check root.

An action or reusable workflow pinned to a tag or branch instead of a full commit SHA; no
top-level `permissions:`; long-lived AWS keys instead of OIDC; `${{ github.event.* }}` or
`${{ inputs.* }}` inline in a `run:` script (script injection); `pull_request_target` that
checks out the pull request's head; `secrets: inherit` into another repository's workflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from deploytools.checks.base import CheckContext, Finding, rule

RULE = "DT010"
FULL_SHA = re.compile(r"@[0-9a-f]{40}$")
INJECTABLE = re.compile(r"\$\{\{\s*(github\.event\.[\w.\[\]'\"*-]+|inputs\.[\w-]+)\s*\}\}")
AWS_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
AWS_KEY_INPUTS = ("aws-access-key-id", "aws-secret-access-key")
PR_HEAD = re.compile(r"github\.event\.pull_request\.head\.(sha|ref)|github\.head_ref")


class _Lines:
    """Line numbers of texts in one file, searched forward so repeated texts get their own."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, needle: str, start: int = 1) -> int:
        for number in range(max(start, 1), len(self.lines) + 1):
            if needle in self.lines[number - 1]:
                return number
        return start


def _workflow_files(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def _third_party(uses: str) -> bool:
    return not uses.startswith(("./", "docker://"))


def _events(data: dict[Any, Any]) -> set[str]:
    on = data.get("on", data.get(True))  # YAML 1.1 reads the key `on` as true
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(e) for e in on}
    return {str(e) for e in on} if isinstance(on, dict) else set()


@rule(
    RULE,
    "a workflow is open to supply-chain, injection or credential mistakes",
    description="Unpinned third-party action, missing top-level permissions:, long-lived AWS "
    "keys instead of OIDC, ${{ github.event.* }} or ${{ inputs.* }} in run:, "
    "pull_request_target checking out the PR head, secrets: inherit into a third-party workflow.",
)
def workflows(ctx: CheckContext) -> Iterator[Finding]:
    for path in _workflow_files(ctx.root):
        yield from _check_file(ctx.rel(path), path.read_text(encoding="utf-8", errors="replace"))


def _check_file(rel: str, text: str) -> Iterator[Finding]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        yield Finding(rel, line, RULE, "invalid YAML", fix="Correct the YAML.")
        return
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return
    lines = _Lines(text)
    if "permissions" not in data:
        yield Finding(
            rel, 1, RULE,
            "no top-level permissions: every job gets the token's default (often write-all)",
            fix="Add 'permissions: {contents: read}' at the top and raise it per job.",
        )  # fmt: skip
    yield from _aws_keys(rel, lines, data.get("env"), 1)
    target = "pull_request_target" in _events(data)
    for name, job in data["jobs"].items():
        if isinstance(job, dict):
            yield from _check_job(rel, lines, str(name), job, target)


def _check_job(
    rel: str, lines: _Lines, name: str, job: dict[str, Any], target: bool
) -> Iterator[Finding]:
    start = lines.find(f"{name}:")
    uses = job.get("uses")
    if isinstance(uses, str):
        line = lines.find(uses, start)
        if _third_party(uses) and not FULL_SHA.search(uses):
            yield _unpinned(rel, line, uses)
        if job.get("secrets") == "inherit" and _third_party(uses):
            yield Finding(
                rel, lines.find("secrets: inherit", start), RULE,
                f"job {name} passes every secret (secrets: inherit) to {uses.split('@')[0]}, "
                "a workflow of another repository",
                fix="Pass only the secrets it needs, by name, under 'secrets:'.",
            )  # fmt: skip
    yield from _aws_keys(rel, lines, job.get("env"), start)
    for step in job.get("steps") or []:
        if isinstance(step, dict):
            yield from _check_step(rel, lines, name, step, start, target)


def _check_step(
    rel: str, lines: _Lines, job: str, step: dict[str, Any], start: int, target: bool
) -> Iterator[Finding]:
    uses = step.get("uses")
    with_: dict[str, Any] = step["with"] if isinstance(step.get("with"), dict) else {}
    if isinstance(uses, str):
        line = lines.find(uses, start)
        if _third_party(uses) and not FULL_SHA.search(uses):
            yield _unpinned(rel, line, uses)
        for key in AWS_KEY_INPUTS:
            if key in with_:
                yield _long_lived(rel, lines.find(key, line), key)
        ref = str(with_.get("ref", ""))
        if target and uses.startswith("actions/checkout@") and PR_HEAD.search(ref):
            yield Finding(
                rel, lines.find("ref:", line), RULE,
                f"job {job} checks out the pull request's head under pull_request_target, "
                "which runs it with this repository's secrets and a write token",
                fix="Use on: pull_request for untrusted code, or do not check out the head.",
            )  # fmt: skip
    yield from _aws_keys(rel, lines, step.get("env"), start)
    script = step.get("run")
    if isinstance(script, str):
        for match in INJECTABLE.finditer(script):
            expression = match.group(0)
            variable = re.sub(r"\W+", "_", match.group(1).split(".")[-1]).upper().strip("_")
            yield Finding(
                rel, lines.find(expression, start), RULE,
                f"{expression} is expanded inside a run: script (script injection)",
                fix=f"Pass it through the step's env ({variable}: {expression}) and use "
                f'"${variable}" in the script.',
            )  # fmt: skip


def _aws_keys(rel: str, lines: _Lines, env: Any, start: int) -> Iterator[Finding]:
    if isinstance(env, dict):
        for key in AWS_KEYS:
            if key in env:
                yield _long_lived(rel, lines.find(f"{key}:", start), key)


def _long_lived(rel: str, line: int, key: str) -> Finding:
    return Finding(
        rel, line, RULE,
        f"{key}: long-lived AWS keys in a workflow instead of OIDC",
        fix="Assume a role with aws-actions/configure-aws-credentials (role-to-assume, "
        "id-token: write); terraform/modules/github_oidc creates one.",
    )  # fmt: skip


def _unpinned(rel: str, line: int, uses: str) -> Finding:
    return Finding(
        rel, line, RULE,
        f"{uses} is not pinned to a full commit SHA (a tag or branch can be moved)",
        fix=f"Pin it: {uses.split('@')[0]}@<40-hex SHA> # <tag>.",
    )  # fmt: skip
