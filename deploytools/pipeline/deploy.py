"""deploy: check → images → Terraform → targets (at once) → Amplify → smoke → release record.

Everything that can refuse the deploy (check errors, a protected environment, the wrong
account, missing secrets, a step module that does not exist) refuses it before the first
change. Once targets have been touched, a release is recorded whatever happens next, so
`status` and `rollback` always know what is live.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploytools.config import EnvConfig
from deploytools.errors import BadInput, DeployError
from deploytools.lib.terraform_outputs import declared_outputs
from deploytools.output import Status, StepRecord
from deploytools.pipeline import preflight
from deploytools.pipeline.context import Run, TargetsFailed, pending_in
from deploytools.pipeline.seam import Unavailable, ZipPackage, is_loopback
from deploytools.pipeline.targets import TargetJob, TargetResult, run_targets
from deploytools.steps.release import Kind, Outcome, Release, new_release_id, who
from deploytools.steps.smoke import SmokeFailed


@dataclass(frozen=True)
class DeployResult:
    env: str
    release: Release | None
    images: dict[str, dict[str, Any]] | None  # None when the images step was skipped
    targets: list[TargetResult] = field(default_factory=list)
    amplify: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "release": self.release.id if self.release else None,
            "images": self.images,
            "targets": [t.as_dict() for t in self.targets],
            "amplify": self.amplify,
        }


def deploy(run: Run) -> DeployResult:
    env = run.env()
    targets = run.selected(env)
    run.guard_protected(env, action="deploy")
    preflight.require_modules(run, env, targets)
    preflight.check(run, stop_on_errors=True)
    preflight.account(run, env)
    arns = preflight.secrets(run, env, targets)
    preflight.amplify_token(run, env)
    # Nothing has changed before this line (the sandbox's seeded placeholders aside).
    images = _images(run, env)
    zips = packages(run, env)
    outputs, env = _terraform(run, env, images, zips)
    targets = run.selected(env)
    values = _secret_values(run, env, targets)
    jobs = [
        _job(name, t, env, images, arns, values, zips, lacks=_sandbox_lacks(run, t.type))
        for name, t in targets.items()
    ]
    results = run_targets(run, jobs)
    failure: DeployError | None = None
    failed = [r for r in results if not r.ok]
    if failed:
        failure = TargetsFailed(
            "\n".join(f"target {r.name} {r.status.value}: {r.error}" for r in failed)
        )
    amplify: dict[str, Any] | None = None
    if failure is None:
        try:
            amplify = _amplify(run, env)
            _smoke(run, env)
        except DeployError as exc:
            failure = exc
    release = _record(run, env, images, results, amplify, outputs, failure)
    if failure is not None:
        raise failure
    return DeployResult(env.env, release, images, results, amplify)


def _sandbox_lacks(run: Run, *components: str) -> str | None:
    """The sandbox's own line for a missing component, if this step needs one."""
    if not run.options.sandbox:
        return None
    for component in components:
        if component in run.options.missing:
            return f"sandbox has no {component}: {run.options.missing[component]}"
    return None


def _without_value(pending: set[str]) -> str:
    """Why a target or Amplify is skipped: outputs it uses are null (or Terraform was skipped)."""
    return f"needs Terraform output(s) {', '.join(sorted(pending))}, which have no value"


def _skip(record: StepRecord, why: str) -> None:
    record.status, record.summary = Status.SKIPPED, why


def _images(run: Run, env: EnvConfig) -> dict[str, dict[str, Any]] | None:
    # Every image, even with --only: Terraform must see the whole map, and an image whose
    # content tag ECR already has costs one lookup.
    names = sorted(env.model.images)
    with run.reporter.step("images") as record:
        if not names:
            _skip(record, "no images to build")
            return {}
        why = _sandbox_lacks(run, "registry", "docker")
        if why:
            _skip(record, why)
            return None
        try:
            built = run.steps.build_images(
                run.aws,
                env,
                root=run.config.root,
                names=names,
                registry=run.options.registry,
                tag=run.options.tag,
                reporter=run.reporter,
                record=record,
            )
        except Unavailable as exc:
            if not run.options.sandbox:
                raise
            _skip(record, str(exc))
            return None
        result: dict[str, dict[str, Any]] = {}
        parts = []
        for name in names:
            image = built[name]
            result[name] = {
                "uri": image.uri,
                "digest": image.digest,
                "tag": image.tag,
                "repository_uri": image.repository_uri,
                "built": image.built,
                "pushed": image.pushed,
            }
            if image.built:
                record.change(f"built {name} ({image.tag})")
            if image.pushed:
                record.change(f"pushed {image.uri}")
            state = "built, pushed" if image.pushed else "already in the registry"
            parts.append(f"{name} {image.digest[:19]} ({state})")
        record.summary = "; ".join(parts)
        record.detail["images"] = result
        if not record.changed:
            record.status = Status.UNCHANGED
        return result


