"""The deploy pipeline with injected steps: order, refusals before any change, concurrency,
what is skipped and why, and what the release records.

Images, Terraform, targets, Amplify and smoke are fakes (tests/fakes.py):
their own behaviour is proved by their modules' tests. Secrets, the account guard and the
release record are real, against moto (in-process).
"""

from __future__ import annotations

import copy
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest

from deploytools.aws import AwsContext
from deploytools.checks.base import Finding, Severity
from deploytools.errors import AccountMismatch, BadInput, ExitCode, Unavailable
from deploytools.output import Reporter, Status, StepRecord
from deploytools.pipeline import (
    AwsPolicy,
    ChecksFailed,
    ProtectedEnvironment,
    SandboxPolicy,
    TargetsFailed,
    deploy,
)
from deploytools.pipeline.context import NothingDeployed
from deploytools.steps.release import Outcome, ReleaseStore
from deploytools.steps.secrets import MissingSecrets
from deploytools.steps.smoke import SmokeFailed
from tests.fakes import (
    BASE_CONFIG,
    OUTPUTS,
    World,
    fake_ports,
    make_run,
    many_targets,
    put_secret,
    write_repo,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


@pytest.fixture
def world() -> World:
    return World()


def store(aws: AwsContext, env: str = "dev") -> ReleaseStore:
    return ReleaseStore(aws.client("ssm"), project="shop", env=env)


def test_deploy_runs_the_steps_in_order_and_records_a_release(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS))
    result = deploy(run)

    names = [s.name for s in run.reporter.steps]
    assert names[:6] == ["check", "account", "lock", "secrets", "images", "terraform"]
    assert sorted(names[6:9]) == ["target api", "target predict", "target train"]
    assert names[9:] == ["amplify", "smoke", "release"]
    assert all(s.status in (Status.OK, Status.UNCHANGED) for s in run.reporter.steps)
    # {tf.*} resolved from Terraform's outputs before targets, Amplify and smoke ran.
    assert ("smoke", "http://127.0.0.1:9/api/health") in world.calls
    assert result.release is not None
    recorded = store(aws).current()
    assert recorded is not None and recorded.id == result.release.id
    assert re.fullmatch(r"r-20251020T120001000Z-abcdef1-[0-9a-f]{6}", recorded.id)
    assert recorded.status is Outcome.OK
    assert set(recorded.targets) == {"api", "predict", "train"}
    assert result.images is not None
    assert recorded.targets["api"]["image"] == result.images["api"].uri
    assert recorded.tf_outputs == OUTPUTS  # only outputs the config names
    assert recorded.amplify == {
        "app_id": "d123",
        "app": "shop-dev-web",
        "branch": "main",
        "job_id": "1",
        "status": "SUCCEED",
        "url": "https://main.d123.amplifyapp.com",
    }
    assert recorded.who["caller_arn"].startswith("arn:aws:sts::123456789012:")  # type: ignore[union-attr]
    # Every target got the secret ARNs (never values) and its environment.
    assert world.live["api"].detail["secret_names"] == ["API_KEY"]


def test_twelve_targets_refresh_concurrently(aws: AwsContext, tmp_path: Path) -> None:
    """With the same injected latency per refresh, the targets of 12 take under 2x the wall
    time of one: measured from the first refresh's start to the last one's end (the rest of
    the deploy, moto's SSM included, is the same for both and only adds noise)."""
    put_secret(aws)
    wall = {}
    for count in (1, 12):
        world = World(latency=0.5)
        run = make_run(write_repo(tmp_path / f"r{count}", many_targets(count)), fake_ports(world))
        deploy(run)
        assert len(world.spans) == count
        wall[count] = max(end for _, end in world.spans) - min(start for start, _ in world.spans)
        records = [s for s in run.reporter.steps if s.name.startswith("target ")]
        assert len(records) == count  # one StepRecord per target
        assert all(r.seconds >= 0.5 and "→" in r.summary for r in records)
    assert wall[12] < 2 * wall[1], wall


def test_protected_environment_needs_yes_before_any_change(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws, env="prod")
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS), env="prod")
    with pytest.raises(ProtectedEnvironment) as caught:
        deploy(run)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert str(caught.value) == (
        "environment 'prod' is protected: deploy needs --yes "
        "(in GitHub Actions, behind an environment with required reviewers)"
    )
    assert world.mutations() == [] and store(aws, "prod").ids() == []
    deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS), env="prod", yes=True))
    assert store(aws, "prod").current() is not None


def test_account_mismatch_stops_before_any_change(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws, env="other")
    with pytest.raises(AccountMismatch) as caught:
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS), env="other"))
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert "environment 'other' is account 210987654321" in str(caught.value)
    assert world.mutations() == []


