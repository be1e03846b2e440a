"""deploy: check → images → Terraform → targets (at once) → Amplify → smoke → release record.

Everything that can refuse the deploy (check errors, a protected environment, the wrong
account, another run holding the environment's lock, missing secrets) refuses it before the
first change. Once something changed, a release is recorded whatever happens next (a
failure, or an interrupt: an `interrupted` release naming what was done), so `status` and
`rollback` always know what is live; a deploy that changed nothing records nothing.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from deploytools.config import EnvConfig
from deploytools.config.model import LambdaTarget, Target
from deploytools.errors import BadInput, DeployError, Unavailable
from deploytools.lib import endpoints
from deploytools.lib.terraform_outputs import declared_outputs
from deploytools.output import Status, StepRecord
from deploytools.pipeline import preflight
from deploytools.pipeline.changes import ChangeLog, last_amplify_job
from deploytools.pipeline.context import NothingDeployed, Run, TargetsFailed, pending_in
from deploytools.pipeline.deploy_result import DeployResult, Images, app_url, image_doc
from deploytools.pipeline.locking import environment_locked
from deploytools.pipeline.policy import simulated
from deploytools.pipeline.recording import Progress, record_deploy
from deploytools.pipeline.repositories import adopt_repositories
from deploytools.pipeline.smoke import smoke, unchanged_since
from deploytools.pipeline.targets import TargetJob, TargetResult, run_targets
from deploytools.steps.amplify import AmplifyResult, JobBasis
from deploytools.steps.images import BuildImages
from deploytools.steps.release import Release
from deploytools.steps.targets import RefreshInputs, ZipPackage
from deploytools.steps.terraform.port import TerraformInputs
from deploytools.steps.terraform.var_files import resolve_var_files


def deploy(run: Run) -> DeployResult:
    env = run.env()
    targets = run.selected(env)
    run.guard_protected(env, action="deploy")
    preflight.check(run, stop_on_errors=True)
    preflight.account(run, env)
    with environment_locked(run, env, command="deploy"):
        return _deploy(run, env, targets)


def _deploy(run: Run, env: EnvConfig, targets: Mapping[str, Target]) -> DeployResult:
    arns = preflight.secrets(run, env, targets)
    preflight.amplify_token(run, env)
    var_files = _var_files(run, env)
    # Nothing has changed before this line (the sandbox's seeded placeholders aside).
    log = ChangeLog(run.reporter)
    done = Progress()
    # Read at most once: this run holds the environment's lock, so nobody writes it meanwhile.
    latest = functools.cache(lambda: _latest(run, env))
    try:
        env = adopt_repositories(run, env, var_files)
        done.images = _images(run, env)
        zips = packages(run, env)
        done.stage = "terraform"
        done.outputs, env = _terraform(run, env, done.images, zips, var_files)
        targets = run.selected(env)
        values = _secret_values(run, env, targets)
        workloads = _lacks(run, "registry", "docker")
        done.jobs = [
            _job(
                name,
                t,
                env,
                done.images,
                arns,
                values,
                zips,
                lacks=run.policy.lacks(t.type) or (workloads if _runs_workload(t) else None),
                simulates=run.policy.simulates,
            )
            for name, t in targets.items()
        ]
        done.stage = "targets"
        done.results = run_targets(run, done.jobs)
        interrupted = next(
            (r.exception for r in done.results if isinstance(r.exception, KeyboardInterrupt)),
            None,
        )
        if interrupted is not None:
            raise interrupted
        failure = _targets_failure(run, done.results)
        if failure is None:
            try:
                done.stage = "amplify"
                done.amplify = _amplify(run, env)
                done.stage = "smoke"
                done.smoke = smoke(run, env, unchanged=unchanged_since(log, latest))
            except DeployError as exc:
                failure = exc
    except KeyboardInterrupt as exc:
        with suppress(Exception):  # the interrupt is the news; a record is best effort
            record_deploy(run, env, done, log, failure=None, interrupted=exc, latest=latest)
        raise
    release = record_deploy(run, env, done, log, failure, latest=latest)
    if failure is not None:
        raise failure
    changed = (release is not None and not log.nothing_changed()) or failure is not None
    live = release or latest()
    return DeployResult(
        env.env,
        live,
        done.images,
        done.results,
        done.amplify,
        changed=changed,
        url=app_url(env, done.amplify),
    )


def _targets_failure(run: Run, results: list[TargetResult]) -> DeployError | None:
    failed = [r for r in results if not r.ok]
    lost = [down for r in failed if (down := endpoints.unreachable(r.exception))]
    if failed and len(lost) == len(failed) and len({down.url for down in lost}) == 1:
        return _endpoint_down(failed, lost[0])
    if failed:
        return TargetsFailed(
            "\n".join(f"target {r.name} {r.status.value}: {r.error}" for r in failed),
            [(r.name, r.exception) for r in failed if r.exception is not None],
        )
    if results and all(r.status is Status.SKIPPED for r in results) and not run.options.allow_empty:
        reasons = "; ".join(f"{r.name}: {r.error}" for r in results)
        return NothingDeployed(
            f"every target was skipped, so nothing was deployed ({reasons}); "
            "fix what the reasons name, or pass --allow-empty to accept a deploy of no target"
        )
    return None


def _endpoint_down(failed: list[TargetResult], down: endpoints.Unreachable) -> TargetsFailed:
    """Every failed target lost the same endpoint: one line naming it and what to do."""
    first = failed[0]
    names = ", ".join(r.name for r in failed)
    failure = TargetsFailed(
        f"target{'s' if len(failed) > 1 else ''} {names} failed: "
        f"{endpoints.advice(down.url, command='deploy')} "
        f"(during {endpoints.operation(first.error, down)})",
        [(r.name, r.exception) for r in failed if r.exception is not None],
    )
    failure.__cause__ = first.exception
    return failure


def _latest(run: Run, env: EnvConfig) -> Release | None:
    store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
    return store.current()


def _lacks(run: Run, *components: str) -> str | None:
    """The first of `components` this run lacks, and why."""
    return next((why for c in components if (why := run.policy.lacks(c))), None)


def _runs_workload(target: Target) -> bool:
    """The target's deploy starts its workload (a container), or needs a built image."""
    return target.type in ("ecs", "eks", "lambda") or target.image is not None


