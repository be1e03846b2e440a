"""deploytools schema: the JSON Schema of deploytools.yml, for editors."""

from __future__ import annotations

import argparse

from deploytools.commands import App

NAME = "schema"
HELP = "print the JSON Schema of deploytools.yml (for editors and yaml-language-server)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(app: App) -> int:
    from deploytools.config import json_schema  # pydantic: not for `--help`

    app.reporter.document(json_schema())
    return 0
