"""Every Terraform module, env and harness root is `terraform fmt` clean and passes
`terraform validate` (real binary, provider from the machine's filesystem mirror).

Validation runs in a copy of terraform/, so no `.terraform/` or lock file lands in the work
tree; the roots are validated concurrently (one shared TF_PLUGIN_CACHE_DIR, warmed by the
first init; all inits run before any validate, as the cache is not safe for concurrent
writers), each through the runner's own `init(backend=False)` and `validate()`.
"""

from __future__ import annotations

import io
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from deploytools import proc
from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformFailed, TerraformRunner

pytestmark = pytest.mark.terraform

REPO = Path(__file__).resolve().parents[1]
TERRAFORM = REPO / "terraform"
IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")


def _roots(base: Path) -> list[Path]:
    """Folders holding .tf files: modules, envs/examples and harness roots."""
    found = {p.parent for p in base.rglob("*.tf") if ".terraform" not in p.parts}
    return sorted(found)


ROOTS = [p.relative_to(REPO).as_posix() for p in _roots(TERRAFORM)]


def test_terraform_fmt_is_clean(terraform_bin: Path) -> None:
    result = proc.run(
        [terraform_bin, "fmt", "-check", "-recursive", "-list=true", "-no-color", TERRAFORM],
        check=False,
    )
    assert result.returncode == 0, f"not `terraform fmt` clean:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="session")
def validation(
    tmp_path_factory: pytest.TempPathFactory, terraform_bin: Path, _terraform_cli_config: Path
) -> dict[str, str | None]:
    """Root (relative to the repo) -> None when valid, else Terraform's error text."""
    base = tmp_path_factory.mktemp("tf-validate")
    shutil.copytree(TERRAFORM, base / "terraform", ignore=IGNORED)
    cache = base / "plugin-cache"
    cache.mkdir()
    env = {"TF_PLUGIN_CACHE_DIR": str(cache)}
    runners = {
        root: TerraformRunner(
            base / root,
            env_vars=env,
            reporter=Reporter(out=io.StringIO()),
            cli_config=_terraform_cli_config,
            binary=terraform_bin,
        )
        for root in ROOTS
    }
    results: dict[str, str | None] = {}
    # Inits run one after another: an init may rewrite a cached provider that another root's
    # validate is reading through its .terraform/providers link.
    for root, runner in runners.items():
        try:
            runner.init(backend=False)
        except TerraformFailed as exc:
            results[root] = str(exc)

    def validate(root: str) -> str | None:
        try:
            runners[root].validate()
        except TerraformFailed as exc:
            return str(exc)
        return None

    pending = [root for root in ROOTS if root not in results]
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        results.update(zip(pending, pool.map(validate, pending), strict=True))
    return results


@pytest.mark.parametrize("root", ROOTS)
def test_terraform_validate(root: str, validation: dict[str, str | None]) -> None:
    assert validation[root] is None, validation[root]


def test_every_module_has_the_four_files_and_a_readme() -> None:
    """terraform-aws-modules layout: main, variables, outputs, versions + README.md."""
    missing = []
    for module in sorted((TERRAFORM / "modules").iterdir()):
        if module.is_dir():
            for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
                if not (module / name).is_file():
                    missing.append(f"{module.relative_to(REPO)}/{name}")
    assert missing == []
