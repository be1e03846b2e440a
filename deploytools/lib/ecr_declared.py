"""ECR repositories the app's Terraform declares: `aws_ecr_repository` with a literal name.

Such a repository is the Terraform root's: deploytools must not create it too (the apply would
then fail on a repository that exists). Names built from variables cannot be read here and
are not counted.
"""

from __future__ import annotations

from pathlib import Path

from deploytools.lib.hcl import HclSyntaxError, parse_file

RESOURCE_TYPE = "aws_ecr_repository"


def declared_repositories(tf_dir: Path) -> dict[str, str]:
    """Repository name -> resource address (`aws_ecr_repository.NAME`) in the root's .tf files."""
    found: dict[str, str] = {}
    for path in sorted(tf_dir.glob("*.tf")):
        try:
            text = path.read_text(encoding="utf-8")
            if RESOURCE_TYPE not in text:  # most roots: no parse (python-hcl2 is slow)
                continue
            parsed = parse_file(path, text)
        except (HclSyntaxError, OSError, UnicodeDecodeError):
            continue  # `check` reports a file it cannot read; Terraform will too
        for block in parsed.blocks:
            if block.kind != "resource" or block.type != RESOURCE_TYPE:
                continue
            name = block.body.get("name")
            if isinstance(name, str) and "${" not in name:
                found[name] = f"aws_ecr_repository.{block.name}"
    return found