def _simulate(run: Run, record: StepRecord, what: str, why: str) -> None:
    """A step the sandbox could not execute: skipped, said on its own line, and in --json."""
    _skip(record, why)
    record.detail["simulated"] = why
    run.reporter.line(simulated(what, why))


def _without_value(pending: set[str]) -> str:
    """Why a target or Amplify is skipped: outputs it uses are null (or Terraform was skipped)."""
    return f"needs Terraform output(s) {', '.join(sorted(pending))}, which have no value"


def _skip(record: StepRecord, why: str) -> None:
    record.status, record.summary = Status.SKIPPED, why


def _images(run: Run, env: EnvConfig) -> Images | None:
    # Every image, even with --only: Terraform must see the whole map, and an image whose
    # content tag ECR already has costs one lookup.
    names = sorted(env.model.images)
    with run.reporter.step("images") as record:
        if not names:
            _skip(record, "no images to build")
            return {}
        why = _lacks(run, "registry", "docker")
        if why:
            _simulate(run, record, f"building and pushing {', '.join(names)}", why)
            return None
        request = BuildImages(
            root=run.config.root,
            names=names,
            registry_override=run.options.registry,
            commit=run.ports.clock.commit(run.config.root),
            extra_tags=(run.options.tag,) if run.options.tag else (),
        )
        try:
            built = run.ports.images.build(run.aws, env, request, reporter=run.reporter)
        except Unavailable as exc:
            run.policy.skip_or_raise(exc, record)
            return None
        result = {image.name: image for image in built}
        parts = []
        for name in names:
            image = result[name]
            if image.built:
                record.change(f"built {name} ({image.tag})")
            if image.pushed:
                record.change(f"pushed {image.uri}")
            state = "built, pushed" if image.pushed else "already in the registry"
            parts.append(f"{name} {(image.digest or image.uri)[:19]} ({state})")
        record.summary = "; ".join(parts)
        record.detail["images"] = {name: image_doc(image) for name, image in result.items()}
        if not record.changed:
            record.status = Status.UNCHANGED
        return result


def _terraform(
    run: Run,
    env: EnvConfig,
    images: Images | None,
    zips: Mapping[str, ZipPackage],
    var_files: Sequence[Path] = (),
) -> tuple[Mapping[str, object], EnvConfig]:
    if env.model.terraform is None:
        with run.reporter.step("terraform") as record:
            _skip(record, "no terraform: section")
        return {}, env
    why = _lacks(run, "terraform")
    try:
        if why:
            raise Unavailable("terraform", why)
        inputs = TerraformInputs(
            root=run.config.root,
            images={name: image.uri for name, image in (images or {}).items()},
            packages=zips,
            var_files=var_files,
            apply=True,
            sandbox=run.policy.terraform_state(env.model.project, env.env),
        )
        outputs = run.ports.terraform.apply(run.aws, env, inputs, reporter=run.reporter).values
    except Unavailable as exc:
        with run.reporter.step("terraform") as record:
            run.policy.skip_or_raise(exc, record)
            if run.policy.simulates:
                _simulate(run, record, f"terraform apply of {env.model.terraform.dir}", str(exc))
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


