"""The adoption caller examples/workflows/push-to-deploy.yml run by act on a push of an older
commit than the live release's: the deploy job refuses it and names both commits. The two
releases before it are deployed as the workflow's deploy step does, without act."""

from __future__ import annotations

import pytest

from tests.act_runner import git, make_app_repository, run_act, sandbox_for_act, two_releases

# One act run, after two deploys made without act: minutes on a busy 2-core machine.
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.registry,
    pytest.mark.slow(minutes=2),
    pytest.mark.timeout(3000),
]


def test_a_push_of_an_older_commit_is_refused_naming_both(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("act")
    with sandbox_for_act(work) as env:
        app = make_app_repository(work)
        first, newer = two_releases(app, env)

        git(app, "tag", "newer", newer)  # keeps the newer commit fetchable, as on GitHub
        git(app, "checkout", "-q", "-B", "main", first)
        older = run_act(app, "push", "push-to-deploy.yml", env=env, job="dev")
    assert older.returncode != 0
    assert (
        f"error: refusing to deploy {first[:12]}: it is older than {newer[:12]}, the commit of "
        "the live release r-"
    ) in older.log
    assert "deploy a newer commit, or pass --allow-older" in older.log
