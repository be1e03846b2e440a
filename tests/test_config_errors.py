"""Bad deploytools.yml files: each exits 2 with a message naming file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytools.cli import main
from tests.support.config_repo import MINIMAL_CONFIG, write_config_repo

# The minimal config with a secrets: section as lines 6-8, which the expected line numbers count.
VALID = MINIMAL_CONFIG.replace(
    "images:\n", "secrets:\n  ssm_path: /shop/{env}/\n  required: [API_KEY]\nimages:\n", 1
)


def run_plan(path: Path, capsys: pytest.CaptureFixture[str], env: str = "dev") -> tuple[int, str]:
    code = main(["--config", str(path), "plan", "--env", env])
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing else ran
    return code, captured.err


BAD_CONFIGS = {
    "unknown top-level key": (
        VALID + "colour: blue\n",
        "deploytools.yml:17: colour: unknown key 'colour'; allowed: check, environments, frontend, "
        "images, project, region, secrets, smoke, targets, terraform",
    ),
    "unknown nested key": (
        VALID.replace("    image: api\n", "    image: api\n    replicas: 3\n"),
        "deploytools.yml:17: targets.api.replicas: unknown key 'replicas'; allowed: cluster, "
        "container, env_from_code, environment, image, secrets, service, timeout, type",
    ),
    "wrong type": (
        VALID.replace("  dev:\n", "  dev:\n    protected: maybe\n"),
        "deploytools.yml:5: environments.dev.protected: expected true or false, got str 'maybe'",
    ),
    "account id not 12 digits": (
        VALID.replace('"123456789012"', '"12345"'),
        "deploytools.yml:5: environments.dev.account_id: '12345' must match the pattern "
        "^[0-9]{12}$",
    ),
    "image key no image defines": (
        VALID.replace("    image: api\n", "    image: apii\n"),
        "deploytools.yml:16: targets.api.image: 'apii' is not defined under images:; allowed: api",
    ),
    "target type that does not exist": (
        VALID.replace("type: ecs", "type: fargate"),
        "deploytools.yml:14: targets.api.type: 'fargate' is not a target type; "
        "allowed: ecs, lambda, eks, batch",
    ),
    "target without a type": (
        VALID.replace("    type: ecs\n", ""),
        "deploytools.yml:13: targets.api: missing required key 'type'; "
        "allowed: ecs, lambda, eks, batch",
    ),
    "missing required key": (
        VALID.replace("    cluster: shop-{env}\n", ""),
        "deploytools.yml:13: targets.api: missing required key 'cluster'",
    ),
    "missing Dockerfile": (
        VALID.replace("images/api/Dockerfile", "images/web/Dockerfile"),
        "deploytools.yml:11: images.api.dockerfile: images/web/Dockerfile does not exist "
        "(paths are relative to deploytools.yml)",
    ),
    "duplicate key": (
        VALID + "targets:\n  web:\n    type: ecs\n    cluster: c\n    image: api\n",
        "deploytools.yml:17: targets: duplicate key (first defined on line 12)",
    ),
    "duplicate secret name": (
        VALID.replace("[API_KEY]", "[API_KEY, DB_URL, API_KEY]"),
        "deploytools.yml:8: secrets.required[2]: duplicate name API_KEY",
    ),
    "duplicate resource name": (
        VALID + "  api2:\n    type: ecs\n    cluster: c\n    service: shop-{env}-api\n"
        "    image: api\n",
        "deploytools.yml:20: targets.api2.service: duplicate name: ecs service "
        "shop-{env}-api is also the target 'api'",
    ),
    "platform not allowed": (
        VALID.replace(
            "    dockerfile: images/api/Dockerfile\n",
            "    dockerfile: images/api/Dockerfile\n    platform: linux/386\n",
        ),
        "deploytools.yml:12: images.api.platform: 'linux/386' is not allowed; "
        "allowed: linux/amd64, linux/arm64",
    ),
    "unknown placeholder": (
        VALID.replace("shop-{env}", "shop-{environment}"),
        "deploytools.yml:15: targets.api.cluster: unknown placeholder {environment}; "
        "allowed: {project}, {env}, {tf.<output_name>}",
    ),
    "terraform output used before terraform": (
        VALID.replace("/shop/{env}/", "/shop/{tf.prefix}/"),
        "deploytools.yml:7: secrets.ssm_path: {tf.prefix} cannot be used in secrets: "
        "it is needed before Terraform runs",
    ),
    "secret name not an env var name": (
        VALID.replace("[API_KEY]", "[API-KEY]"),
        "deploytools.yml:8: secrets.required[0]: 'API-KEY' must match the pattern "
        "^[A-Za-z_][A-Za-z0-9_]*$",
    ),
    "lambda with image and package": (
        VALID + "  fn:\n    type: lambda\n    image: api\n    package: {source: src}\n",
        "deploytools.yml:17: targets.fn: a lambda target needs exactly one of 'image' or 'package'",
    ),
    "list where a mapping belongs": (
        VALID.replace("images:\n  api:", "images:\n  api: []\n  old:"),
        "deploytools.yml:10: images.api: expected a mapping, got a list",
    ),
    "invalid YAML": (
        VALID.replace("  dev:\n", "  dev:\n   - broken: [\n"),
        "deploytools.yml:7: invalid YAML: expected ',' or ']', but got '<scalar>'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS), ids=list(BAD_CONFIGS))
def test_bad_config_exits_2_with_exact_message(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, message = BAD_CONFIGS[case]
    code, err = run_plan(write_config_repo(tmp_path, config), capsys)
    assert code == 2
    assert err == f"error: {message}\n"


def test_undefined_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_plan(write_config_repo(tmp_path, VALID), capsys, env="qa")
    assert code == 2
    assert (
        err
        == "error: deploytools.yml:3: environments: environment 'qa' is not defined; allowed: dev\n"
    )


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_plan(tmp_path / "nope.yml", capsys)
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'nope.yml'}: no such file; run from the app's repository root "
        "or pass --config PATH\n"
    )


def test_all_problems_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = VALID.replace("type: ecs", "type: fargate").replace("region:", "regio:")
    code, err = run_plan(write_config_repo(tmp_path, config), capsys)
    assert code == 2
    assert err.splitlines() == [
        "error: deploytools.yml:2: regio: unknown key 'regio'; allowed: check, environments, "
        "frontend, images, project, region, secrets, smoke, targets, terraform",
        "error: deploytools.yml:14: targets.api.type: 'fargate' is not a target type; "
        "allowed: ecs, lambda, eks, batch",
    ]
