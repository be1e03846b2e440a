"""Step 1, before any change: check, protected environments, the account guard, secrets."""

from __future__ import annotations

from typing import Any

from deploytools.checks.base import Finding, Severity
from deploytools.config import EnvConfig
from deploytools.errors import BadInput, NotImplementedYet
from deploytools.output import Status
from deploytools.pipeline.context import ChecksFailed, Run


def check(run: Run, *, stop_on_errors: bool) -> list[Finding]:
    """The `check` rules; with `stop_on_errors`, errors end the run here (exit 3)."""
    with run.reporter.step("check") as record:
        findings = run.steps.run_checks(run.config)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        record.summary = f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
        record.detail["findings"] = [f.as_dict() for f in findings]
        record.status = Status.UNCHANGED
        for finding in findings:
            text = f"{finding.file}:{finding.line}: {finding.rule} {finding.message}"
            if finding.severity is Severity.ERROR:
                run.reporter.line(f"  {text}")
            else:
                run.reporter.warn(text, file=finding.file, line=finding.line)
        if errors and stop_on_errors:
            raise ChecksFailed(
                f"check found {len(errors)} error(s); nothing was changed. "
                "Fix them (deploytools check shows each with its fix) and deploy again"
            )
    return findings


def account(run: Run, env: EnvConfig) -> str:
    with run.reporter.step("account") as record:
        found = run.aws.assert_account(env.environment.account_id, env=env.env)
        record.status = Status.UNCHANGED
        record.summary = f"account {found} is environment {env.env}'s"
        return found


def secrets(run: Run, env: EnvConfig, targets: dict[str, Any]) -> dict[str, str]:
    """Required secrets present (seeded in the sandbox); name -> SSM ARN for the targets."""
    with run.reporter.step("secrets") as record:
        if env.model.secrets is None:
            record.status, record.summary = Status.UNCHANGED, "no secrets: section"
            return {}
        if run.options.sandbox:
            seeded = run.steps.seed_secrets(run.aws, env)
            for name in seeded:
                record.change(f"seeded {env.model.secrets.ssm_path}{name} (placeholder)")
            if seeded:
                run.reporter.line(
                    "  the sandbox lacked these secrets; seeded generated placeholder values: "
                    + ", ".join(seeded)
                )
        run.steps.check_secrets(run.aws, env)
        arns = run.steps.secret_arns(run.aws, env)
        required = list(env.model.secrets.required)
        for name, target in targets.items():
            wanted = target.secrets if target.secrets is not None else required
            absent = [s for s in wanted if s not in arns]
            if absent:
                raise BadInput(
                    f"target {name}: secret(s) {', '.join(absent)} are not in SSM under "
                    f"{env.model.secrets.ssm_path}; nothing was changed"
                )
        if not record.changed:
            record.status = Status.UNCHANGED
        record.summary = f"{len(required)} required present, {len(arns)} under {env.ssm_path}"
        return arns


def amplify_token(run: Run, env: EnvConfig) -> None:
    """The Amplify access token parameter exists (seeded in the sandbox), before any change:
    finding it missing after the targets moved would leave a half-done deploy."""
    amplify = env.model.frontend.amplify if env.model.frontend else None
    name = amplify.access_token_parameter if amplify else None
    if not name or run.options.only:  # --only limits a deploy to targets: no Amplify
        return
    with run.reporter.step("amplify token") as record:
        try:
            seeded = run.steps.require_parameter(run.aws, name, seed=run.options.sandbox)
        except BadInput as exc:
            raise BadInput(
                f"frontend.amplify.access_token_parameter: {exc}; nothing was changed"
            ) from exc
        if seeded:
            record.change(f"seeded {name} (placeholder)")
            record.summary = f"{name} seeded with a placeholder (sandbox)"
        else:
            record.status, record.summary = Status.UNCHANGED, f"{name} present"


def require_modules(run: Run, env: EnvConfig, targets: dict[str, Any]) -> None:
    """Every step module this deploy needs exists, or stop now, before any change."""
    needed: list[tuple[str, str]] = []
    if env.model.secrets is not None:
        needed.append(("secrets", "secrets"))
    if env.model.images:
        needed.append(("images", "images"))
    if env.model.terraform is not None:
        needed.append(("terraform", "terraform"))
    if env.model.frontend and env.model.frontend.amplify and not run.options.only:
        needed.append(("amplify", "amplify"))
    modules = {"ecs": "ecs", "lambda": "lambda_", "eks": "eks", "batch": "batch"}
    for name, target in targets.items():
        needed.append((f"targets.{modules[target.type]}", f"target {name}"))
    for name, target in env.model.targets.items():
        if getattr(target, "package", None) is not None:
            needed.append(("targets.lambda_zip", f"package {name}"))
    missing = run.steps.missing_modules(list(dict.fromkeys(needed)))
    if missing:
        raise NotImplementedYet("; ".join(missing) + "; nothing was changed")
