"""The Terraform step without the terraform binary: plan JSON -> summary, environment,
diagnostics, CLI config choice, a missing binary. Plan JSON here is hand-written in
Terraform's documented format (`terraform show -json`); test_terraform_apply.py runs the
real binary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploytools.aws import AwsContext
from deploytools.errors import BadInput
from deploytools.output import Reporter
from deploytools.output.mask import forget_all, redact
from deploytools.steps.terraform import (
    Action,
    TerraformNotInstalled,
    TerraformRunner,
    terraform_env,
)
from deploytools.steps.terraform import plan as planlib
from deploytools.steps.terraform.cliconfig import resolve_cli_config
from deploytools.steps.terraform.diagnostics import error_blocks

SECRET = "sentinel-Zq8xK2-never-print-me"


@pytest.fixture(autouse=True)
def _empty_secret_registry() -> None:
    forget_all()


def _change(address: str, actions: list[str], **change: Any) -> dict[str, Any]:
    rtype = address.split(".")[-2] if address.count(".") else address
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "change": {"actions": actions, **change},
    }


PLAN: dict[str, Any] = {
    "format_version": "1.2",
    "variables": {"api_key": {"value": SECRET}, "region": {"value": "us-east-1"}},
    "configuration": {"root_module": {"variables": {"api_key": {"sensitive": True}, "region": {}}}},
    "resource_changes": [
        _change("aws_ecr_repository.this", ["create"], before=None, after={"name": "api"}),
        _change(
            'module.ssm.aws_ssm_parameter.this["API_KEY"]',
            ["update"],
            before={"value": "old-" + SECRET, "tags": {}},
            after={"value": SECRET, "tags": {}},
            before_sensitive={"value": True},
            after_sensitive={"value": True},
        ),
        _change(
            "module.api.aws_ecs_service.this",
            ["delete", "create"],
            before={"name": "api"},
            after={"name": "api"},
            replace_paths=[["network_configuration", 0, "subnets"]],
        ),
        _change("aws_lb_target_group.blue", ["create", "delete"], before={}, after={}),
        _change("aws_s3_bucket.old", ["delete"], before={"bucket": "old"}, after=None),
        _change("aws_iam_role.same", ["no-op"], before={}, after={}),
        {
            "address": "data.aws_caller_identity.current",
            "mode": "data",
            "type": "aws_caller_identity",
            "change": {"actions": ["read"]},
        },
    ],
    "output_changes": {
        "token": {
            "actions": ["create"],
            "after": "tok-" + SECRET,
            "after_sensitive": True,
        },
        "same": {"actions": ["no-op"]},
    },
}


def test_actions_map_to_one_action_each() -> None:
    assert planlib.action_of(["create"]) is Action.CREATE
    assert planlib.action_of(["delete", "create"]) is Action.REPLACE
    assert planlib.action_of(["create", "delete"]) is Action.REPLACE
    assert planlib.action_of(["no-op"]) is Action.NOOP
    assert planlib.action_of(["forget"]) is Action.FORGET
    # An action list a future Terraform invents still counts as a change, never as nothing.
    assert planlib.action_of(["delete", "archive"]) is Action.DELETE


def test_resource_changes_leave_out_noops_and_reads() -> None:
    changes = planlib.resource_changes(PLAN)
    assert [c.address for c in changes] == [
        "aws_ecr_repository.this",
        'module.ssm.aws_ssm_parameter.this["API_KEY"]',
        "module.api.aws_ecs_service.this",
        "aws_lb_target_group.blue",
        "aws_s3_bucket.old",
    ]
    service = changes[2]
    assert service.is_replace and not service.create_before_destroy
    assert service.replace_paths == ("network_configuration[0].subnets",)
    assert changes[3].create_before_destroy
    assert changes[1].changed_attributes == ("value",)


def test_summary_text_counts_per_type_and_highlights_replacements() -> None:
    changes = planlib.resource_changes(PLAN)
    text = planlib.render(changes, has_changes=True, outputs=planlib.output_changes(PLAN))
    assert text.splitlines() == [
        "Plan: 1 to add, 1 to change, 2 to replace, 1 to destroy.",
        "  aws_ecr_repository   1 to add",
        "  aws_ecs_service      1 to replace",
        "  aws_lb_target_group  1 to replace",
        "  aws_s3_bucket        1 to destroy",
        "  aws_ssm_parameter    1 to change",
        "Replaced (destroyed and re-created; anything in them is lost):",
        "  ! module.api.aws_ecs_service.this  "
        "(destroy first; forced by network_configuration[0].subnets)",
        "  ! aws_lb_target_group.blue  (create before destroy)",
        "Changed in place:",
        '  ~ module.ssm.aws_ssm_parameter.this["API_KEY"]  (value)',
        "Destroyed:",
        "  - aws_s3_bucket.old",
        "Outputs changing: token",
    ]


def test_no_changes_says_nothing_to_apply() -> None:
    text = planlib.render((), has_changes=False)
    assert text == "No changes: the infrastructure matches the configuration; nothing to apply."


def test_summary_never_holds_a_sensitive_value_even_unmasked() -> None:
    """No value is copied at all: the secret is absent before any masking happens."""
    changes = planlib.resource_changes(PLAN)
    text = planlib.render(changes, has_changes=True, outputs=planlib.output_changes(PLAN))
    dumped = json.dumps([c.as_dict() for c in changes])
    assert SECRET not in text and SECRET not in dumped
    assert redact(SECRET) == SECRET  # nothing registered yet: absence is not masking


def test_sensitive_values_of_the_plan_are_registered_as_secrets() -> None:
    found = planlib.sensitive_values(PLAN)
    assert found == {SECRET, "old-" + SECRET, "tok-" + SECRET}
    assert "us-east-1" not in found  # a variable not declared sensitive stays readable
    planlib.register_sensitive(PLAN)
    assert redact(f"Error: bad value {SECRET}") == "Error: bad value ***"


def test_terraform_env_carries_region_endpoints_images_and_vars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws = AwsContext(
        region="eu-west-1",
        endpoints={
            "ssm": "http://127.0.0.1:1",
            "ecr": "http://127.0.0.1:1",
            "amplify": "http://127.0.0.1:2",
        },
        credentials=("AKIDFAKE", "fake-secret"),
    )
    env = terraform_env(
        aws,
        env="dev",
        images={"trainer": "repo/trainer@sha256:bb", "api": "repo/api@sha256:aa"},
        variables={"instance_count": 2, "enable_gpu": False, "owner": "ml-team"},
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    # The endpoint most services share is the default for those Terraform calls unnamed.
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["AWS_ENDPOINT_URL_AMPLIFY"] == "http://127.0.0.1:2"
    assert "AWS_ENDPOINT_URL_SSM" not in env  # same as the default: no need to repeat it
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIDFAKE", "fake-secret")
    assert env["TF_VAR_deploytools_env"] == "dev"
    assert json.loads(env["TF_VAR_deploytools_images"]) == {
        "api": "repo/api@sha256:aa",
        "trainer": "repo/trainer@sha256:bb",
    }
    assert env["TF_VAR_instance_count"] == "2"
    assert env["TF_VAR_enable_gpu"] == "false"
    assert env["TF_VAR_owner"] == "ml-team"


def test_terraform_env_for_real_aws_sets_no_endpoint() -> None:
    env = terraform_env(AwsContext(region="us-east-1"), env="prod", images={})
    assert not [name for name in env if name.startswith("AWS_ENDPOINT_URL")]
    assert env["TF_VAR_deploytools_images"] == "{}"


def test_error_blocks_keep_only_terraform_errors() -> None:
    stderr = "\n".join(
        [
            "Initializing the backend...",
            "",
            "Warning: Deprecated attribute",
            "",
            "  on main.tf line 9: thing",
            "",
            "Error: Missing required argument",
            "",
            '  on main.tf line 3, in resource "aws_s3_bucket" "b":',
            '   3: resource "aws_s3_bucket" "b" {',
            "",
            'The argument "bucket" is required.',
        ]
    )
    text = error_blocks(stderr)
    assert text.startswith("Error: Missing required argument")
    assert "on main.tf line 3" in text
    assert "Deprecated" not in text and "Initializing" not in text


def test_error_blocks_strip_the_box_drawn_with_colour() -> None:
    stderr = "╷\n│ Error: Invalid reference\n│ \n│   on main.tf line 2:\n╵\n"
    assert error_blocks(stderr) == "Error: Invalid reference\n\n  on main.tf line 2:"


def test_missing_binary_is_bad_input_with_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(TerraformNotInstalled) as caught:
        TerraformRunner(
            tmp_path, env_vars={}, reporter=Reporter(), binary=tmp_path / "no-terraform"
        )
    assert isinstance(caught.value, BadInput)
    assert "install Terraform" in str(caught.value)


def test_missing_binary_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DEPLOYTOOLS_TERRAFORM", raising=False)
    with pytest.raises(TerraformNotInstalled, match="terraform is not installed or not on PATH"):
        TerraformRunner(tmp_path, env_vars={}, reporter=Reporter())


def test_cli_config_honours_the_users_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "my.tfrc"
    mine.write_text("disable_checkpoint = true\n")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(mine))
    assert resolve_cli_config(None, work_dir=tmp_path / "work") == mine
    assert not (tmp_path / "work").exists()


def test_cli_config_written_for_the_mirror_when_the_users_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "5.0.0").mkdir(parents=True)
    monkeypatch.setenv("DEPLOYTOOLS_TF_MIRROR", str(mirror))
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "does-not-exist.tfrc"))
    written = resolve_cli_config(None, work_dir=tmp_path / "work")
    assert written == tmp_path / "work" / "terraformrc"
    text = written.read_text()
    assert "filesystem_mirror" in text and json.dumps(str(mirror)) in text


def test_no_mirror_search_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against AWS, a machine without a CLI config installs providers Terraform's own way."""
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "does-not-exist.tfrc"))
    monkeypatch.delenv("DEPLOYTOOLS_TF_MIRROR", raising=False)
    monkeypatch.delenv("DEPLOYTOOLS_TF_MIRROR_SEARCH", raising=False)
    assert resolve_cli_config(None, work_dir=tmp_path / "work") is None
    assert not (tmp_path / "work").exists()
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "5.0.0").mkdir(parents=True)
    monkeypatch.setenv("DEPLOYTOOLS_TF_MIRROR", str(mirror))  # the search finds this one
    written = resolve_cli_config(
        None, work_dir=tmp_path / "work", environ={"DEPLOYTOOLS_TF_MIRROR_SEARCH": "1"}
    )
    assert written == tmp_path / "work" / "terraformrc"
