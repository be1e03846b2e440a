"""The seam between the pipeline and the step modules.

The pipeline orders steps and decides what runs; `Steps` is everything it asks of the step
modules. `RealSteps` calls them, importing each lazily so a module that has not landed yet
stops only the step that needs it (NotImplementedYet, exit 2) and names it. Tests inject
their own `Steps` to prove properties of the pipeline itself (order, concurrency, output).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from deploytools.aws import AwsContext
from deploytools.checks.base import Finding
from deploytools.config import EnvConfig, LoadedConfig
from deploytools.config.model import Smoke
from deploytools.errors import BadInput, NotImplementedYet
from deploytools.output import Reporter, StepRecord
from deploytools.steps import release
from deploytools.steps.release import ReleaseStore
from deploytools.steps.targets.base import Refresher

# Terraform learns the zip packages as it learns the images: a JSON map, target name ->
# {path, sha256}; a root module that declares no such variable ignores it.
PACKAGES_VAR = "deploytools_packages"
# True when Terraform applies against the sandbox, so a root module can turn off what the
# sandbox lacks (it is an ordinary input variable: unset, Terraform ignores TF_VAR_ values).
SANDBOX_VAR = "deploytools_sandbox"


class Unavailable(BadInput):
    """A tool or service a step needs is missing here; the message says how to install it.

    Against AWS this stops the run (exit 2); in the sandbox the step is skipped and named.
    """

    def __init__(self, what: str, how: str) -> None:
        self.what = what
        self.how = how
        super().__init__(f"{what} is not available: {how}")


class BuiltImage(Protocol):
    """What the images step returns per image (deploytools.steps.images.ImageResult)."""

    @property
    def name(self) -> str: ...
    @property
    def repository_uri(self) -> str: ...
    @property
    def tag(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def uri(self) -> str: ...  # repository_uri@sha256:…: targets deploy by digest
    @property
    def built(self) -> bool: ...
    @property
    def pushed(self) -> bool: ...


@dataclass(frozen=True)
class ZipPackage:
    """A Lambda zip built by deploytools: handed to the refresher by path and hash."""

    path: Path
    sha256: str  # base64 SHA-256, as Lambda reports CodeSha256

    def inputs(self) -> dict[str, Any]:
        return {"zip_path": self.path, "code_sha256": self.sha256}


class Steps(Protocol):
    """Everything the pipeline asks of the step modules (and of the clock and git)."""

    def missing_modules(self, needed: Sequence[tuple[str, str]]) -> list[str]:
        """For each (module under deploytools.steps, step name) that cannot be imported,
        one line naming the step; injected steps return []."""
        ...

    def run_checks(self, config: LoadedConfig) -> list[Finding]: ...

    def missing_secrets(self, aws: AwsContext, env: EnvConfig) -> list[str]: ...

    def check_secrets(self, aws: AwsContext, env: EnvConfig) -> None: ...

    def seed_secrets(self, aws: AwsContext, env: EnvConfig) -> list[str]: ...

    def require_parameter(self, aws: AwsContext, name: str, *, seed: bool) -> bool:
        """Whether `name` had to be seeded (sandbox); False when it exists; else BadInput."""
        ...

    def secret_arns(self, aws: AwsContext, env: EnvConfig) -> dict[str, str]: ...

    def secret_values(
        self, aws: AwsContext, env: EnvConfig, names: Sequence[str]
    ) -> dict[str, str]: ...

    def plan_images(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        names: Sequence[str],
        registry: str | None,
    ) -> list[dict[str, Any]]: ...

    def build_images(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        names: Sequence[str],
        registry: str | None,
        tag: str | None,
        reporter: Reporter,
        record: StepRecord,
    ) -> Mapping[str, BuiltImage]: ...

    def terraform(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        images: Mapping[str, str],
        packages: Mapping[str, ZipPackage],
        reporter: Reporter,
        apply: bool,
    ) -> dict[str, Any]: ...

    def build_zip(
        self, name: str, target: Any, *, root: Path, out: Path, record: StepRecord
    ) -> ZipPackage: ...

    def refresher(
        self, name: str, target: Any, *, aws: AwsContext, reporter: Reporter
    ) -> Refresher: ...

    def plan_amplify(self, aws: AwsContext, env: EnvConfig, *, root: Path) -> dict[str, Any]: ...

    def deploy_amplify(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        reporter: Reporter,
        record: StepRecord,
    ) -> dict[str, Any]: ...

    def smoke(self, checks: Sequence[Smoke], *, record: StepRecord) -> list[Any]: ...

    def release_store(self, aws: AwsContext, env: EnvConfig) -> ReleaseStore: ...

    def caller_arn(self, aws: AwsContext) -> str | None: ...

    def git_sha(self, root: Path) -> str | None: ...

    def now(self) -> datetime: ...


def step_module(name: str, *, step: str) -> ModuleType:
    """Import deploytools.steps.<name>, or say which step cannot run yet and why."""
    module_name = f"deploytools.steps.{name}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        raise NotImplementedYet(f"step {step}: {module_name} does not exist yet") from exc


@dataclass(frozen=True)
class RealSteps:
    """The step modules themselves, for the app at `root` (against the sandbox or AWS)."""

    root: Path | None = None
    sandbox: bool = False

    def missing_modules(self, needed: Sequence[tuple[str, str]]) -> list[str]:
        missing: list[str] = []
        for module, step in needed:
            try:
                step_module(module, step=step)
            except NotImplementedYet as exc:
                missing.append(str(exc))
        return missing

    def run_checks(self, config: LoadedConfig) -> list[Finding]:
        from deploytools.checks import CheckContext, run_checks

        return run_checks(CheckContext(root=config.root, config=config))

    def missing_secrets(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        missing: list[str] = step_module("secrets", step="secrets").missing_required(aws, env)
        return missing

    def check_secrets(self, aws: AwsContext, env: EnvConfig) -> None:
        step_module("secrets", step="secrets").check_required(aws, env)

    def seed_secrets(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        seeded: list[str] = step_module("secrets", step="secrets").seed_missing(aws, env)
        return seeded

    def require_parameter(self, aws: AwsContext, name: str, *, seed: bool) -> bool:
        seeded: bool = step_module("secrets", step="secrets").require_parameter(
            aws, name, seed=seed
        )
        return seeded

    def secret_arns(self, aws: AwsContext, env: EnvConfig) -> dict[str, str]:
        arns: dict[str, str] = step_module("secrets", step="secrets").secret_arns(aws, env)
        return arns

    def secret_values(
        self, aws: AwsContext, env: EnvConfig, names: Sequence[str]
    ) -> dict[str, str]:
        secrets = step_module("secrets", step="secrets")
        values: dict[str, str] = secrets.resolve_secrets(aws, env, names=list(names)).values(names)
        return values

    def plan_images(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        names: Sequence[str],
        registry: str | None,
    ) -> list[dict[str, Any]]:
        images = step_module("images", step="images")
        planned = []
        for plan in images.plan_images(
            aws, env, root=root, names=list(names), registry_override=registry
        ):
            item: dict[str, Any] = plan.as_dict()
            if plan.repository_uri and plan.digest:  # what targets would run: by digest
                item["uri"] = f"{plan.repository_uri}@{plan.digest}"
            else:
                item["uri"] = f"{plan.repository_uri or plan.repository}:{plan.tag}"
            planned.append(item)
        return planned

    def build_images(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        names: Sequence[str],
        registry: str | None,
        tag: str | None,
        reporter: Reporter,
        record: StepRecord,
    ) -> Mapping[str, BuiltImage]:
        images = step_module("images", step="images")
        try:
            results = images.build_images(
                aws,
                env,
                root=root,
                reporter=reporter,
                names=list(names),
                registry_override=registry,
                extra_tag=tag,
            )
        except images.DockerUnavailable as exc:
            raise Unavailable("a Docker engine", f"{exc} (scripts/setup installs one)") from exc
        return {r.name: r for r in results}

    def terraform(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        images: Mapping[str, str],
        packages: Mapping[str, ZipPackage],
        reporter: Reporter,
        apply: bool,
    ) -> dict[str, Any]:
        terraform = step_module("terraform", step="terraform")
        section = env.model.terraform
        assert section is not None  # the pipeline only calls this when configured
        variables: dict[str, str | int | float | bool] = dict(section.vars)
        if self.sandbox:
            variables[SANDBOX_VAR] = True
        variables[PACKAGES_VAR] = json.dumps(
            {name: {"path": str(p.path), "sha256": p.sha256} for name, p in packages.items()},
            sort_keys=True,
            separators=(",", ":"),
        )
        env_vars = terraform.terraform_env(aws, env=env.env, images=images, variables=variables)
        tf_root = (root / section.dir).resolve()
        if not self.sandbox:
            return _run_terraform(
                terraform, tf_root, env_vars, section.backend_config, reporter, apply=apply
            )
        from deploytools.sandbox.state import terraform_dir
        from deploytools.steps.terraform.sandbox_backend import sandbox_backend

        where = terraform_dir() / env.model.project / env.env
        with sandbox_backend(tf_root, where) as sandbox_env:
            # The root's backend settings belong to its real backend, not the sandbox's.
            return _run_terraform(
                terraform, tf_root, {**env_vars, **sandbox_env}, {}, reporter, apply=apply
            )

    def build_zip(
        self, name: str, target: Any, *, root: Path, out: Path, record: StepRecord
    ) -> ZipPackage:
        lambda_zip = step_module("targets.lambda_zip", step=f"package {name}")
        built = lambda_zip.build_zip(
            root / target.package.source, out=out, excludes=list(target.package.excludes)
        )
        record.change(f"zip {built.path} ({built.code_sha256})")
        record.summary = f"{built.summary}, CodeSha256 {built.code_sha256}"
        return ZipPackage(path=Path(built.path), sha256=str(built.code_sha256))

    def refresher(
        self, name: str, target: Any, *, aws: AwsContext, reporter: Reporter
    ) -> Refresher:
        from deploytools.steps.targets import refresher_for

        if self.sandbox:
            target = loopback_only(target, reporter)
        return refresher_for(name, target, aws=aws, reporter=reporter, root=self.root)

    def plan_amplify(self, aws: AwsContext, env: EnvConfig, *, root: Path) -> dict[str, Any]:
        amplify = step_module("amplify", step="amplify")
        planned = amplify.plan_amplify(aws, env, root=root)
        return {**planned.as_dict(), "summary": planned.line()}

    def deploy_amplify(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        reporter: Reporter,
        record: StepRecord,
    ) -> dict[str, Any]:
        amplify = step_module("amplify", step="amplify")
        result = amplify.deploy_amplify(aws, env, root=root, reporter=reporter, record=record)
        done: dict[str, Any] = result.as_dict()
        return done

    def smoke(self, checks: Sequence[Smoke], *, record: StepRecord) -> list[Any]:
        from deploytools.steps import smoke

        return list(smoke.run_smoke(checks))

    def release_store(self, aws: AwsContext, env: EnvConfig) -> ReleaseStore:
        return ReleaseStore(aws.client("ssm"), project=env.model.project, env=env.env)

    def caller_arn(self, aws: AwsContext) -> str | None:
        return release.caller_arn(aws)

    def git_sha(self, root: Path) -> str | None:
        return release.git_sha(root)

    def now(self) -> datetime:
        return release.utc_now()


def _current_outputs(runner: Any) -> dict[str, Any]:
    """The outputs of the last apply, for plan: read-only, empty before the first apply."""
    from deploytools.errors import DeployError

    try:
        outputs: dict[str, Any] = runner.outputs()
    except DeployError:
        return {}
    return outputs


def _run_terraform(
    terraform: Any,
    tf_root: Path,
    env_vars: dict[str, str],
    backend_config: Mapping[str, str],
    reporter: Reporter,
    *,
    apply: bool,
) -> dict[str, Any]:
    """init, plan, then apply (or discard the plan and read the current outputs)."""
    try:
        runner = terraform.TerraformRunner(tf_root, env_vars=env_vars, reporter=reporter)
    except terraform.TerraformNotInstalled as exc:
        raise Unavailable("terraform", str(exc)) from exc
    runner.init(backend_config=backend_config)
    summary = runner.plan()
    if not apply:
        runner.discard(summary)
        return _current_outputs(runner)
    runner.apply(summary)
    outputs: dict[str, Any] = runner.outputs()
    return outputs


def is_loopback(url: str) -> bool:
    """The sandbox sends traffic to loopback only: its stand-ins serve nothing elsewhere."""
    from ipaddress import ip_address
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_only(target: Any, reporter: Reporter) -> Any:
    """A target whose warm-up the sandbox cannot serve is refreshed without that call: a URL
    off loopback, or a Lambda invoke (moto runs a function by pulling its image or a runtime
    image from a registry, and the sandbox has no way out to one)."""
    warmup = getattr(target, "warmup", None)
    if warmup is None or (warmup.url is not None and is_loopback(warmup.url)):
        return target
    if warmup.url is None:
        reporter.line("  warm-up by invoke: skipped in the sandbox (moto cannot run the function)")
    else:
        reporter.line(f"  warm-up {warmup.url}: skipped in the sandbox (not a loopback address)")
    return target.model_copy(update={"warmup": None})
