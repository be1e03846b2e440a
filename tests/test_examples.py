"""Every reference example (DESIGN.md, "Reference systems") is a valid, check-clean app."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytools.cli import main
from deploytools.config import load_config
from tests.support import REPO_ROOT

EXAMPLES = sorted(p.parent for p in (REPO_ROOT / "examples").glob("*/deploytools.yml"))
REFERENCE_SYSTEMS = {
    "nlp-serving", "automl-lite", "prediction-api", "engagement-platform", "tastetrend-etl",
}  # fmt: skip


def test_one_example_per_reference_system() -> None:
    assert {p.name for p in EXAMPLES} == REFERENCE_SYSTEMS


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_is_check_clean(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_config(example / "deploytools.yml")
    code = main(["--config", str(example / "deploytools.yml"), "check"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1].startswith("0 error(s)")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_exercises_what_design_says(example: Path) -> None:
    model = load_config(example / "deploytools.yml").model
    types = {t.type for t in model.targets.values()}
    expected = {
        "nlp-serving": {"eks", "lambda"},
        "automl-lite": {"lambda", "batch"},
        "prediction-api": {"lambda"},
        "engagement-platform": {"ecs"},
        "tastetrend-etl": {"lambda"},
    }[example.name]
    assert types == expected
    if example.name == "automl-lite":
        assert model.frontend is not None and model.frontend.amplify is not None
