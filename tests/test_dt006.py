"""DT006: amplify.yml against deploytools.yml and the Next.js SSR app (fixture repos)."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploytools.checks import run_checks
from deploytools.checks.base import CheckContext, Finding
from deploytools.checks.dt006_amplify import exposed_secret
from deploytools.config import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "dt006"
ROOT_SPEC = Path(__file__).resolve().parents[1] / "amplify.yml"


def dt006(root: Path) -> list[Finding]:
    config = root / "deploytools.yml"
    ctx = CheckContext(root=root, config=load_config(config) if config.exists() else None)
    return run_checks(ctx, only={"DT006"})


def test_good_fixture_is_clean() -> None:
    """pnpm with node-linker=hoisted, .next, matching appRoot, a publishable key."""
    assert dt006(FIXTURES / "good") == []


def test_app_root_differs_from_config() -> None:
    assert [(f.file, f.line, f.message) for f in dt006(FIXTURES / "wrong-app-root")] == [
        (
            "amplify.yml",
            3,
            "appRoot is web but frontend.amplify.app_root in deploytools.yml is frontend; "
            "Amplify builds nothing when AMPLIFY_MONOREPO_APP_ROOT matches no appRoot",
        )
    ]


def test_every_other_mistake_with_file_and_line() -> None:
    found = [(f.file, f.line, f.message) for f in dt006(FIXTURES / "bad-spec")]
    assert found == [
        (
            "amplify.yml",
            6,
            "NEXT_PUBLIC_DB_PASSWORD looks server-only, but NEXT_PUBLIC_* values are inlined "
            "into the browser bundle",
        ),
        (
            "amplify.yml",
            12,
            "pnpm without node-linker=hoisted: Amplify's SSR bundle misses pnpm's symlinked "
            "node_modules and the server fails with 'Cannot find module'",
        ),
        (
            "amplify.yml",
            17,
            "artifacts.baseDirectory is out; a Next.js SSR app on WEB_COMPUTE deploys .next",
        ),
        (
            "deploytools.yml",
            14,
            "API_KEY is a required secret (secrets.required), but NEXT_PUBLIC_* values are "
            "inlined into the browser bundle",
        ),
        (
            "deploytools.yml",
            15,
            "NEXT_PUBLIC_SESSION_SECRET looks server-only, but NEXT_PUBLIC_* values are inlined "
            "into the browser bundle",
        ),
        (
            "deploytools.yml",
            16,
            "NEXT_PUBLIC_MAPS_KEY looks server-only, but NEXT_PUBLIC_* values are inlined into "
            "the browser bundle",
        ),
        ("deploytools.yml", 17, "AMPLIFY_MONOREPO_APP_ROOT is apps/web but app_root is frontend"),
    ]
    fixes = {f.line: f.fix for f in dt006(FIXTURES / "bad-spec") if f.file == "amplify.yml"}
    assert fixes[12] == (
        "Add the line node-linker=hoisted to .npmrc in frontend and run pnpm install."
    )


def test_not_a_monorepo_spec() -> None:
    [finding] = dt006(FIXTURES / "not-monorepo")
    assert finding.line == 1
    assert finding.message.startswith(
        "not a monorepo build spec, but deploytools.yml sets app_root"
    )


def test_npmrc_at_the_repository_root_counts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "good", repo)
    (repo / "frontend" / ".npmrc").unlink()
    assert [f.line for f in dt006(repo)] == [9]  # the first pnpm command
    (repo / ".npmrc").write_text("auto-install-peers=true\nnode-linker = hoisted\n")
    assert dt006(repo) == []


def test_lockfile_alone_means_pnpm(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "good", repo)
    spec = repo / "amplify.yml"
    spec.write_text(spec.read_text().replace("pnpm install --frozen-lockfile", "npm ci"))
    spec.write_text(spec.read_text().replace("pnpm run build", "npm run build"))
    (repo / "frontend" / ".npmrc").unlink()
    [finding] = dt006(repo)
    assert finding.line == 3  # no pnpm command: the appRoot line
    assert finding.message.startswith("pnpm without node-linker=hoisted")


def test_the_repository_amplify_yml_passes_for_a_matching_app(tmp_path: Path) -> None:
    """The root amplify.yml, used by an app under frontend/ with pnpm and a hoisted .npmrc."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "good", repo)
    shutil.copy(ROOT_SPEC, repo / "amplify.yml")
    assert dt006(repo) == []
    (repo / "frontend" / ".npmrc").unlink()
    assert [f.message.split(":")[0] for f in dt006(repo)] == ["pnpm without node-linker=hoisted"]


def test_a_template_without_config_or_app_folder_is_left_alone(tmp_path: Path) -> None:
    shutil.copy(ROOT_SPEC, tmp_path / "amplify.yml")
    assert dt006(tmp_path) == []


def test_without_config_a_next_app_still_needs_dot_next(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "bad-spec" / "frontend", tmp_path / "frontend")
    shutil.copy(FIXTURES / "bad-spec" / "amplify.yml", tmp_path / "amplify.yml")
    (tmp_path / ".npmrc").write_text("node-linker=hoisted\n")
    lines = [(f.line, f.message.split(";")[0]) for f in dt006(tmp_path)]
    assert lines == [
        (6, "NEXT_PUBLIC_DB_PASSWORD looks server-only, but NEXT_PUBLIC_* values are inlined "
            "into the browser bundle"),
        (17, "artifacts.baseDirectory is out"),
    ]  # fmt: skip


def test_invalid_yaml_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "amplify.yml").write_text("version: 1\napplications:\n  - appRoot: [\n")
    [finding] = dt006(tmp_path)
    assert finding.message.startswith("invalid YAML")


def test_exposed_secret_names() -> None:
    required = {"API_KEY"}
    assert exposed_secret("NEXT_PUBLIC_API_KEY", required)
    assert exposed_secret("NEXT_PUBLIC_GITHUB_TOKEN", set())
    assert exposed_secret("NEXT_PUBLIC_PRIVATE_THING", set())
    assert not exposed_secret("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", set())
    assert not exposed_secret("NEXT_PUBLIC_API_URL", set())
    assert not exposed_secret("DATABASE_PASSWORD", set())  # server-side: fine
