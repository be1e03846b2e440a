"""The line reader of plain Terraform gives python-hcl2's very output, or steps aside."""

from __future__ import annotations

import random
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
    bench_check.SERVICE_TF.format(n=1),
    'resource "a" "b" {\n  # a comment\n  x = 1\n}\n',
    'resource "a" "b" {\n  name = var.name\n}\n',
    '# top\n##hash\n#\nresource "a" "b" { # open\n  s { // nested\n    x = 1 # café\n  } # close\n'
    '  r = [var.a, aws_s3_bucket.my-bucket.arn, "#", "//",] // list\n'
    '  q = "x" # say "hi\n} # end\n',
    'locals {\r\n  a = module.m.out # crlf\r\n  b = [string]\r\n}\r\n',
    "# only a comment\n",
]  # fmt: skip
BEYOND = [
    'resource "a" "b" {\n  /* a block comment */\n  x = 1\n}\n',
    'resource "a" "b" {\n  x = 1 # ${var.a}\n}\n',
    'resource "a" "b" {\n  x = "open\n}\n',
    'resource "a" "b" {\n  x = var.a[0]\n}\n',
    'resource "a" "b" {\n  x = true.a\n}\n',
    'resource "a" "b" {\n  __comments__ = 1\n}\n',
    'resource "a" "b" {\n  x = "é"\n}\n',
    'resource "a" "b" {\n  x = 1\x0c\n}\n',
    'resource "a" "b" {\n  x = var.a / 2\n}\n',
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


LINES = [
    "# c", "// d", "##e", "#", "x = 1 # t", "y = var.a", 'z = [var.b, "q", 1,] // l', "w = string",
    'v = ["a # b"] # x', "u = a.b-c.d", 't = 1 # café', "k = [string]", "n = true # x", "o = null",
    "p = module.m.o", 'q = "x" #"', 'r = "//"', "kk = [foo-bar]", 's = "é"',
]  # fmt: skip


def test_mixes_of_comments_references_and_nested_blocks_read_the_same() -> None:
    draw = random.Random(13)
    read = 0
    for _ in range(400):
        body = "\n".join(f"  {line}" for line in draw.sample(LINES, draw.randint(0, 6)))
        nested = "\n".join(f"    {line}" for line in draw.sample(LINES, draw.randint(0, 3)))
        text = (
            f'{draw.choice(["", "# top"])}\nresource "a" "b" {{{draw.choice(["", " # open"])}\n'
            f"{body}\n  s {{{draw.choice(['', ' // n'])}\n{nested}\n  }}"
            f"{draw.choice(['', ' # closed'])}\n}}{draw.choice(['', ' # end'])}\n"
        )
        plain = parse_subset(text)
        if plain is not None:
            read += 1
            assert plain == hcl2.loads(text), text
    assert read > 100  # most mixes are in the subset
