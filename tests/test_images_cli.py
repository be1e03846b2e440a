"""`deploytools build` and `deploytools matrix`, against the sandbox's endpoints: moto's server for
ECR's control plane and the real loopback registry for its data plane, recorded in a sandbox
state file exactly as `deploytools sandbox up` records them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deploytools.cli import main
from deploytools.sandbox import state
from tests.fixtures.images.apps import env_config, make_app


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, registry: str
) -> state.SandboxState:
    """A sandbox record pointing at this test's moto server and the loopback registry."""
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path / "sandbox"))
    services = ("sts", "ssm", "ecr", "ecs", "lambda")
    running = state.SandboxState(os.getpid(), dict.fromkeys(services, moto_endpoint), registry)
    state.write(running)
    return running


def run(app: Path, *args: str) -> int:
    return main([*args, "--config", str(app / "deploytools.yml")])


def test_matrix_then_build_then_an_empty_matrix(
    images_app: Path, sandbox: state.SandboxState, capsys: pytest.CaptureFixture[str]
) -> None:
    env = env_config(images_app)
    repos = {name: image.repository for name, image in env.model.images.items()}

    assert run(images_app, "matrix", "--env", "dev", "--sandbox") == 0
    out, err = capsys.readouterr()
    matrix = json.loads(out)  # stdout is one JSON document, without --json too
    assert [(i["image"], i["repository"]) for i in matrix["include"]] == [
        ("fn", repos["fn"]),
        ("api", repos["api"]),
    ]
    assert all(i["tag"].startswith("ct-") for i in matrix["include"])
    assert "matrix" in err and "2 to build" in err

    assert run(images_app, "build", "--env", "dev", "--push", "--sandbox", "--json") == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    built = {i["name"]: i for i in document["images"]}
    assert built["fn"]["tag"] == matrix["include"][0]["tag"]
    assert built["fn"]["built"] and built["fn"]["pushed"]
    assert built["fn"]["uri"] == f"{built['fn']['repository_uri']}@{built['fn']['digest']}"
    # the two build at once, and each image's step is reported as it ends, in either order
    assert sorted(s["name"] for s in document["steps"]) == ["image api", "image fn"]
    assert "Step 4/5 : COPY app/ /app/" in err  # build progress, on stderr with --json

    assert run(images_app, "matrix", "--env", "dev", "--sandbox", "--json") == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"include": []}
    assert "0 to build; already in ECR: fn, api" in err

    assert run(images_app, "build", "--env", "dev", "fn", "--push", "--sandbox") == 0
    out, _ = capsys.readouterr()
    assert f"{repos['fn']}:{built['fn']['tag']} already in ECR" in out
    assert out.rstrip().endswith(f"fn: {built['fn']['uri']}")


def test_matrix_is_a_github_actions_output(
    images_app: Path,
    sandbox: state.SandboxState,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert run(images_app, "matrix", "--env", "dev", "--sandbox") == 0
    printed = json.loads(capsys.readouterr().out)
    lines = output.read_text().splitlines()
    assert lines[0].startswith("matrix<<ghadelimiter_")
    assert json.loads(lines[1]) == printed


def test_a_local_build_without_push(images_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(images_app, "build", "--env", "dev", "api") == 0
    out, _ = capsys.readouterr()
    repository = env_config(images_app).model.images["api"].repository
    assert "✓ image api" in out and f"built {repository}:ct-" in out
    assert run(images_app, "build", "--env", "dev", "api") == 0
    out, _ = capsys.readouterr()
    assert "= image api" in out and "already built" in out


def test_an_unknown_image_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path)
    assert run(app, "build", "--env", "dev", "nope") == 2
    assert capsys.readouterr().err == "error: unknown image nope; allowed: fn, api\n"


def test_pushing_to_the_sandbox_needs_it_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOYTOOLS_SANDBOX_DIR", str(tmp_path / "none"))
    app = make_app(tmp_path)
    assert run(app, "build", "--env", "dev", "--push", "--sandbox") == 2
    assert capsys.readouterr().err == (
        "error: the sandbox is not running; start it with: deploytools sandbox up\n"
    )
