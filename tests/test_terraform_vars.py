"""`terraform.vars` take any JSON value and `terraform.var_files` (per
environment, `{env}` interpolated) are passed to plan in order. Real terraform on a root that
needs no provider (terraform_data)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from deploytools.aws import AwsContext
from deploytools.config import load_config
from deploytools.errors import BadInput, ConfigError
from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformRunner, resolve_var_files, terraform_env

pytestmark = pytest.mark.terraform

CONFIG = """\
project: shop
environments:
  dev: {account_id: "123456789012"}
  prod: {account_id: "210987654321"}
terraform:
  dir: infra
  vars:
    zones: [a, b]
    sizes: {small: 1, large: 4}
    settings: {name: web, replicas: 2, tags: [x]}
    replicas: 3
    ratio: 0.5
    enabled: true
    owner: ml-team
  var_files: [infra/common.tfvars, "infra/{env}.tfvars"]
"""

ROOT = """\
variable "zones" { type = list(string) }
variable "sizes" { type = map(number) }
variable "settings" {
  type = object({ name = string, replicas = number, tags = list(string) })
}
variable "replicas" { type = number }
variable "ratio" { type = number }
variable "enabled" { type = bool }
variable "owner" { type = string }
variable "tier" { type = string }
variable "color" { type = string }
resource "terraform_data" "x" {
  input = [var.zones, var.sizes, var.settings, var.replicas, var.ratio, var.enabled, var.owner]
}
output "zones" { value = var.zones }
output "sizes" { value = var.sizes }
output "settings" { value = var.settings }
output "replicas" { value = var.replicas }
output "ratio" { value = var.ratio }
output "enabled" { value = var.enabled }
output "owner" { value = var.owner }
output "tier" { value = var.tier }
output "color" { value = var.color }
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    (repo / "deploytools.yml").write_text(CONFIG)
    (repo / "infra" / "main.tf").write_text(ROOT)
    (repo / "infra" / "common.tfvars").write_text('tier = "common"\ncolor = "grey"\n')
    (repo / "infra" / "dev.tfvars").write_text('tier = "dev"\n')  # later file wins
    (repo / "infra" / "prod.tfvars").write_text('tier = "prod"\ncolor = "gold"\n')
    return repo


def _outputs(repo: Path, env: str, binary: Path) -> dict[str, object]:
    config = load_config(repo / "deploytools.yml")
    section = config.for_env(env).model.terraform
    assert section is not None
    env_vars = terraform_env(
        AwsContext(region="us-east-1"), env=env, images={}, variables=section.vars
    )
    var_files = resolve_var_files(config.root, section.var_files)
    with TerraformRunner(
        repo / "infra",
        env_vars=env_vars,
        reporter=Reporter(out=io.StringIO()),
        binary=binary,
        work_dir=repo.parent / f"work-{env}",
    ) as tf:
        tf.init()
        tf.apply(tf.plan(var_files=var_files))
        return tf.outputs()


def test_item_13_vars_of_any_json_type_and_var_files_in_order_reach_terraform(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    repo = _repo(tmp_path)
    dev = _outputs(repo, "dev", terraform_bin)
    assert dev == {
        "zones": ["a", "b"],
        "sizes": {"small": 1, "large": 4},
        "settings": {"name": "web", "replicas": 2, "tags": ["x"]},
        "replicas": 3,
        "ratio": 0.5,
        "enabled": True,
        "owner": "ml-team",
        "tier": "dev",
        "color": "grey",
    }
    # Another environment reads its own file: `{env}` is interpolated per environment.
    (repo / "infra" / "terraform.tfstate").unlink()
    prod = _outputs(repo, "prod", terraform_bin)
    assert (prod["tier"], prod["color"]) == ("prod", "gold")


def test_lists_and_maps_become_json_strings_are_left_as_they_are() -> None:
    env = terraform_env(
        AwsContext(region="us-east-1"),
        env="dev",
        images={},
        variables={"zones": ["a", "b"], "sizes": {"b": 2, "a": 1}, "owner": '["not a list"]'},
    )
    assert env["TF_VAR_zones"] == '["a","b"]'
    assert env["TF_VAR_sizes"] == '{"a":1,"b":2}'
    assert env["TF_VAR_owner"] == '["not a list"]'


def test_a_var_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (tmp_path / "elsewhere.tfvars").write_text('tier = "x"\n')
    with pytest.raises(BadInput) as err:
        resolve_var_files(repo, ["infra/common.tfvars", "../elsewhere.tfvars"])
    assert str(err.value) == (
        f"terraform.var_files[1]: ../elsewhere.tfvars is outside the repository ({repo}); "
        "keep variable files inside it and name them relative to deploytools.yml"
    )


def test_a_missing_var_file_is_named_with_where_it_was_looked_for(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with pytest.raises(BadInput) as err:
        resolve_var_files(repo, ["infra/staging.tfvars"])
    assert str(err.value) == (
        f"terraform.var_files[0]: infra/staging.tfvars does not exist "
        f"(looked for {repo / 'infra' / 'staging.tfvars'}); create it or remove the entry"
    )


@pytest.mark.parametrize(
    ("value", "got"), [("2024-01-01", "date"), ("null", "null"), ("{a: [1, null]}", "null")]
)
def test_a_var_that_is_not_json_names_file_line_and_key(
    tmp_path: Path, value: str, got: str
) -> None:
    path = tmp_path / "deploytools.yml"
    path.write_text(
        textwrap.dedent(
            f"""\
            project: shop
            environments:
              dev: {{account_id: "123456789012"}}
            terraform:
              dir: infra
              vars:
                released: {value}
            """
        )
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith("deploytools.yml:7: terraform.vars.released")
    assert f"(got {got}); quote it as a string" in str(err.value)
