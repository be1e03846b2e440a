"""Step 1, before any change: check, protected environments, the account guard, secrets."""

from __future__ import annotations

from collections.abc import Mapping

from deploytools.checks.base import Finding, Severity
from deploytools.config import EnvConfig
from deploytools.config.model import Target
from deploytools.errors import BadInput
from deploytools.output import Status
from deploytools.pipeline.context import ChecksFailed, Run


def check(run: Run, *, stop_on_errors: bool) -> list[Finding]:
    """The `check` rules; with `stop_on_errors`, errors end the run here (exit 3)."""
    with run.reporter.step("check") as record:
        findings = run.ports.checks.run(run.config)
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


def secrets(run: Run, env: EnvConfig, targets: Mapping[str, Target]) -> dict[str, str]:
    """Required secrets present (seeded in the sandbox); name -> SSM ARN for the targets."""
    with run.reporter.step("secrets") as record:
        if env.model.secrets is None:
            record.status, record.summary = Status.UNCHANGED, "no secrets: section"
            return {}
        if run.policy.seeds_secrets:
            seeded = run.ports.secrets.seed(run.aws, env)
            for name in seeded:
                record.change(f"seeded {env.model.secrets.ssm_path}{name} (placeholder)")
            if seeded:
                run.reporter.line(
                    "  the sandbox lacked these secrets; seeded generated placeholder values: "
                    + ", ".join(seeded)
                )
        run.ports.secrets.check(run.aws, env)
        arns = run.ports.secrets.arns(run.aws, env)
        required = list(env.model.secrets.required)
        for name, target in targets.items():
            wanted = target.secrets if target.secrets is not None else required
            absent = [s for s in wanted if s not in arns]
            if absent:
                raise BadInput(
                    f"target {name}: secret(s) {', '.join(absent)} are not in SSM under "
                    f"{env.model.secrets.ssm_path}; nothing was changed"
                )
        nested = run.ports.secrets.nested(run.aws, env)
        if nested:
            record.detail["ignored_nested"] = nested
            run.reporter.line(
                f"  ignored {len(nested)} parameter(s) in sub-paths of {env.ssm_path} (the "
                f"environment's variables are its direct children): {', '.join(nested)}"
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
            seeded = run.ports.secrets.require_parameter(
                run.aws, name, seed=run.policy.seeds_secrets
            )
        except BadInput as exc:
            raise BadInput(
                f"frontend.amplify.access_token_parameter: {exc}; nothing was changed"
            ) from exc
        if seeded:
            record.change(f"seeded {name} (placeholder)")
            record.summary = f"{name} seeded with a placeholder (sandbox)"
        else:
            record.status, record.summary = Status.UNCHANGED, f"{name} present"