def _terraform(
    run: Run,
    env: EnvConfig,
    images: dict[str, dict[str, Any]] | None,
    zips: Mapping[str, ZipPackage],
) -> tuple[dict[str, Any], EnvConfig]:
    if env.model.terraform is None:
        with run.reporter.step("terraform") as record:
            _skip(record, "no terraform: section")
        return {}, env
    why = _sandbox_lacks(run, "terraform")
    try:
        if why:
            raise Unavailable("terraform", why)
        uris = {name: image["uri"] for name, image in (images or {}).items()}
        outputs = run.steps.terraform(
            run.aws,
            env,
            root=run.config.root,
            images=uris,
            packages=zips,
            reporter=run.reporter,
            apply=True,
        )
    except Unavailable as exc:
        if not run.options.sandbox:
            raise
        with run.reporter.step("terraform") as record:
            _skip(record, str(exc))
        return {}, env
    resolved = run.env(outputs)
    if resolved.pending_tf:
        tf_dir = (run.config.root / env.model.terraform.dir).resolve()
        undeclared = resolved.pending_tf - (declared_outputs(tf_dir) or set())
        if undeclared:  # `check` (DT000) stops this before any change; kept as the last word
            raise BadInput(
                f"{run.config.file} uses Terraform output(s) that {env.model.terraform.dir} "
                f"does not define: {', '.join(sorted(undeclared))}; add them to its outputs.tf"
            )
        # Declared but null (Terraform then leaves them out): what needs them is skipped.
        run.reporter.line(
            f"  terraform output(s) {', '.join(sorted(resolved.pending_tf))} are null here: "
            "targets and smoke checks that use them are skipped"
        )
    return outputs, resolved


def packages(run: Run, env: EnvConfig) -> dict[str, ZipPackage]:
    """Every zip Lambda's package, before Terraform (which creates functions from them) and
    before the concurrent refresh. Local files only: plan builds them too."""
    zips: dict[str, ZipPackage] = {}
    for name, target in env.model.targets.items():
        if getattr(target, "package", None) is None:
            continue
        out = package_dir(env) / f"{name}.zip"
        with run.reporter.step(f"package {name}") as record:
            zips[name] = run.steps.build_zip(
                name, target, root=run.config.root, out=out, record=record
            )
            if not record.summary:
                record.summary = f"{zips[name].path.name} CodeSha256 {zips[name].sha256}"
    return zips


def package_dir(env: EnvConfig) -> Path:
    """Outside the repository (checks and git never see it), stable across runs."""
    return Path(tempfile.gettempdir()) / "deploytools" / env.model.project / env.env


def _secret_values(run: Run, env: EnvConfig, targets: Mapping[str, Any]) -> dict[str, str]:
    """Values only for Lambdas that opted into secrets in their (encrypted) environment."""
    required = list(env.model.secrets.required) if env.model.secrets else []
    names: set[str] = set()
    for target in targets.values():
        if getattr(target, "secrets_in_environment", False):
            names.update(target.secrets if target.secrets is not None else required)
    return run.steps.secret_values(run.aws, env, sorted(names)) if names else {}


def _job(
    name: str,
    target: Any,
    env: EnvConfig,
    images: dict[str, dict[str, Any]] | None,
    arns: Mapping[str, str],
    values: Mapping[str, str],
    zips: Mapping[str, ZipPackage],
    *,
    lacks: str | None = None,
) -> TargetJob:
    image_name = getattr(target, "image", None)
    image: str | None = None
    skip: str | None = lacks  # the sandbox has no emulator for this target type
    if image_name and skip is None:
        if images is None:
            skip = f"no image {image_name}: the images step was skipped"
        else:
            image = images[image_name]["uri"]
    pending = pending_in(target)
    if pending and skip is None:
        skip = _without_value(pending)
    required = list(env.model.secrets.required) if env.model.secrets else []
    wanted = target.secrets if target.secrets is not None else required
    inputs: dict[str, Any] = {
        "secret_arns": {s: arns[s] for s in wanted if s in arns},
        "environment": dict(target.environment),
    }
    if getattr(target, "secrets_in_environment", False):
        inputs["secret_values"] = {s: values[s] for s in wanted if s in values}
    if name in zips:
        inputs.update(zips[name].inputs())
    return TargetJob(name, target, image=image, inputs=inputs, skip=skip)


