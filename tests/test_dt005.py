"""DT005: committed .env files, secret-looking literals, hard-coded endpoints (fixture repos).

Every secret in tests/fixtures/dt005 is fake; the positive fixture exists to be found.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploytools.checks import run_checks
from deploytools.checks.base import CheckContext, Finding
from deploytools.cli import main
from deploytools.config import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "dt005"


def dt005(root: Path) -> list[Finding]:
    config = root / "deploytools.yml"
    ctx = CheckContext(root=root, config=load_config(config) if config.exists() else None)
    return run_checks(ctx, only={"DT005"})


def where(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.file, f.line) for f in findings]


def test_positive_fixture_finds_each_kind_with_file_and_line() -> None:
    findings = dt005(FIXTURES / "positive")
    assert where(findings) == [
        (".env", 1),
        (".env.example", 3),
        ("app/client.py", 3),
        ("app/client.py", 4),
        ("app/deploy_key.pem", 1),
        ("app/settings.py", 3),
        ("app/settings.py", 4),
        ("app/settings.py", 5),
        ("app/settings.py", 6),
        ("app/settings.py", 7),
        ("app/settings.py", 8),
        ("frontend/src/api.ts", 2),
        ("frontend/src/api.ts", 3),
    ]
    messages = {(f.file, f.line): f.message for f in findings}
    assert messages[(".env", 1)] == (
        "committed env file .env (API_KEY, DB_HOST): secrets in the repository reach every clone"
    )
    assert messages[("app/settings.py", 3)] == (
        "AWS Access Key is written in the file (AKIA… (20 characters))"
    )
    assert messages[("app/settings.py", 7)] == (
        "db_password is set to a literal secret (corr… (28 characters))"
    )
    assert messages[("frontend/src/api.ts", 2)].startswith(
        "an API Gateway URL is hard-coded (https://abc123defg.execute-api.us-east-1.amazonaws.com/prod)"
    )
    assert all(f.rule == "DT005" and f.fix for f in findings)
    secret_fixes = [f.fix for f in findings if "is hard-coded (" not in f.message]
    assert len(secret_fixes) == 9
    assert all("SSM Parameter Store under /shop/{env}/" in fix for fix in secret_fixes)


def test_findings_never_repeat_the_secret() -> None:
    findings = dt005(FIXTURES / "positive")
    secrets = [
        "AKIAZ7Q3XK5M2RTY8W4N",
        "q8Xv2LmN4pR7sT1uW3yZ5aB6cD9eF0gH2iJ4kL6m",
        "ghp_4fKq8ZxR2mW9nT5vB7cY1dL3hJ6gP0sQaEuI",
        "xoxb-2048-4096-aBcDeFgHiJkLmNoP",
        "correct-horse-battery-staple",
        "sk-live-0123456789abcdef",
        "hunter2hunter2",
    ]
    text = "\n".join(f"{f.message} {f.fix}" for f in findings)
    for secret in secrets:
        assert secret not in text


def test_inline_ignore_comment_is_honoured() -> None:
    lines = (FIXTURES / "positive" / "app" / "settings.py").read_text().splitlines()
    assert "deploytools: ignore DT005" in lines[8]
    assert ("app/settings.py", 9) not in where(dt005(FIXTURES / "positive"))


def test_negative_fixture_is_clean() -> None:
    """Env reads, references, placeholders, docs, Terraform itself and an ignored line."""
    assert dt005(FIXTURES / "negative") == []


def test_endpoints_only_matter_when_terraform_could_output_them() -> None:
    assert dt005(FIXTURES / "no-terraform") == []


def test_gitignored_env_file_is_local_not_committed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("API_KEY=abc\n")
    (tmp_path / ".env.production").write_text("API_KEY=abc\n")
    (tmp_path / ".gitignore").write_text(".env\n")
    assert where(dt005(tmp_path)) == [(".env.production", 1)]
    (tmp_path / ".gitignore").write_text(".env*\n!.env.example\n")
    assert dt005(tmp_path) == []


@pytest.mark.parametrize(
    "line",
    [
        'password = os.environ["DB_PASSWORD"]',
        'API_KEY = "${API_KEY}"',
        'token = "{{ secrets.TOKEN }}"',
        'secret_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/dev/API_KEY"',
        "const apiKey = process.env.API_KEY;",
        'api_key = "short"',
    ],
)
def test_references_are_not_secrets(tmp_path: Path, line: str) -> None:
    (tmp_path / "app.py").write_text(line + "\n")
    assert dt005(tmp_path) == []


def test_check_command_reports_dt005(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "positive", repo)
    code = main(["check", "--config", str(repo / "deploytools.yml")])
    out = capsys.readouterr().out
    assert code == 3
    assert "DT005" in out and "app/settings.py" in out
    assert "AKIAZ7Q3XK5M2RTY8W4N" not in out


def test_a_token_in_markdown_is_a_warning_and_the_allowlist_pragma_is_honoured() -> None:
    findings = dt005(FIXTURES / "docs")
    assert [(f.file, f.line, f.severity.value, f.message) for f in findings] == [
        ("app/config.py", 3, "error",
         "UPLOAD_TOKEN is set to a literal secret (tk_9… (23 characters))"),
        ("guide/README.md", 5, "warning",
         "API_TOKEN is set to a literal secret (tk_9… (23 characters)) in documentation"),
    ]  # fmt: skip


def test_inline_ignore_is_listed_as_a_waiver() -> None:
    from deploytools.checks import check_report

    root = FIXTURES / "positive"
    report = check_report(CheckContext(root=root, config=load_config(root / "deploytools.yml")))
    waived = [(w.finding.file, w.finding.line, w.source, w.reason) for w in report.waived]
    assert waived == [("app/settings.py", 9, "inline", "no reason given")]


# Built at run time so that no scanner of this repository mistakes the test for a leak.
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f'charge_with = "{STRIPE}"', "Stripe Access Key (sk_l… (32 characters))"),
        (
            f'headers = {{"Authorization": "Bearer {JWT}"}}',
            "JSON Web Token (eyJh… (49 characters))",
        ),
        (
            'DATABASE_URL = "postgres://app:" + "Zq8vK2mW9xTnB4@db.internal:5432/app"'.replace(
                '" + "', ""
            ),
            "Basic Auth Credentials (Zq8v… (14 characters))",
        ),
    ],
)
def test_detect_secrets_plugins_name_what_they_find(
    tmp_path: Path, line: str, message: str
) -> None:
    """Kinds our own patterns never knew: detect-secrets' plugins find them."""
    (tmp_path / "app.py").write_text(line + "\n")
    kind, _, shown = message.partition(" (")
    expected = f"{kind} is written in the file ({shown}"
    assert [(f.line, f.message) for f in dt005(tmp_path)] == [(1, expected)]


