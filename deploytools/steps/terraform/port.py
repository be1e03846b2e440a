"""What the pipeline asks of the Terraform step: inputs in, outputs back.

Terraform learns the zip packages as it learns the images, from a JSON map (target name ->
{path, sha256}); a root module that declares no such variable ignores it. Against the
sandbox, `deploytools_sandbox` is true, so a root can turn off what the sandbox lacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from deploytools.aws import AwsContext
from deploytools.config import EnvConfig
from deploytools.errors import DeployError, Unavailable
from deploytools.lib import head_start
from deploytools.lib.head_start import HeadStart
from deploytools.lib.terraform_sandbox_backend import sandbox_backend
from deploytools.output import Reporter
from deploytools.steps.terraform.cliconfig import MIRROR_SEARCH_ENV
from deploytools.steps.terraform.env import terraform_env
from deploytools.steps.terraform.errors import TerraformNotInstalled
from deploytools.steps.terraform.runner import TerraformRunner

PACKAGES_VAR = "deploytools_packages"
SANDBOX_VAR = "deploytools_sandbox"


class Package(Protocol):
    """A zip built for a Lambda (steps.targets.lambda_zip.ZipPackage has this shape)."""

    @property
    def path(self) -> Path: ...
    @property
    def code_sha256(self) -> str: ...


@dataclass(frozen=True)
class SandboxState:
    """The sandbox's capability for Terraform: state in its own folder, not the root's
    backend; providers from a mirror on disk (the sandbox has no registry access)."""

    state_dir: Path


@dataclass(frozen=True)
class TerraformInputs:
    root: Path  # the folder of deploytools.yml; terraform.dir is relative to it
    images: Mapping[str, str]  # image name -> repository@digest
    packages: Mapping[str, Package] = field(default_factory=dict)  # target name -> zip
    var_files: Sequence[Path] = ()  # -var-file= paths in order (resolve_var_files)
    targets: Sequence[str] = ()  # -target= addresses: apply only these (and what they need)
    apply: bool = True  # False: plan, discard the plan, and read the current outputs
    sandbox: SandboxState | None = None


@dataclass(frozen=True)
class TerraformOutputs:
    values: Mapping[str, object]  # `terraform output -json`, name -> value


class TerraformPort(Protocol):
    def apply(
        self, aws: AwsContext, env: EnvConfig, inputs: TerraformInputs, *, reporter: Reporter
    ) -> TerraformOutputs:
        """init, plan, apply (or discard); Unavailable when terraform is not installed."""
        ...


def variables(env: EnvConfig, inputs: TerraformInputs) -> dict[str, str | int | float | bool]:
    """The root's input variables: the config's terraform.vars and deploytools' own."""
    section = env.model.terraform
    assert section is not None  # the pipeline runs Terraform only when configured
    result: dict[str, str | int | float | bool] = dict(section.vars)
    if inputs.sandbox is not None:
        result[SANDBOX_VAR] = True
    result[PACKAGES_VAR] = json.dumps(
        {name: {"path": str(p.path), "sha256": p.code_sha256} for name, p in inputs.packages.items()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return result


class TerraformCli:
    """The terraform binary, in the environment's root module."""

    def apply(
        self, aws: AwsContext, env: EnvConfig, inputs: TerraformInputs, *, reporter: Reporter
    ) -> TerraformOutputs:
        section = env.model.terraform
        assert section is not None  # the pipeline runs Terraform only when configured
        env_vars = terraform_env(
            aws, env=env.env, images=inputs.images, variables=variables(env, inputs)
        )
        tf_root = (inputs.root / section.dir).resolve()
        head = head_start.current()
        if inputs.sandbox is None:
            if head is not None:
                head.sandbox_backend(tf_root, None)  # one set up for a sandbox run: not ours
            return _run(tf_root, env_vars, section.backend_config, reporter, inputs)
        state_dir = inputs.sandbox.state_dir
        with _sandbox_backend(head, tf_root, state_dir) as sandbox_env:
            # The root's backend settings belong to its real backend, not the sandbox's.
            env_vars = {**env_vars, **sandbox_env, MIRROR_SEARCH_ENV: "1"}
            return _run(tf_root, env_vars, {}, reporter, inputs, (tf_root, state_dir))


@contextmanager
def _sandbox_backend(
    head: HeadStart | None, root: Path, state_dir: Path
) -> Iterator[dict[str, str]]:
    """The sandbox backend, from the head start when it set this one up at process start."""
    handed = head.sandbox_backend(root, state_dir) if head is not None else None
    if handed is None:
        with sandbox_backend(root, state_dir) as env:
            yield env
        return
    stack, env = handed
    with stack:
        yield env


def _run(
    tf_root: Path,
    env_vars: dict[str, str],
    backend_config: Mapping[str, str],
    reporter: Reporter,
    inputs: TerraformInputs,
    sandbox: tuple[Path, Path] | None = None,
) -> TerraformOutputs:
    """init, plan, then apply (or discard the plan and read the current outputs)."""
    try:
        runner = TerraformRunner(
            tf_root, env_vars=env_vars, reporter=reporter, sandbox_backend=sandbox
        )
    except TerraformNotInstalled as exc:
        raise Unavailable("terraform", str(exc)) from exc
    runner.init(backend_config=backend_config)
    summary = runner.plan(var_files=inputs.var_files, targets=inputs.targets)
    if not inputs.apply:
        runner.discard(summary)
        try:  # the outputs of the last apply: empty before the first one
            return TerraformOutputs(runner.outputs())
        except DeployError:
            return TerraformOutputs({})
    runner.apply(summary)
    return TerraformOutputs(runner.outputs())
