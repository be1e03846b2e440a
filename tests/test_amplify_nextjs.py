"""A real Next.js build of the automl-lite example's frontend, as the sandbox's Amplify job runs it.

ContainerBuilder runs the example's amplify.yml (`corepack enable`, `pnpm install
--frozen-lockfile`, `pnpm run build`) in the sandbox's Node image: corepack fetches pnpm, pnpm
fetches next and react from registry.npmjs.org, `next build` compiles the app. The download
cache is the sandbox's (~/.cache/deploytools/amplify-builds unless
DEPLOYTOOLS_SANDBOX_BUILD_CACHE says otherwise), so after the first run these builds, and the
end-to-end test's, download nothing. One build serves the passing assertions; a page with a
syntax error is the failing one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploytools.sandbox import node_image
from deploytools.sandbox.amplify_build import (
    BuildOutcome,
    BuildRequest,
    ContainerBuilder,
    default_cache,
)
from deploytools.sandbox.containers import SANDBOX_LABEL
from tests import support

pytestmark = [pytest.mark.docker, pytest.mark.slow(minutes=3)]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "automl-lite"
SANDBOX = support.run_sandbox_id("test-amplify-nextjs")
API_URL = "https://api.automl-lite.invalid"


def request(job: str) -> BuildRequest:
    return BuildRequest(
        build_spec=(EXAMPLE / "amplify.yml").read_text(),
        app_root="frontend",
        repository="https://github.com/acme/automl-lite",
        platform="WEB_COMPUTE",
        environment={"NEXT_PUBLIC_API_URL": API_URL},
        job=job,
    )


@pytest.fixture(scope="module")
def node(_docker_client: Any) -> str:
    why = node_image.ensure(_docker_client)
    if why:
        support.unavailable(why)
    return node_image.NODE_IMAGE


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="module")
def built(_docker_client: Any, node: str, artifacts: Path) -> Iterator[BuildOutcome]:
    builder = ContainerBuilder(
        _docker_client, node, EXAMPLE, SANDBOX, cache=default_cache(), artifacts=artifacts
    )
    yield builder.build(request("app/main/1"))


def test_the_example_frontend_builds_a_next_server(built: BuildOutcome, artifacts: Path) -> None:
    assert (built.ok, built.reason) == (True, ""), built.log
    assert built.artifacts == artifacts / "app" / "main" / "1"
    assert (built.artifacts / "BUILD_ID").read_text().strip()
    server = built.artifacts / "server" / "app"
    assert (server / "page.js").is_file()
    assert (server / "api" / "health" / "route.js").is_file()
    assert not (built.artifacts / "cache").exists()  # a cache, not an artifact
    assert f"# artifacts (.next) saved to {built.artifacts}" in built.log
    assert "Next.js 15.5.29" in built.log
    assert "ƒ /api/health" in built.log  # rendered per request, on the server


def test_the_build_environment_reaches_the_server_build(built: BuildOutcome) -> None:
    # The spec writes NEXT_PUBLIC_* into .env.production; next inlines it into the server code.
    pages = (built.artifacts or Path("/nonexistent")) / "server" / "app"
    assert API_URL in (pages / "page.js").read_text()


def test_downloads_are_kept_in_the_cache(built: BuildOutcome) -> None:
    assert built.ok, built.log
    cache = default_cache()
    assert any((cache / "corepack").rglob("pnpm.cjs"))
    assert (cache / "pnpm-store").is_dir()


def test_a_syntax_error_fails_the_build_with_nexts_error(
    _docker_client: Any, node: str, built: BuildOutcome, tmp_path: Path
) -> None:
    source = tmp_path / "automl-lite"
    shutil.copytree(EXAMPLE / "frontend", source / "frontend")
    page = source / "frontend" / "app" / "page.js"
    page.write_text("export default function Home() {\n  return <main>unclosed;\n}\n")
    builder = ContainerBuilder(_docker_client, node, source, SANDBOX, cache=default_cache())

    outcome = builder.build(request("app/main/2"))

    assert not outcome.ok
    assert outcome.reason == (
        "BUILD failed: command pnpm run build exited with code 1: "
        "Error:   x Unexpected token. Did you mean `{'}'}` or `&rbrace;`?"
    )
    assert "Failed to compile." in outcome.log
    assert "> Build failed because of webpack errors" in outcome.log
    assert support.containers_left(_docker_client, f"{SANDBOX_LABEL}={SANDBOX}") == []
