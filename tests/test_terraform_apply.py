"""The runner end to end: the real `terraform` binary (provider from the machine's filesystem
mirror) runs init, plan, apply, a second plan that must show no changes, and output -json
against moto's server on loopback, for each module's harness root under terraform/testing/.

Applied against moto (resources then read back with boto3): ecr_repository (ECR),
ssm_parameters (SSM, KMS), ecs_service (ECS, IAM, CloudWatch Logs, ELBv2 target group, EC2
security group), lambda_function (Lambda image + zip, aliases, IAM), buckets (S3) and
github_oidc (IAM OIDC provider and role); batch_job and eks_cluster too when their harness
roots exist. Not applied: amplify_app (moto has no Amplify), whose resources (aws_amplify_app,
aws_amplify_branch) are validated only by `terraform validate` (test_terraform_modules.py) and
checkov (test_terraform_checkov.py).

Everything runs in a copy of terraform/ and tests/fixtures/terraform/ (same layout, so
relative module sources resolve), so no state or `.terraform/` lands in the work tree.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import hcl2
import pytest

from deploytools import proc
from deploytools.aws import AwsContext
from deploytools.output import Reporter
from deploytools.output.mask import forget_all, redact
from deploytools.steps.terraform import (
    PlanTampered,
    TerraformFailed,
    TerraformRunner,
    terraform_env,
)
from deploytools.steps.terraform import plan as planlib
from tests import support

pytestmark = pytest.mark.terraform

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")
SERVICES = ("sts", "ssm", "ecr", "ecs", "eks", "lambda", "batch", "iam", "s3", "logs", "kms")
REQUIRED = ("ecr_repository", "ssm_parameters", "ecs_service", "lambda_function", "buckets",
            "github_oidc")  # fmt: skip
OPTIONAL = ("batch_job", "eks_cluster")
SENTINEL = "dt-sentinel-7f3a9c-SecureString-value"


def _prefix(module: str) -> str:
    return "dt-" + module.replace("_", "-")


def _client(service: str, url: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=url)


# What must exist in moto after the harness root applied (its `name` variable is the prefix).
def _ecr(url: str, prefix: str) -> list[str]:
    repos = _client("ecr", url).describe_repositories()["repositories"]
    return [r["repositoryName"] for r in repos if r["repositoryName"].startswith(prefix)]


def _ssm(url: str, prefix: str) -> list[str]:
    params = _client("ssm", url).describe_parameters(MaxResults=50)["Parameters"]
    return [p["Name"] for p in params if p["Name"].startswith(f"/{prefix}/")]


def _ecs(url: str, prefix: str) -> list[str]:
    ecs = _client("ecs", url)
    found = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        found += [s for s in ecs.list_services(cluster=cluster)["serviceArns"] if prefix in s]
    return found


def _lambda(url: str, prefix: str) -> list[str]:
    functions = _client("lambda", url).list_functions()["Functions"]
    return [f["FunctionName"] for f in functions if f["FunctionName"].startswith(prefix)]


def _s3(url: str, prefix: str) -> list[str]:
    buckets = _client("s3", url).list_buckets()["Buckets"]
    return [b["Name"] for b in buckets if b["Name"].startswith(prefix)]


def _iam_oidc(url: str, prefix: str) -> list[str]:
    iam = _client("iam", url)
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)]
    return [p["Arn"] for p in providers] + roles if providers and roles else []


def _batch(url: str, prefix: str) -> list[str]:
    defs = _client("batch", url).describe_job_definitions()["jobDefinitions"]
    return [d["jobDefinitionName"] for d in defs if d["jobDefinitionName"].startswith(prefix)]


def _eks(url: str, prefix: str) -> list[str]:
    return [c for c in _client("eks", url).list_clusters()["clusters"] if c.startswith(prefix)]


CREATED: dict[str, Callable[[str, str], list[str]]] = {
    "ecr_repository": _ecr,
    "ssm_parameters": _ssm,
    "ecs_service": _ecs,
    "lambda_function": _lambda,
    "buckets": _s3,
    "github_oidc": _iam_oidc,
    "batch_job": _batch,
    "eks_cluster": _eks,
}


@pytest.fixture(scope="session")
def tf_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """terraform/ and tests/fixtures/terraform/ copied with their layout, minus any state."""
    base = tmp_path_factory.mktemp("tf-tree")
    shutil.copytree(REPO / "terraform", base / "terraform", ignore=IGNORED)
    fixtures = REPO / "tests" / "fixtures" / "terraform"
    shutil.copytree(fixtures, base / "tests" / "fixtures" / "terraform", ignore=IGNORED)
    return base


def _aws(url: str) -> AwsContext:
    return AwsContext(region="us-east-1", endpoints=dict.fromkeys(SERVICES, url))


@dataclass
class Applied:
    """What happened to one harness root; `error` is set when a step raised."""

    first: planlib.PlanSummary | None = None
    second: planlib.PlanSummary | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    declared_outputs: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)
    printed: str = ""
    error: BaseException | None = None


def _declared_outputs(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.glob("*.tf"):
        with path.open() as handle:
            for block in hcl2.load(handle).get("output", []):
                names.update(name.strip('"') for name in block)
    return names


def _apply_root(module: str, root: Path, url: str, cli_config: Path, binary: Path) -> Applied:
    result = Applied(declared_outputs=_declared_outputs(root))
    out = io.StringIO()
    env = terraform_env(_aws(url), env="test", images={})
    env["TF_VAR_name"] = _prefix(module)  # every harness root prefixes what it creates
    runner = TerraformRunner(
        root, env_vars=env, reporter=Reporter(out=out), cli_config=cli_config, binary=binary
    )
    try:
        runner.init()
        result.first = runner.plan()
        runner.apply(result.first)
        result.second = runner.plan()
        runner.apply(result.second)
        result.outputs = runner.outputs()
        result.created = CREATED[module](url, _prefix(module))
    except Exception as exc:
        result.error = exc
    result.printed = out.getvalue()
    return result


@pytest.fixture(scope="session")
def applied(
    tf_tree: Path,
    moto_server: Any,
    _terraform_cli_config: Path,
    terraform_bin: Path,
) -> dict[str, Applied]:
    """Each harness root applied once, two at a time (Terraform is mostly CPU: the provider's
    schema load), then read back; tests below assert on the results.

    moto loads AWS managed IAM policies (AmazonEKSClusterPolicy, ...) only when
    MOTO_IAM_LOAD_MANAGED_POLICIES is set as its IAM backend starts (its /moto-api/config
    ignores "iam"); real AWS always has them. The server runs in this process
    (ThreadedMotoServer), so the variable is set around a reset while the roots apply.
    """
    managed = "MOTO_IAM_LOAD_MANAGED_POLICIES"
    before = os.environ.get(managed)
    os.environ[managed] = "true"
    support.reset_moto(moto_server.url)
    roots = {
        module: tf_tree / "terraform" / "testing" / module
        for module in (*REQUIRED, *OPTIONAL)
        if (tf_tree / "terraform" / "testing" / module / "main.tf").is_file()
    }

    def run(module: str) -> Applied:
        return _apply_root(
            module, roots[module], moto_server.url, _terraform_cli_config, terraform_bin
        )

    try:
        with ThreadPoolExecutor(max_workers=max(2, min(3, os.cpu_count() or 2))) as pool:
            return dict(zip(roots, pool.map(run, roots), strict=True))
    finally:
        if before is None:
            os.environ.pop(managed, None)
        else:
            os.environ[managed] = before
        support.reset_moto(moto_server.url)


@pytest.mark.parametrize("module", [*REQUIRED, *OPTIONAL])
def test_harness_root_applies_then_plans_clean(module: str, applied: dict[str, Applied]) -> None:
    if module not in applied:
        if module in REQUIRED:
            support.unavailable(f"terraform/testing/{module}/main.tf is missing")
        pytest.skip(f"no harness root terraform/testing/{module}")
    result = applied[module]
    if result.error is not None:
        raise AssertionError(f"{module}: {result.error}\n{result.printed}") from result.error
    assert result.first is not None and result.second is not None
    assert result.first.has_changes
    assert result.first.counts().get("create", 0) > 0
    assert set(result.first.counts()) == {"create"}, result.first.text
    # The second plan is the idempotency check: moto echoes what Terraform wrote.
    assert not result.second.has_changes, result.second.text
    assert "= terraform apply" in result.printed and "nothing to apply" in result.printed
    # `output -json` leaves out outputs whose value is null (e.g. a switched-off part).
    assert result.outputs and set(result.outputs) <= result.declared_outputs
    assert result.created, f"{module}: nothing named {_prefix(module)}* exists in moto"


# --- the secret never shows -----------------------------------------------------------------


@pytest.fixture
def secret_root(tf_tree: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh copy of tests/fixtures/terraform/ssm_secret per test (no state carried over),
    beside the original so its relative module source still resolves."""
    fixtures = tf_tree / "tests" / "fixtures" / "terraform"
    root = fixtures / f"ssm_secret-{request.node.name[:40]}"
    shutil.copytree(fixtures / "ssm_secret", root, ignore=IGNORED)
    return root


