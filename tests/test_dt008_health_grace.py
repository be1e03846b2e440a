"""DT008: a health-check grace period under 60 s for an ECS service behind a load balancer."""

from __future__ import annotations

from pathlib import Path

from deploytools.checks import CheckContext, all_rules, run_checks

FIXTURES = Path(__file__).parent / "fixtures" / "dt008"


def findings(folder: str) -> list[tuple[str, int, str]]:
    found = run_checks(CheckContext(root=FIXTURES / folder), only={"DT008"})
    return [(f.file, f.line, f.message) for f in found]


def test_the_rule_is_registered() -> None:
    registered = all_rules()["DT008"]
    assert registered.title == (
        "health-check grace period under 60 s for a service behind a load balancer"
    )


def test_every_short_or_missing_grace_behind_a_load_balancer_is_found() -> None:
    assert findings("positive") == [
        (
            "main.tf",
            3,
            "aws_ecs_service.no_grace is behind a load balancer but sets no "
            "health_check_grace_period_seconds (ECS uses 0)",
        ),
        (
            "main.tf",
            21,
            "aws_ecs_service.short_grace is behind a load balancer with "
            "health_check_grace_period_seconds = 30 (under 60 s)",
        ),
        (
            "main.tf",
            34,
            "aws_ecs_service.dynamic_lb is behind a load balancer with "
            "health_check_grace_period_seconds = 45 (under 60 s)",
        ),
        (
            "main.tf",
            51,
            "module.inference passes health_check_grace_period_seconds = 20 with "
            "load_balancers (under 60 s)",
        ),
    ]


def test_findings_carry_the_fix() -> None:
    found = run_checks(CheckContext(root=FIXTURES / "positive"), only={"DT008"})
    assert {f.fix for f in found} == {
        "Set health_check_grace_period_seconds to at least 60 (longer than the app needs to start)."
    }
    assert {f.rule for f in found} == {"DT008"}


def test_long_enough_unbalanced_or_unknowable_graces_are_not_findings() -> None:
    assert findings("negative") == []


def test_the_projects_ecs_service_module_passes() -> None:
    module = Path(__file__).resolve().parents[1] / "terraform" / "modules" / "ecs_service"
    if not module.is_dir():
        return
    assert run_checks(CheckContext(root=module), only={"DT008"}) == []


def test_an_unparsable_file_is_left_to_terraform_validate(tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('resource "aws_ecs_service" "x" {\n  load_balancer {\n')
    assert run_checks(CheckContext(root=tmp_path), only={"DT008"}) == []