def _amplify(run: Run, env: EnvConfig) -> dict[str, Any] | None:
    amplify = env.model.frontend.amplify if env.model.frontend else None
    with run.reporter.step("amplify") as record:
        if amplify is None:
            _skip(record, "no frontend.amplify: section")
            return None
        if run.options.only:
            _skip(record, "--only limits this deploy to targets")
            return None
        why = _sandbox_lacks(run, "amplify")
        pending = pending_in(amplify)
        if why is None and pending:
            why = _without_value(pending)
        if why:
            _skip(record, why)
            return None
        try:
            result = run.steps.deploy_amplify(
                run.aws, env, root=run.config.root, reporter=run.reporter, record=record
            )
        except Unavailable as exc:
            if not run.options.sandbox:
                raise
            _skip(record, str(exc))
            return None
        if not record.summary:
            record.summary = ", ".join(f"{k} {v}" for k, v in result.items() if v is not None)
        return result


def _smoke(run: Run, env: EnvConfig) -> None:
    with run.reporter.step("smoke") as record:
        checks = list(env.model.smoke)
        if not checks:
            _skip(record, "no smoke: checks")
            return
        runnable = []
        for check in checks:
            if pending_in(check):
                names = ", ".join(sorted(pending_in(check)))
                run.reporter.line(f"  smoke {check.url}: skipped, needs output(s) {names}")
            elif run.options.sandbox and not is_loopback(check.url):
                run.reporter.line(
                    f"  smoke {check.url}: skipped in the sandbox (not a loopback address)"
                )
            else:
                runnable.append(check)
        if not runnable:
            _skip(record, "no check can run here (see the lines above)")
            return
        try:
            results = run.steps.smoke(runnable, record=record)
        except SmokeFailed as exc:
            record.detail["results"] = [r.as_dict() for r in exc.results]
            raise
        record.detail["results"] = [r.as_dict() for r in results]
        for result in results:
            run.reporter.line(f"  {result.line()}")
        record.status = Status.UNCHANGED
        skipped = len(checks) - len(runnable)
        record.summary = f"{len(results)} passed" + (f", {skipped} skipped" if skipped else "")


def _record(
    run: Run,
    env: EnvConfig,
    images: dict[str, dict[str, Any]] | None,
    results: list[TargetResult],
    amplify: dict[str, Any] | None,
    outputs: Mapping[str, Any],
    failure: DeployError | None,
) -> Release | None:
    """Write the release; if the deploy already failed, a failed write only warns."""
    try:
        with run.reporter.step("release") as record:
            store = run.steps.release_store(run.aws, env)
            previous = store.current()
            targets = dict(previous.targets) if previous else {}
            for result in results:
                if result.after is not None:
                    targets[result.name] = result.after.as_dict()
            recorded_images = dict(previous.images) if previous else {}
            for name, image in (images or {}).items():
                recorded_images[name] = {
                    k: image[k] for k in ("uri", "digest", "tag", "repository_uri")
                }
            referenced = run.env().pending_tf  # the outputs the config names
            tf_outputs = dict(previous.tf_outputs) if previous else {}
            tf_outputs.update({k: v for k, v in outputs.items() if k in referenced})
            root = run.config.root
            sha = run.steps.git_sha(root)
            now = run.steps.now()
            release = Release(
                id=new_release_id(now=now, git_sha=sha),
                project=env.model.project,
                env=env.env,
                created=now.isoformat(timespec="seconds"),
                kind=Kind.DEPLOY,
                status=Outcome.FAILED if failure else Outcome.OK,
                reason=_first_line(failure) if failure else "",
                git_sha=sha,
                who=who(run.steps.caller_arn(run.aws)),
                images=recorded_images,
                targets=targets,
                amplify=_amplify_record(amplify) or (previous.amplify if previous else None),
                tf_outputs=tf_outputs,
            )
            written: Release = store.write(release)
            record.change(f"release {written.id}")
            record.summary = written.short()
            record.detail["release"] = written.id
            return written
    except DeployError as exc:
        if failure is None:
            raise
        with suppress(Exception):
            run.reporter.warn(f"the release record was not written: {exc}")
        return None


def _amplify_record(result: dict[str, Any] | None) -> dict[str, Any] | None:
    keys = ("app_id", "app", "branch", "job_id", "status", "url")
    return None if result is None else {k: result[k] for k in keys if k in result}


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
