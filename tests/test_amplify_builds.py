"""The Amplify emulator's builds (deploytools.sandbox.amplify_build) on the real Docker engine.

The runner's rules (the commands, their order, the environment, the first failure with its
exit code, the artifact checks) are tested in the busybox image with shell commands; the
last tests build with Node, in the sandbox's Node image (Debian's nodejs, no npm), a minimal
app whose build script writes the `.next/server` layout as `next build` would (a real Next.js
build needs npm and its packages, which that image does not have).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploytools.sandbox import node_image
from deploytools.sandbox.amplify_build import BuildRequest, ContainerBuilder
from deploytools.sandbox.containers import SANDBOX_LABEL
from tests import support

SANDBOX = "test-amplify-builds"
SPEC = """version: 1
applications:
  - appRoot: web
    frontend:
      phases:
        preBuild:
          commands:
            - echo "installing for $NEXT_PUBLIC_API_URL"
            - test -f package.json
        build:
          commands:
            - {build}
      artifacts:
        baseDirectory: .next
        files: ['**/*']
"""
SERVER_BUILD = "mkdir -p .next/server && echo built > .next/server/index.js"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_text('{"name": "web"}\n')
    (tmp_path / "web" / "node_modules").mkdir()  # never copied into the build
    return tmp_path


@pytest.fixture
def builder(docker_engine: Any, busybox_image: str, source: Path) -> ContainerBuilder:
    return ContainerBuilder(docker_engine, busybox_image, source, SANDBOX)


def request(build: str, platform: str = "WEB_COMPUTE", app_root: str = "web") -> BuildRequest:
    return BuildRequest(
        build_spec=SPEC.format(build=build),
        app_root=app_root,
        repository="https://github.com/acme/web",
        platform=platform,
        environment={"NEXT_PUBLIC_API_URL": "http://127.0.0.1:9"},
    )


def leftovers(docker_engine: Any) -> list[Any]:
    label = f"{SANDBOX_LABEL}={SANDBOX}"
    return list(docker_engine.containers.list(all=True, filters={"label": label}))


def test_a_server_build_passes(builder: ContainerBuilder, docker_engine: Any) -> None:
    outcome = builder.build(request(SERVER_BUILD))

    assert (outcome.ok, outcome.reason) == (True, "")
    assert "installing for http://127.0.0.1:9" in outcome.log
    assert "# Executing command: mkdir -p .next/server" in outcome.log
    assert leftovers(docker_engine) == []


def test_a_failing_command_fails_the_build_with_its_exit_code(builder: ContainerBuilder) -> None:
    outcome = builder.build(request("echo compiling; ls node_modules; exit 3"))

    assert not outcome.ok
    assert outcome.reason == (
        "BUILD failed: command echo compiling; ls node_modules; exit 3 exited with code 3"
    )
    assert "compiling" in outcome.log
    assert "node_modules: No such file or directory" in outcome.log  # not copied


def test_web_compute_needs_a_next_server_build(builder: ContainerBuilder) -> None:
    static = builder.build(request("mkdir -p .next/static"))
    assert static.reason == (
        "BUILD failed: .next holds no Next.js server build (server/ or standalone/), which "
        "WEB_COMPUTE needs"
    )
    assert builder.build(request("mkdir -p .next/static", platform="WEB")).ok
    missing = builder.build(request("echo nothing built"))
    assert (
        missing.reason
        == "BUILD failed: artifacts.baseDirectory .next does not exist after the build"
    )


def test_what_cannot_run_is_simulated_and_says_why(
    builder: ContainerBuilder, docker_engine: Any, source: Path
) -> None:
    empty = source / "elsewhere"
    elsewhere = ContainerBuilder(docker_engine, "deploytools/no-such-node:1", empty, SANDBOX)
    assert (elsewhere.build(request(SERVER_BUILD)).reason) == (
        f"simulated: the build commands were not run (the app root web is not in {empty}; "
        "set DEPLOYTOOLS_SANDBOX_AMPLIFY_SOURCE to the repository's checkout)"
    )
    no_node = ContainerBuilder(docker_engine, "deploytools/no-such-node:1", source, SANDBOX)
    assert no_node.build(request(SERVER_BUILD)).reason == (
        "simulated: the build commands were not run "
        "(no Node image deploytools/no-such-node:1 on the Docker engine)"
    )


# --- with Node ---------------------------------------------------------------------------------

NEXT_LAYOUT = """const fs = require("fs");
if (!process.env.NEXT_PUBLIC_API_URL) throw new Error("NEXT_PUBLIC_API_URL is not set");
fs.mkdirSync(".next/server/app", { recursive: true });
fs.writeFileSync(".next/server/app/index.js", "module.exports = 'built by node';\\n");
console.log("built with node " + process.version);
"""


@pytest.fixture
def node(docker_engine: Any) -> str:
    """The sandbox's Node image (made from Debian's nodejs on first use)."""
    why = node_image.ensure(docker_engine)
    if why:
        support.unavailable(why)
    return node_image.NODE_IMAGE


def test_node_builds_a_next_server_layout(docker_engine: Any, node: str, source: Path) -> None:
    # A stand-in for `next build`: plain node writes the .next/server layout WEB_COMPUTE needs.
    (source / "web" / "build.js").write_text(NEXT_LAYOUT)
    builder = ContainerBuilder(docker_engine, node, source, SANDBOX)

    outcome = builder.build(request("node build.js"))

    assert (outcome.ok, outcome.reason) == (True, "")
    assert "built with node v18." in outcome.log


def test_a_node_build_that_throws_fails_with_its_error(
    docker_engine: Any, node: str, source: Path
) -> None:
    (source / "web" / "build.js").write_text(NEXT_LAYOUT)
    builder = ContainerBuilder(docker_engine, node, source, SANDBOX)
    broken = request("node build.js")
    broken = BuildRequest(**{**broken.__dict__, "environment": {}})

    outcome = builder.build(broken)

    assert outcome.reason == "BUILD failed: command node build.js exited with code 1"
    assert "Error: NEXT_PUBLIC_API_URL is not set" in outcome.log
