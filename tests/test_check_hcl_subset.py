"""The line reader of plain Terraform gives python-hcl2's very output, or steps aside."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hcl2
import pytest

from deploytools.checks.hcl_subset import parse_subset

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import bench_check  # noqa: E402

PLAIN = [
    'resource "aws_s3_bucket" "data" {\n  bucket = "shop-data"\n  force_destroy = true\n}\n',
    'terraform {\n  required_version = ">= 1.5"\n}\nlocals {\n  a = 1\n}\n',
    'variable "x" {\n  type = string\n  default = -3\n  d = null\n  l = []\n'
    '  m = [1, "a,b", true,]\n  u = "# // /* <<"\n}\n',
    'resource "a" "b" {\n  s {\n    x = 1\n  }\n  s {\n    x = 2\n  }\n}\nresource "a" "c" {\n}\n',
    'data "aws_iam_policy_document" "p" {\r\n  statement {\r\n    actions = ["s3:*"]\r\n'
    '  }\r\n}\r\n',
    bench_check.POLICY_TF.format(n=1),
    bench_check.VARIABLES_TF.format(n=1),
]  # fmt: skip
BEYOND = [
    'resource "a" "b" {\n  # a comment\n  x = 1\n}\n',
    bench_check.SERVICE_TF.format(n=1),
    'resource "a" "b" {\n  name = var.name\n}\n',
    'resource "a" "b" {\n  name = "${var.name}-x"\n}\n',
    'resource "a" "b" {\n  ratio = 1.5\n}\n',
    'resource "a" "b" {\n  list = [\n    "x",\n  ]\n}\n',
    'resource "a" "b" {\n  tags = { a = "b" }\n}\n',
    'resource "a" "b" {\n  policy = <<EOF\n{}\nEOF\n}\n',
    'resource a "b" {\n  x = 1\n}\n',
    "x = 1\n",
    'resource "a" "b" {\n  dynamic "s" {\n  }\n}\n',
    'resource "a" "b" {\n  x = 1\n  x = 2\n}\n',
    'resource "a" "b" {\n  x = 1\n',
    'resource "a" "b" {\n  x = "a\\"b"\n}\n',
    'resource "a" "b" {\n  x = foo-bar\n}\n',
    "locals {\n  café = 1\n}\n",  # Terraform accepts it, python-hcl2 does not: its warning
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_files_read_as_python_hcl2_reads_them(text: str) -> None:
    assert parse_subset(text) == hcl2.loads(text)


@pytest.mark.parametrize("text", BEYOND)
def test_anything_more_is_left_to_python_hcl2(text: str) -> None:
    assert parse_subset(text) is None


def test_every_terraform_file_of_this_repository_reads_the_same() -> None:
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "*.tf"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed
    for rel in listed:
        text = (REPO / rel).read_text()
        plain = parse_subset(text)
        if plain is not None:
            assert plain == hcl2.loads(text), rel