@pytest.mark.parametrize(
    "line",
    [
        'secret_id = "123e4567-e89b-12d3-a456-426614174000"',  # a UUID
        'client_secret = "abcdefghijklmnopqrstuvwxyz"',  # a sequence
        'api_key = "$API_KEY_FROM_THE_ENVIRONMENT"',  # a $variable
        'password = get_secret("db-password-parameter")',  # an indirect reference
    ],
)
def test_detect_secrets_heuristic_filters_apply(tmp_path: Path, line: str) -> None:
    (tmp_path / "app.py").write_text(line + "\n")
    assert dt005(tmp_path) == []


def test_the_prefilter_lets_each_kind_through() -> None:
    from deploytools.checks.secret_scan import candidate_lines

    for text in [
        STRIPE,
        JWT,
        "AKIA" + "Z7Q3XK5M2RTY8W4N",
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "https://user" + ":pw1234@host",
        "xox" + "b-2048-4096-aBcD",
        "ibm_" + "key = " + "a" * 44,
        "mailchimp = " + "0123456789abcdef" * 2 + "-us1",
        "telegram = 123456789" + ":" + "A" * 35,
    ]:
        assert candidate_lines(f"x = 1\nvalue = {text!r}\n") == [2], text
    assert candidate_lines('TABLE = os.getenv("TABLE_1", "t1")\nimport resource\n') == []


def test_line_numbers_hold_past_a_character_whose_lower_case_is_longer() -> None:
    from deploytools.checks.secret_scan import candidate_lines

    # Each "İ" lowers to two characters: unchecked, the offsets would slide onto line 3.
    assert candidate_lines("İ" * 10 + "\nx = password\ny = 1\n") == [2]
