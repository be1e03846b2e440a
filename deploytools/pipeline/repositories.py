"""ECR repositories the app's Terraform declares: applied before the images are pushed.

The repository is the root's (`aws_ecr_repository`), so the images step must not create it
(the full apply would then fail on a repository that exists), and the push needs it first:
`terraform apply -target=` those repositories, then the images, then the full plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from deploytools.config import EnvConfig
from deploytools.lib.ecr_declared import declared_repositories
from deploytools.pipeline.context import Run
from deploytools.steps.terraform.port import TerraformInputs


def adopt_repositories(run: Run, env: EnvConfig, var_files: Sequence[Path]) -> EnvConfig:
    """ECR repositories the app's Terraform declares are its own: applied first (-target), so
    the push has somewhere to go, and never created by the images step."""
    section = env.model.terraform
    if section is None or not env.model.images or run.policy.lacks("terraform"):
        return env
    declared = declared_repositories((run.config.root / section.dir).resolve())
    adopted = {
        name: declared[str(image.repository)]
        for name, image in env.model.images.items()
        if image.repository in declared
    }
    if not adopted:
        return env
    addresses = sorted(set(adopted.values()))
    run.reporter.line(
        f"  terraform declares the repositories of {', '.join(sorted(adopted))}: applying "
        f"{', '.join(addresses)} first (-target), then the full plan"
    )
    inputs = TerraformInputs(
        root=run.config.root,
        images={},
        var_files=var_files,
        targets=addresses,
        apply=True,
        sandbox=run.policy.terraform_state(env.model.project, env.env),
    )
    run.ports.terraform.apply(run.aws, env, inputs, reporter=run.reporter)
    images = {
        name: image.model_copy(update={"create_repository": False}) if name in adopted else image
        for name, image in env.model.images.items()
    }
    return replace(env, model=env.model.model_copy(update={"images": images}))