def test_check_errors_stop_the_deploy_with_exit_3(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    finding = Finding("Dockerfile", 1, "DT001", "COPY app/ is excluded by .dockerignore")
    warning = Finding("x.py", 2, "DT003", "reads FOO", severity=Severity.WARNING)
    with pytest.raises(ChecksFailed) as caught:
        deploy(make_run(repo, fake_ports(world, findings=[finding, warning], outputs=OUTPUTS)))
    assert caught.value.exit_code == ExitCode.CHECK_FINDINGS
    assert world.mutations() == []
    # Warnings alone do not stop it.
    deploy(make_run(repo, fake_ports(world, findings=[warning], outputs=OUTPUTS)))


def test_missing_secret_stops_before_any_change(aws: AwsContext, repo: Path, world: World) -> None:
    with pytest.raises(MissingSecrets) as caught:
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert "API_KEY" in str(caught.value)
    assert world.mutations() == []


def test_sandbox_seeds_missing_secrets_and_lists_them(
    aws: AwsContext, repo: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(
        repo, fake_ports(world, outputs=OUTPUTS), sandbox=True, registry="127.0.0.1:5055"
    )
    deploy(run)
    out = capsys.readouterr().out
    assert "seeded generated placeholder values: API_KEY" in out
    secrets = next(s for s in run.reporter.steps if s.name == "secrets")
    assert secrets.changed == ["seeded /shop/dev/API_KEY (placeholder)"]
    # The images step pushed to the sandbox's registry.
    assert world.live["api"].image.startswith("127.0.0.1:5055/api@sha256:")  # type: ignore[union-attr]


def test_sandbox_without_a_registry_skips_images_and_names_why(
    aws: AwsContext, repo: Path, world: World
) -> None:
    hint = "no container registry: apt-get install docker-registry"
    run = make_run(
        repo, fake_ports(world, outputs=OUTPUTS), sandbox=True, missing={"registry": hint}
    )
    skipped = f"sandbox has no registry: {hint}"
    with pytest.raises(NothingDeployed) as caught:  # every target skipped: not a green deploy
        deploy(run)
    assert caught.value.exit_code == ExitCode.FAILED
    assert str(caught.value) == (
        f"every target was skipped, so nothing was deployed (api: {skipped}; "
        f"predict: {skipped}; train: {skipped}); fix what the reasons name, or pass "
        "--allow-empty to accept a deploy of no target"
    )
    run = make_run(
        repo,
        fake_ports(world, outputs=OUTPUTS),
        sandbox=True,
        missing={"registry": hint},
        allow_empty=True,
    )
    deploy(run)
    steps = {s.name: s for s in run.reporter.steps}
    why = f"sandbox has no registry: {hint}"
    assert steps["images"].status is Status.SKIPPED
    assert steps["images"].summary == why
    assert steps["images"].detail["simulated"] == why
    assert steps["target api"].status is Status.SKIPPED
    assert steps["target api"].summary == why
    assert ("build_images", "api") not in world.calls and "api" not in world.live


SIMULATED_LINE = re.compile(r"^simulated: (?P<what>.+) was not executed \((?P<why>.+)\)$")


def test_sandbox_without_docker_says_simulated_for_each_step_and_records_no_ok_release(
    aws: AwsContext, repo: Path, world: World
) -> None:
    """Every `simulated:` line names what was not executed and why; --json carries the same;
    a deploy that ran no workload is recorded `simulated`, never `ok`."""
    put_secret(aws)
    hint = "no Docker engine (DockerException): start one and set DOCKER_HOST"
    out = io.StringIO()
    run = make_run(
        repo,
        fake_ports(world, outputs=OUTPUTS),
        sandbox=True,
        missing={"docker": hint},
        reporter=Reporter(out=out),
        allow_empty=True,  # every target is simulated: without it the deploy is refused
    )
    deploy(run)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("simulated:")]
    why = f"sandbox has no docker: {hint}"
    assert sorted(lines) == [
        f"simulated: building and pushing api was not executed ({why})",
        f"simulated: target api was not executed ({why})",
        f"simulated: target predict was not executed ({why})",
        f"simulated: target train was not executed ({why})",
    ]
    for line in lines:
        match = SIMULATED_LINE.match(line)
        assert match is not None and match["why"].startswith("sandbox has no "), line
    document = run.reporter.steps_document(ok=True, exit_code=0)
    in_json = {
        s["name"]: s["detail"]["simulated"] for s in document["steps"] if "simulated" in s["detail"]
    }
    assert in_json == {
        "images": why,
        "target api": why,
        "target predict": why,
        "target train": why,
    }
    recorded = store(aws).current()
    assert recorded is not None and recorded.status is Outcome.SIMULATED
    assert recorded.simulated == {"api": why, "predict": why, "train": why}
    assert recorded.targets == {}
    assert store(aws).previous(before="~") is None  # nothing to roll back to


def test_a_rolled_back_target_fails_the_deploy_and_is_recorded(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    first = world.live["predict"]
    world.fail["predict"] = "rolled_back"
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS))
    with pytest.raises(TargetsFailed) as caught:
        deploy(run)
    assert caught.value.exit_code == ExitCode.FAILED
    assert "target predict rolled_back: predict: the new revision never became healthy" in str(
        caught.value
    )
    steps = {s.name: s for s in run.reporter.steps}
    assert steps["target predict"].status is Status.ROLLED_BACK
    assert steps["target api"].status is Status.OK  # the others still ran
    assert "amplify" not in steps and "smoke" not in steps
    recorded = store(aws).current()
    assert recorded is not None and recorded.status is Outcome.FAILED
    assert recorded.targets["predict"]["revision"] == first.revision  # what runs: the old one
    assert recorded.targets["api"]["revision"] == world.live["api"].revision


