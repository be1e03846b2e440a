"""The adoption caller examples/workflows/manual-deploy.yml run by act on workflow_dispatch
with rollback: the release before the live one is restored. The two releases are deployed as
the workflow's deploy step does, without act."""

from __future__ import annotations

import pytest

from tests.act_runner import make_app_repository, run_act, sandbox_for_act, two_releases

# One act run, after two deploys made without act: minutes on a busy 2-core machine.
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.registry,
    pytest.mark.slow(minutes=2),
    pytest.mark.timeout(3000),
]


def test_a_rollback_dispatch_restores_the_release_before_the_live_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("act")
    with sandbox_for_act(work) as env:
        app = make_app_repository(work)
        first, _ = two_releases(app, env)
        rolled = run_act(
            app, "workflow_dispatch", "manual-deploy.yml", env=env, job="rollback",
            extra=("--input", "environment=dev", "--input", "rollback=true"),
        )  # fmt: skip
    assert rolled.returncode == 0, rolled.log[-6000:]
    assert "rolled back dev to r-" in rolled.log
    line = next(x for x in rolled.step_lines() if x.startswith("rolled back dev to "))
    restored = line.split(" to ", 1)[1].split(":", 1)[0]  # r-<time>-<sha7>-<suffix>
    assert restored.rsplit("-", 1)[0].endswith(f"-{first[:7]}"), line
