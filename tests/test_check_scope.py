"""`check` from the repository root: paths relative to it, only what the config names, .gitignore
honoured, a run without deploytools.yml, and Terraform that cannot be read is never silent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deploytools.checks import CheckContext, run_checks
from deploytools.cli import main

SVC_CONFIG = """\
project: shop
environments:
  dev: {account_id: "123456789012"}
images:
  api: {context: ., dockerfile: Dockerfile}
terraform:
  dir: ../infra
"""
KUBERNETES_WITHOUT_DEPENDS_ON = """\
resource "kubernetes_deployment" "api" {
  metadata {
    name = "api"
  }
}
"""


def git_repo(root: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """svc/ holds the config and the image; infra/ the Terraform it names; infra-copy/ a second
    copy nothing deploys."""
    root = git_repo(tmp_path / "repo")
    write(
        root,
        {
            "svc/deploytools.yml": SVC_CONFIG,
            "svc/Dockerfile": "FROM python:3.11-slim\nCOPY secrets.txt /app/\n",
            "svc/.dockerignore": "secrets.txt\n",
            "svc/secrets.txt": "x\n",
            "infra/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
            "infra-copy/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
        },
    )
    return root


def test_paths_are_relative_to_the_repository_root(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(monorepo)
    assert main(["--config", "svc/deploytools.yml", "check", "--no-terraform-validate"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "infra/main.tf:1: DT007 error: kubernetes_deployment.api has no depends_on on the EKS "
        "cluster or node group"
    )
    assert lines[2] == (
        "svc/Dockerfile:2: DT001 error: COPY source 'secrets.txt' is excluded by "
        "svc/.dockerignore:1 ('secrets.txt')"
    )
    assert lines[-1] == "2 error(s), 0 warning(s)"


def test_sarif_and_github_name_the_file_from_the_root(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(monorepo / "svc")
    assert main(["--config", "deploytools.yml", "check", "--format", "sarif"]) == 3
    sarif = json.loads(capsys.readouterr().out)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    ]
    assert uris == ["infra/main.tf", "svc/Dockerfile"]
    assert main(["--config", "deploytools.yml", "check", "--format", "github"]) == 3
    out = capsys.readouterr().out
    assert "::error file=svc/Dockerfile,line=2," in out
    assert "infra-copy" not in out


def test_config_problems_name_the_config_from_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_repo(tmp_path / "repo")
    write(root, {"svc/deploytools.yml": "project: shop\nenvironments:\n  dev: {colour: red}\n"})
    monkeypatch.chdir(root)
    assert main(["--config", "svc/deploytools.yml", "check"]) == 3
    assert (
        capsys.readouterr()
        .out.splitlines()[0]
        .startswith("svc/deploytools.yml:3: DT000 error: environments.dev")
    )


def test_without_a_config_the_config_free_rules_run_and_decide_the_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = git_repo(tmp_path / "repo")
    write(root, {"infra/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON, "app/main.py": "print(1)\n"})
    monkeypatch.chdir(root / "app")
    assert main(["check"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "no deploytools.yml: skipped DT003, DT004, DT011, DT012, DT013 (they read the config's "
        "targets); the other rules ran on the repository"
    )
    assert lines[1].startswith("infra/main.tf:1: DT007 error: kubernetes_deployment.api")
    (root / "infra/main.tf").unlink()
    assert main(["check", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["skipped_rules"] == [
        "DT003",
        "DT004",
        "DT011",
        "DT012",
        "DT013",
    ]
    assert captured.err.startswith("no deploytools.yml: skipped DT003, DT004, DT011, DT012, DT013")


def test_an_explicit_config_that_does_not_exist_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "svc/deploytools.yml", "check"]) == 2
    assert capsys.readouterr().err == (
        "error: svc/deploytools.yml: no such file; run from the app's repository root or pass "
        "--config PATH\n"
    )


def test_gitignored_files_are_not_read(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo")
    write(
        root,
        {
            ".gitignore": "generated/\n",
            "generated/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
            "infra/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
        },
    )
    files = [f.file for f in run_checks(CheckContext(root=root), only={"DT007"})]
    assert files == ["infra/main.tf"]


def test_the_walk_skips_dependency_folders_outside_git(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "node_modules/x/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
            "infra/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
        },
    )
    ctx = CheckContext(root=tmp_path)
    assert not ctx.index.from_git
    assert [f.file for f in run_checks(ctx, only={"DT007"})] == ["infra/main.tf"]


def test_a_missing_local_module_folder_is_reported_at_its_source_line(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        monorepo,
        {
            "infra/network.tf": 'module "network" {\n  cidr   = "10.0.0.0/16"\n'
            '  source = "../modules/network"\n}\n\nmodule "dns" {\n  source = "./dns"\n}\n',
            "infra/dns/main.tf": KUBERNETES_WITHOUT_DEPENDS_ON,
        },
    )
    monkeypatch.chdir(monorepo)
    assert main(["--config", "svc/deploytools.yml", "check", "--rule", "DT000", "DT007"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        "infra/dns/main.tf:1: DT007 error: kubernetes_deployment.api has no depends_on on the "
        "EKS cluster or node group",
        "    fix: add `depends_on = [module.eks]` (or aws_eks_node_group.<name>) so the workload "
        "is created after the nodes exist and destroyed before the cluster",
        "infra/main.tf:1: DT007 error: kubernetes_deployment.api has no depends_on on the EKS "
        "cluster or node group",
        "    fix: add `depends_on = [module.eks]` (or aws_eks_node_group.<name>) so the workload "
        "is created after the nodes exist and destroyed before the cluster",
    ]
    assert lines[4:6] == [
        'infra/network.tf:3: DT000 error: module "network": source "../modules/network" is not '
        "a folder (modules/network does not exist)",
        "    fix: Add the module folder to the repository, or correct the source path.",
    ]


def test_a_file_python_hcl2_cannot_parse_is_a_warning_naming_it(tmp_path: Path) -> None:
    # Terraform accepts Unicode letters in identifiers; python-hcl2 8.x does not.
    write(tmp_path, {"infra/locals.tf": "locals {\n  café = 1\n}\n"})
    findings = run_checks(CheckContext(root=tmp_path))
    assert [(f.file, f.line, f.rule, f.severity.value, f.message) for f in findings] == [
        (
            "infra/locals.tf",
            2,
            "DT000",
            "warning",
            "python-hcl2 cannot parse this file (stopped at column 6); DT007, DT008 and DT009 "
            "did not read it",
        )
    ]


def test_the_listing_is_what_git_has_in_the_work_tree(tmp_path: Path) -> None:
    from deploytools.checks.index import FileIndex

    root = git_repo(tmp_path)
    write(
        root, {"kept.py": "", "gone.py": "", "new.py": "", "build.log": "", ".gitignore": "*.log\n"}
    )
    git = ["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "add", "kept.py", "gone.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "two files"], check=True)
    (root / "gone.py").unlink()
    index = FileIndex(root)
    assert index.from_git
    assert [f.rel for f in index.files] == [".gitignore", "kept.py", "new.py"]