def test_a_target_raising_any_error_is_a_failed_result(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    world.fail["train"] = "error"
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS))
    with pytest.raises(TargetsFailed, match="target train failed: train: boom"):
        deploy(run)
    assert {s.name: s.status for s in run.reporter.steps}["target train"] is Status.FAILED


def test_smoke_failure_fails_the_deploy_and_records_it(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    with pytest.raises(SmokeFailed):
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS, smoke_fails=True)))
    recorded = store(aws).current()
    assert recorded is not None and recorded.status is Outcome.FAILED
    assert recorded.reason.startswith("smoke GET http://127.0.0.1:9/api/health: expected 200")


def test_only_refreshes_the_named_targets_and_keeps_the_rest_recorded(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    before = dict(world.live)
    run = make_run(repo, fake_ports(world, outputs=OUTPUTS), only=("predict",))
    deploy(run)
    refreshed = [c for c in world.calls if c[0] == "refresh"]
    assert refreshed[-1] == ("refresh", "predict") and len(refreshed) == 4
    steps = {s.name: s for s in run.reporter.steps}
    assert steps["amplify"].summary == "--only limits this deploy to targets"
    recorded = store(aws).current()
    assert recorded is not None
    assert recorded.targets["api"]["revision"] == before["api"].revision
    assert recorded.targets["predict"]["revision"] != before["predict"].revision


def test_only_with_an_unknown_target_is_bad_input(
    aws: AwsContext, repo: Path, world: World
) -> None:
    with pytest.raises(BadInput) as caught:
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS), only=("nope",)))
    assert str(caught.value) == (
        "--only nope: no such target in deploytools.yml; allowed: api, predict, train"
    )