def test_plan_summary_never_contains_the_securestring_value(
    secret_root: Path,
    moto_endpoint: str,
    terraform_bin: Path,
    terraform_cli_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sentinel passed as a sensitive variable into ssm_parameters (a SecureString) is
    absent from the summary text, its JSON, everything the reporter printed and the logs,
    through plan, apply, outputs and a destroy plan.

    The runner is left to choose its CLI config here: TF_CLI_CONFIG_FILE names a missing
    file (as on this machine) and the mirror search is on (as the sandbox turns it on), so it
    writes one for the mirror itself.
    """
    caplog.set_level(logging.DEBUG)
    forget_all()
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "missing.tfrc"))
    monkeypatch.setenv("DEPLOYTOOLS_TF_MIRROR_SEARCH", "1")
    out, err = io.StringIO(), io.StringIO()
    env = terraform_env(
        _aws(moto_endpoint), env="test", images={"api": "repo/api@sha256:" + "a" * 64}
    )
    env["TF_VAR_api_key"] = SENTINEL
    runner = TerraformRunner(
        secret_root, env_vars=env, reporter=Reporter(out=out, err=err), binary=terraform_bin
    )
    assert "filesystem_mirror" in (runner.work_dir / "terraformrc").read_text()
    runner.init()
    summary = runner.plan()

    assert summary.has_changes
    assert summary.counts() == {"create": 2}
    assert "aws_ssm_parameter  2 to add" in summary.text
    for text in (summary.text, json.dumps(summary.as_dict()), out.getvalue(), err.getvalue()):
        assert SENTINEL not in text
    assert SENTINEL not in caplog.text
    assert redact(f"x{SENTINEL}x") == "x***x"  # registered: Terraform's own errors are masked

    # The absence is not masking: the same plan summarised with an empty secret registry.
    forget_all()
    shown = json.loads(_show_json(terraform_bin, secret_root, summary.path, runner.env))
    assert SENTINEL in json.dumps(shown)  # Terraform's JSON has it...
    changes = planlib.resource_changes(shown)
    rendered = planlib.render(changes, has_changes=True, outputs=planlib.output_changes(shown))
    assert SENTINEL not in rendered  # ...the summary does not
    assert SENTINEL not in json.dumps([c.as_dict() for c in changes])

    runner.apply(summary)
    assert not summary.path.exists()  # the plan file held the secret: gone after apply
    ssm = _client("ssm", moto_endpoint)
    stored = ssm.get_parameter(Name="/dt-secret/test/API_KEY", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", SENTINEL)

    outputs = runner.outputs()
    assert outputs["api_key_echo"] == SENTINEL  # interpolation needs the value...
    assert redact(SENTINEL) == "***"  # ...and it is masked everywhere from now on
    assert outputs["environment"] == "test"
    assert outputs["images"] == {"api": "repo/api@sha256:" + "a" * 64}
    assert SENTINEL not in out.getvalue() + err.getvalue()

    # Last, the way back: a destroy plan deletes exactly what apply made.
    teardown = runner.plan(destroy=True)
    assert teardown.counts() == {"delete": 2}
    assert teardown.headline == "Destroy plan: 0 to add, 0 to change, 0 to replace, 2 to destroy."
    runner.apply(teardown)
    assert ssm.describe_parameters()["Parameters"] == []
    assert SENTINEL not in out.getvalue() + err.getvalue()
    forget_all()


def _show_json(binary: Path, root: Path, plan: Path, env: dict[str, str]) -> str:
    return proc.run([binary, "show", "-json", plan], cwd=root, env=env).stdout


# --- the reviewed plan is the applied plan --------------------------------------------------


def test_apply_refuses_a_plan_file_changed_after_review(
    secret_root: Path, moto_endpoint: str, terraform_bin: Path, terraform_cli_config: Path
) -> None:
    """Plan A is summarised; plan B (another value) is copied over A's file. Terraform itself
    would apply B (no prior state to call it stale); the runner refuses, and nothing is made."""
    out = io.StringIO()
    env = terraform_env(_aws(moto_endpoint), env="tamper", images={})
    env["TF_VAR_api_key"] = "tamper-test-value"
    runner = TerraformRunner(
        secret_root, env_vars=env, reporter=Reporter(out=out), cli_config=terraform_cli_config
    )
    runner.init()
    reviewed = runner.plan()
    other_runner = TerraformRunner(  # kept alive: a runner removes its plan files when it goes
        secret_root,
        env_vars={**env, "TF_VAR_log_level": "DEBUG"},
        reporter=Reporter(out=io.StringIO()),
        cli_config=terraform_cli_config,
    )
    other = other_runner.plan()
    shutil.copyfile(other.path, reviewed.path)

    with pytest.raises(PlanTampered) as caught:
        runner.apply(reviewed)
    message = str(caught.value)
    assert message.startswith(
        f"refusing to apply {reviewed.path}: it changed after it was reviewed"
    )
    assert message.endswith("run plan again and review the new summary")
    assert "✗ terraform apply" in out.getvalue()
    params = _client("ssm", moto_endpoint).describe_parameters()["Parameters"]
    assert params == []

    reviewed.path.unlink()
    with pytest.raises(PlanTampered, match="is gone"):
        runner.apply(reviewed)
    other_runner.discard(other)
    other_runner.close()


# --- errors ------------------------------------------------------------------------------


def test_terraform_errors_show_its_error_block_only(
    tf_tree: Path, terraform_cli_config: Path
) -> None:
    root = tf_tree / "tests" / "fixtures" / "terraform" / "broken"
    out = io.StringIO()
    runner = TerraformRunner(
        root, env_vars={}, reporter=Reporter(out=out), cli_config=terraform_cli_config
    )
    runner.init()
    with pytest.raises(TerraformFailed) as caught:
        runner.plan()
    message = str(caught.value)
    assert message.startswith(
        "terraform plan failed:\nError: Reference to undeclared input variable"
    )
    assert "on main.tf line 7" in message
    assert "Initializing" not in message and "Warning" not in message
    assert "✗ terraform plan" in out.getvalue()
    assert not list(runner.work_dir.glob("*.tfplan"))
