"""DT000: a `{tf.NAME}` the Terraform root declares no output for fails `check`, so a deploy
stops before it changes anything (not after the apply)."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks import CheckContext, run_checks
from deploytools.config import load_config

CONFIG = """\
project: shop
environments:
  dev: {account_id: "123456789012"}
terraform:
  dir: infra
targets:
  api:
    type: lambda
    function: "{tf.function_name}"
    package: {source: src}
    # {tf.in_a_comment} is not a reference
    environment: {BUCKET: "{tf.bucket}", URL: "{tf.api_url}/v1"}
smoke:
  - {url: "{tf.api_url}/health"}
"""


def findings(root: Path) -> list[tuple[str, int, str]]:
    ctx = CheckContext(root=root, config=load_config(root / "deploytools.yml"))
    return [(f.file, f.line, f.message) for f in run_checks(ctx, only={"DT000"})]


def write(root: Path, outputs: list[str]) -> Path:
    (root / "infra").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "deploytools.yml").write_text(CONFIG)
    (root / "infra" / "outputs.tf").write_text(
        "".join(f'output "{name}" {{\n  value = null\n}}\n\n' for name in outputs)
    )
    return root


def test_every_undeclared_output_is_named_with_its_line(tmp_path: Path) -> None:
    root = write(tmp_path, ["function_name", "bucket"])
    assert findings(root) == [
        (
            "deploytools.yml",
            line,
            "{tf.api_url}: infra declares no output 'api_url' (it has: bucket, function_name)",
        )
        for line in (12, 14)
    ]


def test_declared_outputs_pass_even_when_null(tmp_path: Path) -> None:
    root = write(tmp_path, ["function_name", "bucket", "api_url"])
    assert findings(root) == []


def test_a_root_without_tf_files_is_left_to_terraform(tmp_path: Path) -> None:
    root = write(tmp_path, [])
    (root / "infra" / "outputs.tf").unlink()
    assert findings(root) == []
