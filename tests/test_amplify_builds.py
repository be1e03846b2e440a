"""The Amplify emulator's builds (deploytools.sandbox.amplify_build) on the real Docker engine.

The runner's rules (the commands, their order, the environment, the first failure with its
exit code, the artifact checks) are tested in the busybox image with shell commands; the
last tests run node and npm in the sandbox's Node image. The real Next.js build of the
example's frontend is tests/test_amplify_nextjs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploytools.sandbox import node_image
from deploytools.sandbox.amplify_build import BuildRequest, ContainerBuilder, failure
from deploytools.sandbox.containers import SANDBOX_LABEL
from tests import support

SANDBOX = support.run_sandbox_id("test-amplify-builds")
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


def leftovers(docker_engine: Any) -> list[str]:
    return support.containers_left(docker_engine, f"{SANDBOX_LABEL}={SANDBOX}")


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


def test_cache_paths_persist_between_builds_of_the_app(
    docker_engine: Any, busybox_image: str, source: Path, tmp_path: Path
) -> None:
    builder = ContainerBuilder(docker_engine, busybox_image, source, SANDBOX, cache=tmp_path / "c")
    runs = (
        "mkdir -p .next/server .next/cache && echo run >> .next/cache/runs && cat .next/cache/runs"
    )
    spec = SPEC.format(build=runs) + (
        "      cache:\n        paths: ['.next/cache/**/*', '../outside/**/*']\n"
    )
    build = BuildRequest(**{**request(runs).__dict__, "build_spec": spec})

    first, second = builder.build(build), builder.build(build)

    assert (first.ok, second.ok) == (True, True), second.log
    assert "# Restored cache .next/cache" not in first.log
    assert "# Saved cache .next/cache" in first.log
    assert "# Restored cache .next/cache\n" in second.log
    assert "run\nrun\n" in second.log  # the second build found the first one's cache
    other = BuildRequest(**{**build.__dict__, "repository": "https://github.com/acme/other"})
    assert "# Restored cache" not in builder.build(other).log  # per app, as Amplify's
    saved = list((tmp_path / "c" / "apps").glob("*/.next/cache/runs"))
    assert len(saved) == 2
    assert not list((tmp_path / "c").rglob("outside"))


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

    assert outcome.reason == (
        "BUILD failed: command node build.js exited with code 1: "
        "Error: NEXT_PUBLIC_API_URL is not set"
    )
    assert "at Object.<anonymous> (/src/web/build.js" in outcome.log


def test_the_node_image_has_npm_and_corepack(docker_engine: Any, node: str, source: Path) -> None:
    builder = ContainerBuilder(docker_engine, node, source, SANDBOX)

    outcome = builder.build(request("npm --version && corepack --version && mkdir -p .next/server"))

    assert (outcome.ok, outcome.reason) == (True, "")
    assert f"\n{node_image.NPM}\n{node_image.COREPACK}\n" in outcome.log


# --- the reason a failed build gives ------------------------------------------------------------


def test_the_reason_names_the_first_error_line_of_the_failing_command() -> None:
    output = "\n".join(
        [
            "# Executing command: pnpm install",
            "Error: not this one (an earlier command printed it and passed)",
            "# Executing command: pnpm run build",
            "Failed to compile.",
            "./app/page.js",
            "Error:   x Unexpected eof",
            "Error: a later one",
            "!!! command pnpm run build exited with code 1",
        ]
    )
    assert failure(output, 1) == (
        "command pnpm run build exited with code 1: Error:   x Unexpected eof"
    )
    pnpm = "# Executing command: pnpm install\n ERR_PNPM_OUTDATED_LOCKFILE  Cannot install\n"
    assert failure(pnpm + "!!! command pnpm install exited with code 1\n", 1) == (
        "command pnpm install exited with code 1: ERR_PNPM_OUTDATED_LOCKFILE  Cannot install"
    )
    assert failure("# Executing command: exit 3\n", 3) == "command exit 3 exited with code 3"
    checks = "Error: ignored\n!!! artifacts.baseDirectory .next does not exist after the build\n"
    assert failure(checks, 90) == "artifacts.baseDirectory .next does not exist after the build"


# --- the Node image's revision ------------------------------------------------------------------


class Images:
    """The part of docker's client ensure() uses, with images of the given labels."""

    def __init__(self, tags: dict[str, dict[str, str]]) -> None:
        self.tags, self.built = tags, []  # type: list[str]

    def get(self, tag: str) -> Any:
        import docker

        if tag not in self.tags:
            raise docker.errors.ImageNotFound(tag)
        return type("Image", (), {"labels": self.tags[tag]})()

    def build(self, *, tag: str, **_: Any) -> None:
        self.built.append(tag)


def test_a_node_image_of_another_revision_is_made_again() -> None:
    current = {node_image.LABEL: f"revision {node_image.REVISION}: Debian's nodejs"}
    base = {node_image.BASE_IMAGE: {}}
    for labels, made in (
        ({}, True),
        ({node_image.LABEL: "revision 1: no npm"}, True),
        (current, False),
    ):
        images = Images({**base, node_image.NODE_IMAGE: labels})
        client = type("Client", (), {"images": images})()
        assert node_image.ensure(client) is None
        assert images.built == ([node_image.NODE_IMAGE] if made else [])
    assert "FROM deploytools/python:3-local" in node_image.dockerfile()
    assert f"npm@{node_image.NPM} corepack@{node_image.COREPACK}" in node_image.dockerfile()
