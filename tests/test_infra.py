"""The test infrastructure itself: the fixtures reach real services, and the policy holds."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import boto3
import docker
import pytest
import requests

from deploytools.sandbox import tfmirror
from tests import support

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _build(client: docker.DockerClient, context: Path, tag: str) -> docker.models.images.Image:
    """Build with the legacy builder, as deploytools does where buildx is absent."""
    image, _logs = client.images.build(
        path=str(context), tag=tag, platform="linux/amd64", rm=True, forcerm=True
    )
    return image


@pytest.fixture
def scratch_context(tmp_path: Path) -> Path:
    (tmp_path / "hello.txt").write_text("hello from deploytools\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    return tmp_path


# --- AWS credentials and moto -----------------------------------------------------------


def test_aws_credentials_are_fake_and_endpoints_cleared() -> None:
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "AWS_PROFILE" not in os.environ
    assert support.aws_endpoint_vars() == []


def test_moto_server_answers_sts(moto_endpoint: str) -> None:
    assert moto_endpoint.startswith("http://127.0.0.1:")
    sts = boto3.client("sts", endpoint_url=moto_endpoint, region_name="us-east-1")
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_moto_endpoint_starts_empty_and_resets(moto_endpoint: str) -> None:
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")
    assert ssm.describe_parameters()["Parameters"] == []
    ssm.put_parameter(Name="/infra/test", Value="x", Type="String")
    assert len(ssm.describe_parameters()["Parameters"]) == 1
    support.reset_moto(moto_endpoint)
    assert ssm.describe_parameters()["Parameters"] == []


# --- Docker engine and registry -----------------------------------------------------------


def test_docker_engine_builds_from_scratch(
    docker_engine: docker.DockerClient, scratch_context: Path
) -> None:
    image = _build(docker_engine, scratch_context, "deploytools-test/scratch:infra")
    try:
        assert image.attrs["Os"] == "linux"
        assert image.attrs["Architecture"] == "amd64"
        assert os.environ["DOCKER_HOST"] == support.DOCKER_HOST
    finally:
        docker_engine.images.remove(image.id, force=True)


def test_busybox_base_image_runs_shell_commands(
    docker_engine: docker.DockerClient, busybox_image: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f'FROM {busybox_image}\nRUN echo built-by-run > /built.txt\nCMD ["cat", "/built.txt"]\n'
    )
    image = _build(docker_engine, tmp_path, "deploytools-test/busybox-run:infra")
    try:
        output = docker_engine.containers.run(image.id, network_mode="host", remove=True)
        assert output == b"built-by-run\n"
    finally:
        docker_engine.images.remove(image.id, force=True)


def test_registry_accepts_push_pull_and_delete(
    docker_engine: docker.DockerClient, registry_repo: str, scratch_context: Path
) -> None:
    image = _build(docker_engine, scratch_context, f"{registry_repo}:v1")
    events = list(docker_engine.images.push(registry_repo, tag="v1", stream=True, decode=True))
    errors = [event["error"] for event in events if "error" in event]
    assert errors == []
    pushed = next(event["aux"]["Digest"] for event in events if "Digest" in event.get("aux", {}))

    docker_engine.images.remove(image.id, force=True)
    pulled = docker_engine.images.pull(registry_repo, tag="v1")
    assert f"{registry_repo}@{pushed}" in pulled.attrs["RepoDigests"]

    host, name = registry_repo.split("/", 1)
    manifest = requests.get(
        f"http://{host}/v2/{name}/manifests/v1", headers={"Accept": MANIFEST_V2}, timeout=10
    )
    assert manifest.headers["Content-Type"] == MANIFEST_V2  # one platform, not an index
    assert manifest.headers["Docker-Content-Digest"] == pushed
    deleted = requests.delete(f"http://{host}/v2/{name}/manifests/{pushed}", timeout=10)
    assert deleted.status_code == 202
    docker_engine.images.remove(pulled.id, force=True)


def test_docker_cli_reaches_private_engine(docker_engine: docker.DockerClient) -> None:
    docker_cli = support.requires("docker")
    result = subprocess.run(
        [str(docker_cli), "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == docker_engine.version()["Version"]


# --- Terraform --------------------------------------------------------------------------


def _mirror_aws_version(cli_config: Path) -> str:
    mirror = Path(
        json.loads(
            next(
                line.split("=", 1)[1]
                for line in cli_config.read_text().splitlines()
                if line.strip().startswith("path")
            )
        )
    )
    versions = sorted(p.name for p in (mirror / "registry.terraform.io/hashicorp/aws").glob("*"))
    if not versions:
        support.unavailable(f"the provider mirror {mirror} has no hashicorp/aws")
    return "5.100.0" if "5.100.0" in versions else versions[-1]


def test_terraform_init_is_offline_with_the_mirror(
    terraform_bin: Path, terraform_cli_config: Path, tmp_path: Path
) -> None:
    version = _mirror_aws_version(terraform_cli_config)
    (tmp_path / "main.tf").write_text(
        "terraform {\n  required_providers {\n"
        f'    aws = {{ source = "hashicorp/aws", version = "{version}" }}\n'
        "  }\n}\n"
    )
    assert os.environ["TF_CLI_CONFIG_FILE"] == str(terraform_cli_config)
    result = subprocess.run(
        [str(terraform_bin), "init", "-input=false", "-no-color"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"Installed hashicorp/aws v{version}" in result.stdout
    assert f'version     = "{version}"' in (tmp_path / ".terraform.lock.hcl").read_text()


def _fake_mirror(root: Path) -> Path:
    mirror = root / "opt" / "plugins"
    (mirror / "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64").mkdir(parents=True)
    return mirror


def test_find_provider_mirror_walks_four_levels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(tfmirror.ENV_OVERRIDE, raising=False)
    mirror = _fake_mirror(tmp_path)
    assert tfmirror.find_provider_mirror([tmp_path]) == mirror
    too_deep = tmp_path / "deep"
    _fake_mirror(too_deep / "a" / "b")
    assert tfmirror.find_provider_mirror([too_deep]) is None


def test_find_provider_mirror_ignores_working_dirs_and_empty_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(tfmirror.ENV_OVERRIDE, raising=False)
    (tmp_path / "app/.terraform/providers/registry.terraform.io/hashicorp/aws/1.0.0").mkdir(
        parents=True
    )
    (tmp_path / "empty/registry.terraform.io").mkdir(parents=True)
    assert tfmirror.find_provider_mirror([tmp_path]) is None


def test_find_provider_mirror_honours_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = _fake_mirror(tmp_path)
    monkeypatch.setenv(tfmirror.ENV_OVERRIDE, str(mirror))
    assert tfmirror.find_provider_mirror([Path("/nonexistent")]) == mirror
    monkeypatch.setenv(tfmirror.ENV_OVERRIDE, str(tmp_path / "missing"))
    assert tfmirror.find_provider_mirror() is None


def test_write_cli_config_pins_the_registry_to_the_mirror(tmp_path: Path) -> None:
    mirror = tmp_path / 'odd "name"'
    written = tfmirror.write_cli_config(tmp_path / "rc" / "terraformrc", mirror)
    text = written.read_text()
    assert f"path    = {json.dumps(str(mirror))}" in text
    assert 'include = ["registry.terraform.io/*/*"]' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text
    assert "disable_checkpoint = true" in text


def test_write_cli_config_without_a_mirror_still_writes_a_file(tmp_path: Path) -> None:
    text = tfmirror.cli_config_text(None)
    assert "provider_installation" not in text
    assert tfmirror.write_cli_config(tmp_path / "rc", None).is_file()


# --- linters installed by scripts/setup ---------------------------------------------------


def test_actionlint_flags_untrusted_input_in_run(actionlint_bin: Path, tmp_path: Path) -> None:
    workflow = tmp_path / "wf.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.head_commit.message }}"\n'
    )
    result = subprocess.run(
        [str(actionlint_bin), "--json", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)
    assert [(p["line"], p["kind"]) for p in problems] == [(6, "expression")]
    assert "potentially untrusted" in problems[0]["message"]


def test_checkov_and_zizmor_run_from_their_own_venvs(checkov_bin: Path, zizmor_bin: Path) -> None:
    for tool in (checkov_bin, zizmor_bin):
        assert ".venv-tools" in tool.parts
        result = subprocess.run(
            [str(tool), "--version"], capture_output=True, text=True, check=False, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip()


# --- the policy -------------------------------------------------------------------------


def test_unavailable_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no frobnicator"):
        support.unavailable("no frobnicator")


def test_unavailable_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no frobnicator"):
        support.unavailable("no frobnicator")


def test_requires_knows_only_named_tools() -> None:
    with pytest.raises(KeyError, match="unknown tool"):
        support.requires("frobnicator")


def test_requires_returns_the_tool_path() -> None:
    assert support.requires("docker-registry") == Path("/usr/bin/docker-registry")


@pytest.mark.requires("docker-registry", "dockerd")
def test_requires_marker_runs_when_tools_exist() -> None:
    assert support.tool_path("dockerd") is not None


def test_moto_server_fixture_is_loopback(moto_server: object) -> None:
    url = moto_server.url  # type: ignore[attr-defined]
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(f"{url}/moto-api/data.json", timeout=10).status_code == 200
