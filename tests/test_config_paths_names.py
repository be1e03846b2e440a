"""Paths confined to the repository, AWS names checked at their line, malformed placeholders,
and `alias: null`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploytools.cli import main
from deploytools.config import load_config
from deploytools.errors import BadInput, ConfigError
from deploytools.lib.zip_selection import select_files
from tests.support.config_repo import MINIMAL_CONFIG, write_config_repo

VALID = MINIMAL_CONFIG
OUTSIDE = (
    "is outside the repository (the git checkout, or the folder, of the config file); "
    "use a path inside it"
)
LAMBDA = "  fn:\n    type: lambda\n    image: api\n"


def plan_error(tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["--config", str(write_config_repo(tmp_path, config)), "plan", "--env", "dev"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    return captured.err


CASES = {
    "dockerfile outside (its content never shown)": (
        VALID.replace("images/api/Dockerfile", "../../../../etc/passwd"),
        f"deploytools.yml:8: images.api.dockerfile: ../../../../etc/passwd {OUTSIDE}",
    ),
    "build context outside": (
        VALID.replace("  api:\n    dockerfile", "  api:\n    context: ..\n    dockerfile", 1),
        f"deploytools.yml:8: images.api.context: .. {OUTSIDE}",
    ),
    "env_from_code at the filesystem root": (
        VALID + "    env_from_code: [/]\n",
        f"deploytools.yml:14: targets.api.env_from_code[0]: / {OUTSIDE}",
    ),
    "terraform dir outside": (
        VALID + "terraform:\n  dir: ../{env}\n",
        f"deploytools.yml:15: terraform.dir: ../{{env}} {OUTSIDE}",
    ),
    "package source outside": (
        VALID + "  fn:\n    type: lambda\n    package: {source: /tmp}\n",
        f"deploytools.yml:16: targets.fn.package.source: /tmp {OUTSIDE}",
    ),
    "amplify build spec outside": (
        VALID + "frontend:\n  amplify:\n    app: web\n    repository: https://example.com/r\n"
        "    app_root: .\n    build_spec: /etc/hosts\n",
        f"deploytools.yml:19: frontend.amplify.build_spec: /etc/hosts {OUTSIDE}",
    ),
    "300-character alias": (
        VALID + LAMBDA + "    alias: " + "a" * 300 + "\n",
        "deploytools.yml:17: targets.fn.alias: '" + "a" * 80 + "...' is not a valid Lambda "
        "alias: 1-128 letters, digits, hyphens and underscores, not only digits",
    ),
    "alias of digits only": (
        VALID + LAMBDA + "    alias: '12'\n",
        "deploytools.yml:17: targets.fn.alias: '12' is not a valid Lambda alias: 1-128 "
        "letters, digits, hyphens and underscores, not only digits",
    ),
    "URL-shaped function name": (
        VALID + LAMBDA + "    function: https://x.lambda-url.us-east-1.on.aws/\n",
        "deploytools.yml:17: targets.fn.function: 'https://x.lambda-url.us-east-1.on.aws/' is "
        "not a valid Lambda function name: 1-64 letters, digits, hyphens and underscores, or "
        "the function's ARN (without a version or alias)",
    ),
    "garbage region": (
        VALID.replace("us-east-1", "mars-1"),
        "deploytools.yml:2: region: 'mars-1' is not a valid AWS region: a region code such as "
        "us-east-1 or eu-central-1",
    ),
    "invalid repository name": (
        VALID.replace("    dockerfile:", "    repository: Bad_Repo-\n    dockerfile:"),
        "deploytools.yml:8: images.api.repository: 'Bad_Repo-' is not a valid ECR repository "
        "name: 2-256 lowercase letters, digits and . _ - / (each part starts and ends with a "
        "letter or digit)",
    ),
    "default function name too long": (
        VALID.replace("project: shop", "project: " + "p" * 60) + LAMBDA,
        "deploytools.yml:14: targets.fn.function: '" + "p" * 60 + "-dev-fn' is not a valid "
        "Lambda function name: 1-64 letters, digits, hyphens and underscores, or the function's "
        "ARN (without a version or alias) (the default name; set function: to choose one)",
    ),
    "batch job definition with a space": (
        VALID + "  job:\n    type: batch\n    image: api\n    job_definition: my job\n",
        "deploytools.yml:17: targets.job.job_definition: 'my job' is not a valid Batch job "
        "definition name: 1-128 letters, digits, hyphens and underscores",
    ),
    "reserved SSM path": (
        VALID + "secrets:\n  ssm_path: /aws/{env}/\n",
        "deploytools.yml:15: secrets.ssm_path: '/aws/dev/' is not a valid SSM parameter name: "
        "letters, digits and _ . - / only, at most 1011 characters and 15 levels, not starting "
        "with aws or ssm",
    ),
    "nested placeholder": (
        VALID.replace("shop-{env}", '"{tf.{env}}"'),
        "deploytools.yml:12: targets.api.cluster: malformed placeholder {tf.{env}}: "
        "placeholders cannot be nested",
    ),
    "unclosed placeholder": (
        VALID.replace("shop-{env}", '"shop-{env"'),
        "deploytools.yml:12: targets.api.cluster: malformed placeholder {env: it has no closing }",
    ),
    "empty terraform output name": (
        VALID.replace("shop-{env}", '"{tf.}"'),
        "deploytools.yml:12: targets.api.cluster: malformed placeholder {tf.}: write one of "
        "{project}, {env}, {tf.<output_name>}",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_refused_at_the_key_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, message = CASES[case]
    assert plan_error(tmp_path, config, capsys) == f"error: {message}\n"


def test_outside_dockerfile_is_a_dt000_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = VALID.replace("images/api/Dockerfile", "../../../../etc/passwd")
    code = main(["--config", str(write_config_repo(tmp_path, config)), "check"])
    out = capsys.readouterr().out
    assert code == 3
    assert "deploytools.yml:8: DT000 error: images.api.dockerfile: ../../../../etc/passwd" in out
    assert "root:" not in out.lower()


def test_symlink_leaving_the_repository_is_outside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "linked").symlink_to(outside)
    config = VALID.replace("  api:\n    dockerfile", "  api:\n    context: linked\n    dockerfile")
    err = plan_error(repo, config, capsys)
    assert err == f"error: deploytools.yml:8: images.api.context: linked {OUTSIDE}\n"


def test_terraform_placeholders_are_checked_after_terraform(tmp_path: Path) -> None:
    config = VALID + LAMBDA + '    function: "{tf.function_name}"\n'
    loaded = load_config(write_config_repo(tmp_path, config))  # unknown until Terraform ran
    assert loaded.for_env("dev").model.targets["fn"].function == "{tf.function_name}"
    with pytest.raises(ConfigError) as raised:
        loaded.for_env("dev", {"function_name": "not a name"})
    assert raised.value.problems == [
        "deploytools.yml:17: targets.fn.function: 'not a name' is not a valid Lambda function "
        "name: 1-64 letters, digits, hyphens and underscores, or the function's ARN (without a "
        "version or alias)"
    ]
    good = loaded.for_env("dev", {"function_name": "shop-dev-fn"})
    assert good.model.targets["fn"].function == "shop-dev-fn"


def test_function_arn_is_accepted(tmp_path: Path) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:shop-dev-fn"
    loaded = load_config(write_config_repo(tmp_path, VALID + LAMBDA + f"    function: {arn}\n"))
    assert loaded.for_env("dev").model.targets["fn"].function == arn


def test_item_06_alias_null_means_no_alias(tmp_path: Path) -> None:
    loaded = load_config(write_config_repo(tmp_path, VALID + LAMBDA + "    alias: null\n"))
    target = loaded.for_env("dev").model.targets["fn"]
    assert target.alias is None


def test_alias_defaults_to_live(tmp_path: Path) -> None:
    loaded = load_config(write_config_repo(tmp_path, VALID + LAMBDA))
    assert loaded.for_env("dev").model.targets["fn"].alias == "live"


def test_zip_refuses_a_symlink_out_of_the_source(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    secret = tmp_path / "outside.txt"
    secret.write_text("not for the zip\n")
    os.symlink(secret, source / "data.txt")
    with pytest.raises(BadInput) as raised:
        select_files(source)
    assert str(raised.value) == (
        f"{source}: data.txt is a symlink that leaves the package source folder; copy the "
        "file into the folder or exclude it"
    )


def test_zip_keeps_a_symlink_inside_the_source(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "handler.py").write_text("x = 1\n")
    os.symlink(source / "handler.py", source / "alias.py")
    assert [f.name for f in select_files(source)] == ["alias.py", "handler.py"]


def test_paths_may_leave_the_config_folder_within_the_git_checkout(tmp_path: Path) -> None:
    """The examples of this repository keep their Terraform two folders up, in the same git
    checkout; that is inside the repository."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "terraform" / "dev").mkdir(parents=True)
    app = tmp_path / "examples" / "app"
    app.mkdir(parents=True)
    config = VALID + "terraform:\n  dir: ../../terraform/{env}\n"
    loaded = load_config(write_config_repo(app, config))
    assert loaded.model.terraform is not None
    with pytest.raises(ConfigError) as raised:
        load_config(write_config_repo(app, VALID + "terraform:\n  dir: ../../../elsewhere\n"))
    assert raised.value.problems == [
        f"deploytools.yml:15: terraform.dir: ../../../elsewhere {OUTSIDE}"
    ]
