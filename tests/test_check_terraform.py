"""check runs Terraform's own validation on the configured root, and never skips a .tf file
it cannot parse without saying so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deploytools.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "terraform_check"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private validate cache, so each test runs Terraform itself; the fixtures are copied out
    of this git repository, so the copy is the repository the paths are relative to."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(name: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str]]:
    root = Path.cwd() / name
    shutil.copytree(FIXTURES / name, root)
    code = main(["--config", str(root / "deploytools.yml"), "check", *extra])
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.usefixtures("terraform_bin", "repo")
def test_missing_module_folder_is_reported_at_the_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _check("invalid", capsys)
    assert code == 3
    assert out[0] == (
        'infra/main.tf:7: DT000 error: module "network": source "./modules/network" is not a '
        "folder (infra/modules/network does not exist)"
    )
    assert not any("Unreadable module directory" in line for line in out)  # said once


@pytest.mark.usefixtures("terraform_bin", "repo")
def test_unknown_argument_is_reported_at_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check("unknown", capsys)
    assert code == 3
    assert out[0] == (
        "infra/main.tf:4: DT000 error: terraform validate: Unsupported argument: An argument "
        'named "colour" is not expected here.'
    )


@pytest.mark.usefixtures("terraform_bin", "repo")
def test_valid_terraform_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("valid", capsys) == (0, ["0 error(s), 0 warning(s)"])


@pytest.mark.usefixtures("terraform_bin")
def test_the_result_is_cached_by_content(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo / "unknown"
    shutil.copytree(FIXTURES / "unknown", root)
    config = str(root / "deploytools.yml")
    assert main(["--config", config, "check"]) == 3
    assert len(list((repo / "cache" / "deploytools" / "terraform-validate").iterdir())) == 1
    main_tf = root / "infra" / "main.tf"
    main_tf.write_text(main_tf.read_text().replace('  colour = "red"\n', ""))
    assert main(["--config", config, "check"]) == 0  # new content: validated again
    capsys.readouterr()


@pytest.mark.usefixtures("repo")
def test_no_terraform_validate_skips_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("unknown", capsys, "--no-terraform-validate") == (
        0, ["0 error(s), 0 warning(s)"],
    )  # fmt: skip


@pytest.mark.usefixtures("terraform_bin", "repo")
def test_a_valid_file_python_hcl2_cannot_parse_is_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _check("unparseable", capsys)
    assert code == 0  # Terraform accepts it: a warning, not an error
    assert out == [
        "infra/main.tf:2: DT000 warning: python-hcl2 cannot parse this file (stopped at column "
        "4); DT007, DT008 and DT009 did not read it",
        "    fix: Run terraform validate; if Terraform accepts the file, report the construct to "
        "python-hcl2 and review the file by hand.",
        "0 error(s), 1 warning(s)",
    ]


def _unreachable_provider(root: Path) -> None:
    (root / "infra" / "providers.tf").write_text(
        'terraform {\n  required_providers {\n    nothing = { source = "deploytools-test/nothing" }'
        "\n  }\n}\n"
    )


NOT_RUN = (
    "unavailable: terraform validate on infra: Failed to query available provider packages: "
    "Could not retrieve the list of available versions for provider deploytools-test/nothing"
)


@pytest.mark.usefixtures("terraform_bin")
def test_a_provider_terraform_cannot_install_means_validate_did_not_run(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo / "valid"
    shutil.copytree(FIXTURES / "valid", root)
    _unreachable_provider(root)
    assert main(["--config", str(root / "deploytools.yml"), "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(NOT_RUN)
    assert out[1:] == ["0 error(s), 0 warning(s)"]
    assert not (repo / "cache" / "deploytools" / "terraform-validate").exists()  # not cached


@pytest.mark.usefixtures("terraform_bin")
def test_validate_that_did_not_run_is_in_the_json_sarif_and_github_outputs(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo / "valid"
    shutil.copytree(FIXTURES / "valid", root)
    _unreachable_provider(root)
    config = str(root / "deploytools.yml")
    assert main(["--config", config, "check", "--format", "json"]) == 0
    captured = capsys.readouterr()
    (line,) = json.loads(captured.out)["not_run"]
    assert line.startswith(NOT_RUN) and captured.err.startswith(NOT_RUN)
    assert main(["--config", config, "check", "--format", "sarif"]) == 0
    (invocation,) = json.loads(capsys.readouterr().out)["runs"][0]["invocations"]
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "warning" and note["message"]["text"] == line
    assert main(["--config", config, "check", "--format", "github"]) == 0
    captured = capsys.readouterr()
    (annotation,) = [a for a in captured.out.splitlines() if a.startswith("::warning")]
    assert annotation.startswith("::warning title=terraform validate::" + NOT_RUN)
    assert "unavailable" not in captured.err  # said once, as the annotation


@pytest.mark.usefixtures("repo")
def test_without_terraform_check_says_validate_did_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"  # git only: no terraform on PATH
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bin_dir / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bin_dir))
    code, out = _check("unknown", capsys)
    assert (code, out) == (
        0,
        [
            "unavailable: terraform validate: terraform is not installed; install Terraform "
            "(https://developer.hashicorp.com/terraform/install) and put it on PATH, or pass "
            "--no-terraform-validate",
            "0 error(s), 0 warning(s)",
        ],
    )