def _var_files(run: Run, env: EnvConfig) -> tuple[Path, ...]:
    """The root's -var-file= paths, checked before any change (a missing one is bad input)."""
    section = env.model.terraform
    return resolve_var_files(run.config.root, section.var_files) if section else ()


def packages(run: Run, env: EnvConfig) -> dict[str, ZipPackage]:
    """Every zip Lambda's package, before Terraform (which creates functions from them) and
    before the concurrent refresh. Local files only: plan builds them too."""
    zips: dict[str, ZipPackage] = {}
    for name, target in env.model.targets.items():
        if not isinstance(target, LambdaTarget) or target.package is None:
            continue
        out = package_dir(env) / f"{name}.zip"
        configured = target.package.runtime
        runtime = run.policy.package_runtime(configured)
        if runtime != configured:
            target = target.model_copy(
                update={"package": target.package.model_copy(update={"runtime": runtime})}
            )
        with run.reporter.step(f"package {name}") as record:
            zips[name] = run.ports.refreshers.package(
                name, target, root=run.config.root, out=out, record=record
            )
            if not record.summary:
                record.summary = f"{zips[name].path.name} CodeSha256 {zips[name].code_sha256}"
        if runtime != configured and zips[name].dependencies:
            # Wheels built for another Python (cp312's pydantic-core) cannot be imported by
            # the stand-in's: the requirements are installed for the Python that runs them.
            run.reporter.line(
                f"sandbox: package {name}'s requirements are installed for {runtime}, the "
                f"Python the sandbox's {configured} stand-in runs (a deploy to AWS installs "
                f"them for {configured})"
            )
    return zips


def package_dir(env: EnvConfig) -> Path:
    """Outside the repository (checks and git never see it), stable across runs."""
    return Path(tempfile.gettempdir()) / "deploytools" / env.model.project / env.env


def _secret_values(run: Run, env: EnvConfig, targets: Mapping[str, Target]) -> dict[str, str]:
    """Values only for Lambdas that opted into secrets in their (encrypted) environment."""
    required = list(env.model.secrets.required) if env.model.secrets else []
    names: set[str] = set()
    for target in targets.values():
        if isinstance(target, LambdaTarget) and target.secrets_in_environment:
            names.update(target.secrets if target.secrets is not None else required)
    return run.ports.secrets.values(run.aws, env, sorted(names)) if names else {}


def _job(
    name: str,
    target: Target,
    env: EnvConfig,
    images: Images | None,
    arns: Mapping[str, str],
    values: Mapping[str, str],
    zips: Mapping[str, ZipPackage],
    *,
    lacks: str | None = None,
    simulates: bool = False,
) -> TargetJob:
    image: str | None = None
    skip: str | None = lacks  # the run has no emulator for this target type
    if target.image and skip is None:
        if images is None:
            skip = f"no image {target.image}: the images step was skipped"
        else:
            image = images[target.image].uri
    pending = pending_in(target)
    if pending and skip is None:
        skip = _without_value(pending)
    required = list(env.model.secrets.required) if env.model.secrets else []
    wanted = target.secrets if target.secrets is not None else required
    in_environment = isinstance(target, LambdaTarget) and target.secrets_in_environment
    inputs = RefreshInputs(
        image=image,
        secret_arns={s: arns[s] for s in wanted if s in arns},
        environment=dict(target.environment),
        secret_values={s: values[s] for s in wanted if s in values} if in_environment else None,
        package=zips.get(name),
    )
    return TargetJob(name, target, inputs=inputs, skip=skip, simulated=simulates and bool(skip))


def _amplify(run: Run, env: EnvConfig) -> AmplifyResult | None:
    amplify = env.model.frontend.amplify if env.model.frontend else None
    with run.reporter.step("amplify") as record:
        if amplify is None:
            _skip(record, "no frontend.amplify: section")
            return None
        if run.options.only:
            _skip(record, "--only limits this deploy to targets")
            return None
        why = _lacks(run, "amplify")
        pending = pending_in(amplify)
        if why is None and pending:
            why = _without_value(pending)
        if why and run.policy.simulates:
            _simulate(run, record, f"the Amplify job of {amplify.app}", why)
            return None
        if why:
            _skip(record, why)
            return None
        store = run.ports.releases.store(run.aws, project=env.model.project, env=env.env)
        try:
            result = run.ports.amplify.deploy(
                run.aws,
                env,
                root=run.config.root,
                reporter=run.reporter,
                record=record,
                basis=JobBasis(
                    run.ports.clock.commit(run.config.root), last_amplify_job(store.history())
                ),
            )
        except Unavailable as exc:
            run.policy.skip_or_raise(exc, record)
            return None
        if not record.summary:
            done = result.as_dict().items()
            record.summary = ", ".join(f"{k} {v}" for k, v in done if v is not None)
        return result