def test_a_terraform_output_the_config_needs_but_terraform_lacks_is_bad_input(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    with pytest.raises(BadInput) as caught:
        deploy(make_run(repo, fake_ports(world, outputs={"cluster": "c"})))
    assert str(caught.value) == (
        "deploytools.yml uses Terraform output(s) that infra does not define: api_url; "
        "add them to its outputs.tf"
    )
    assert not [c for c in world.calls if c[0] == "refresh"]


def test_a_declared_output_that_is_null_skips_what_needs_it(
    aws: AwsContext, repo: Path, world: World
) -> None:
    """`terraform output -json` leaves out null outputs (an ALB off in the sandbox)."""
    (repo.parent / "infra" / "outputs.tf").write_text(
        'output "cluster" {\n  value = "c"\n}\n\noutput "api_url" {\n  value = null\n}\n'
    )
    put_secret(aws)
    out = io.StringIO()

    result = deploy(
        make_run(repo, fake_ports(world, outputs={"cluster": "c"}), reporter=Reporter(out=out))
    )

    assert "terraform output(s) api_url are null here" in out.getvalue()
    assert "smoke {tf.api_url}/health: skipped, needs output(s) api_url" in out.getvalue()
    assert {r.name for r in result.targets if r.status.value != "skipped"} == {
        "api",
        "predict",
        "train",
    }


def with_amplify_token(tmp_path: Path) -> Path:
    config = copy.deepcopy(BASE_CONFIG)
    config["frontend"]["amplify"]["access_token_parameter"] = "/shop/dev/GITHUB_TOKEN"
    return write_repo(tmp_path / "repo", config)


def test_a_missing_amplify_token_stops_the_deploy_before_any_change(
    aws: AwsContext, tmp_path: Path, world: World
) -> None:
    put_secret(aws)
    with pytest.raises(BadInput) as caught:
        deploy(make_run(with_amplify_token(tmp_path), fake_ports(world, outputs=OUTPUTS)))
    assert str(caught.value) == (
        "frontend.amplify.access_token_parameter: /shop/dev/GITHUB_TOKEN is not in SSM "
        "Parameter Store; add it: aws ssm put-parameter --name /shop/dev/GITHUB_TOKEN "
        "--type SecureString --value '...'; nothing was changed"
    )
    assert [name for name, *_ in world.calls] == ["check"]  # read-only; nothing built


def test_the_sandbox_seeds_a_missing_amplify_token(
    aws: AwsContext, tmp_path: Path, world: World
) -> None:
    put_secret(aws)
    run = make_run(with_amplify_token(tmp_path), fake_ports(world, outputs=OUTPUTS), sandbox=True)
    deploy(run)
    steps = {s.name: s for s in run.reporter.steps}
    assert (
        steps["amplify token"].summary
        == "/shop/dev/GITHUB_TOKEN seeded with a placeholder (sandbox)"
    )
    value = aws.client("ssm").get_parameter(Name="/shop/dev/GITHUB_TOKEN", WithDecryption=True)
    assert value["Parameter"]["Type"] == "SecureString"


def test_zip_packages_are_built_before_terraform_and_handed_to_it(
    aws: AwsContext, tmp_path: Path
) -> None:
    config = many_targets(1)
    config["terraform"] = {"dir": "infra"}
    config["targets"] = {"etl": {"type": "lambda", "package": {"source": "src"}}}
    put_secret(aws)
    world = World()
    run = make_run(write_repo(tmp_path / "r", config), fake_ports(world))
    deploy(run)
    names = [s.name for s in run.reporter.steps]
    assert names.index("images") < names.index("package etl") < names.index("terraform")
    package = world.packages["etl"]
    assert package.path.name == "etl.zip" and package.path.parent.name == "dev"
    assert world.live["etl"].image is None
    assert world.live["etl"].detail["inputs"] == [
        "code_sha256",
        "environment",
        "secret_arns",
        "zip_path",
    ]


def test_secret_values_only_for_lambdas_that_want_them_in_their_environment(
    aws: AwsContext, tmp_path: Path
) -> None:
    config = many_targets(2)
    config["targets"]["t01"]["secrets_in_environment"] = True
    put_secret(aws)
    world = World()
    deploy(make_run(write_repo(tmp_path / "r", config), fake_ports(world)))
    assert ("secret_values", "API_KEY") in world.calls
    assert "secret_values" in world.live["t01"].detail["inputs"]
    assert "secret_values" not in world.live["t00"].detail["inputs"]


class NoDocker:
    """An images port on a machine without a Docker engine."""

    def plan(self, *args: object, **kwargs: object) -> list[object]:
        raise AssertionError("deploy never plans images")

    def build(self, *args: object, **kwargs: object) -> list[object]:
        raise Unavailable("a Docker engine", "no engine answers (scripts/setup installs one)")


def test_against_aws_a_missing_tool_stops_the_deploy_where_the_sandbox_skips_it(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    ports = replace(fake_ports(world, outputs=OUTPUTS), images=NoDocker())
    with pytest.raises(Unavailable) as caught:
        deploy(make_run(repo, ports))
    assert str(caught.value) == (
        "a Docker engine is not available: no engine answers (scripts/setup installs one)"
    )
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert world.mutations() == []

    run = make_run(repo, ports, sandbox=True, allow_empty=True)
    deploy(run)
    steps = {s.name: s for s in run.reporter.steps}
    assert steps["images"].status is Status.SKIPPED
    assert steps["images"].summary == (
        "a Docker engine is not available: no engine answers (scripts/setup installs one)"
    )
    assert steps["target api"].summary == "no image api: the images step was skipped"


def test_the_aws_policy_is_a_null_object() -> None:
    policy = AwsPolicy()
    record = StepRecord("images")
    with pytest.raises(Unavailable):
        policy.skip_or_raise(Unavailable("terraform", "install it"), record)
    assert record.status is not Status.SKIPPED
    assert policy.lacks("docker") is None and policy.reachable("https://example.com/")
    assert not policy.seeds_secrets and policy.terraform_state("shop", "dev") is None
    sandbox = SandboxPolicy(missing={"docker": "apt-get install docker.io"})
    sandbox.skip_or_raise(Unavailable("terraform", "install it"), record)
    assert (record.status, record.summary) == (
        Status.SKIPPED,
        "terraform is not available: install it",
    )
    assert sandbox.lacks("docker") == "sandbox has no docker: apt-get install docker.io"
    assert not sandbox.reachable("https://example.com/") and sandbox.seeds_secrets


def test_a_failed_target_keeps_its_exception_for_verbose(
    aws: AwsContext, repo: Path, world: World
) -> None:
    put_secret(aws)
    world.fail["train"] = "error"
    with pytest.raises(TargetsFailed) as caught:
        deploy(make_run(repo, fake_ports(world, outputs=OUTPUTS)))
    ((name, exc),) = caught.value.failures
    assert name == "train" and isinstance(exc, RuntimeError) and str(exc) == "train: boom"
    assert exc.__traceback__ is not None
