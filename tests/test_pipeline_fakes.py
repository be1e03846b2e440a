"""Injected steps for pipeline tests (no tests here).

FakeSteps keeps the real secrets step, release record and account guard (all against moto)
and fakes only images, Terraform, targets, Amplify, smoke and check: those are the parts
whose own behaviour other test modules prove; here the claims are about the pipeline —
order, refusal before any change, concurrency, what is recorded and reported.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from deploytools.aws import AwsContext
from deploytools.checks.base import Finding
from deploytools.config import EnvConfig, LoadedConfig, load_config
from deploytools.output import Reporter, Status, StepRecord
from deploytools.pipeline import Options, RealSteps, Run, ZipPackage
from deploytools.steps.smoke import SmokeFailed, SmokeResult
from deploytools.steps.targets.base import RolledBack, TargetState

MUTATING = ("build_images", "terraform_apply", "build_zip", "refresh", "restore", "amplify")


@dataclass(frozen=True)
class FakeImage:
    name: str
    repository_uri: str
    tag: str
    digest: str
    uri: str
    built: bool = True
    pushed: bool = True


@dataclass
class World:
    """What the fake AWS holds, and every call the fakes received (thread-safe)."""

    live: dict[str, TargetState] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    latency: float = 0.0  # seconds each refresh/restore takes
    fail: dict[str, str] = field(default_factory=dict)  # target -> "rolled_back" | "error"
    build: int = 0  # bumped per deploy: a new image digest each time
    spans: list[tuple[float, float]] = field(default_factory=list)  # each refresh's start, end
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, what: str, name: str = "") -> None:
        with self.lock:
            self.calls.append((what, name))

    def mutations(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in MUTATING]


def digest_for(name: str, build: int) -> str:
    return "sha256:" + hashlib.sha256(f"{name}-{build}".encode()).hexdigest()


class FakeRefresher:
    def __init__(self, name: str, target: Any, *, world: World) -> None:
        self.name = name
        self.target = target
        self.world = world

    def current(self) -> TargetState | None:
        self.world.call("current", self.name)
        return self.world.live.get(self.name)

    def describe_change(self, image: str | None) -> str:
        self.world.call("describe", self.name)
        before = self.world.live.get(self.name)
        return f"{before.revision if before else '(new)'} → {image}"

    def refresh(self, image: str | None, record: StepRecord, **inputs: Any) -> TargetState:
        self.world.call("refresh", self.name)
        start = time.monotonic()
        time.sleep(self.world.latency)
        with self.world.lock:
            self.world.spans.append((start, time.monotonic()))
        before = self.world.live.get(self.name)
        failure = self.world.fail.get(self.name)
        if failure == "rolled_back":
            assert before is not None
            raise RolledBack(f"{self.name}: the new revision never became healthy", before)
        if failure == "error":
            raise RuntimeError(f"{self.name}: boom")
        number = int(before.revision.rsplit(":", 1)[-1]) + 1 if before else 1
        after = TargetState(
            target=self.name,
            type=self.target.type,
            resource=self.name,
            image=image,
            revision=f"arn:fake:{self.name}:{number}",
            detail={"inputs": sorted(inputs), "secret_names": sorted(inputs["secret_arns"])},
        )
        with self.world.lock:
            self.world.live[self.name] = after
        record.change(f"{self.name} revision {number}")
        return after

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        self.world.call("restore", self.name)
        time.sleep(self.world.latency)
        if self.world.fail.get(self.name) == "error":
            raise RuntimeError(f"{self.name}: restore failed")
        with self.world.lock:
            self.world.live[self.name] = state
        return state


class FakeSteps(RealSteps):
    """RealSteps with the parts other engineers own (and their tools) replaced."""

    def __init__(
        self,
        world: World,
        *,
        findings: Sequence[Finding] = (),
        outputs: Mapping[str, Any] | None = None,
        smoke_fails: bool = False,
    ) -> None:
        self.world = world
        self.findings = list(findings)
        self.outputs = dict(outputs or {})
        self.smoke_fails = smoke_fails
        self.clock = datetime(2025, 10, 20, 12, 0, 0, tzinfo=UTC)

    def missing_modules(self, needed: Sequence[tuple[str, str]]) -> list[str]:
        return []

    def run_checks(self, config: LoadedConfig) -> list[Finding]:
        self.world.call("check")
        return self.findings

    def plan_images(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        names: Sequence[str],
        registry: str | None,
    ) -> list[dict[str, Any]]:
        self.world.call("plan_images")
        return [
            {
                "name": n,
                "repository": env.model.images[n].repository,
                "action": "build, push",
                "uri": f"{registry or 'ecr'}/{n}@{digest_for(n, self.world.build + 1)}",
            }
            for n in names
        ]

    def build_images(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        names: Sequence[str],
        registry: str | None,
        tag: str | None,
        reporter: Reporter,
        record: StepRecord,
    ) -> Mapping[str, FakeImage]:
        self.world.call("build_images", ",".join(names))
        self.world.build += 1
        result = {}
        for name in names:
            repository = f"{registry or '123456789012.dkr.ecr.us-east-1.amazonaws.com'}/{name}"
            digest = digest_for(name, self.world.build)
            result[name] = FakeImage(
                name, repository, f"c{self.world.build}", digest, f"{repository}@{digest}"
            )
        return result

    def terraform(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        images: Mapping[str, str],
        packages: Mapping[str, ZipPackage],
        reporter: Reporter,
        apply: bool,
    ) -> dict[str, Any]:
        self.world.packages = dict(packages)  # type: ignore[attr-defined]
        with reporter.step("terraform") as record:
            self.world.call("terraform_apply" if apply else "terraform_plan", ",".join(images))
            record.status = Status.UNCHANGED
        return dict(self.outputs)

    def build_zip(
        self, name: str, target: Any, *, root: Path, out: Path, record: StepRecord
    ) -> ZipPackage:
        self.world.call("build_zip", name)
        return ZipPackage(path=out, sha256="c2hh")

    def secret_values(
        self, aws: AwsContext, env: EnvConfig, names: Sequence[str]
    ) -> dict[str, str]:
        self.world.call("secret_values", ",".join(names))
        return super().secret_values(aws, env, names)

    def refresher(
        self, name: str, target: Any, *, aws: AwsContext, reporter: Reporter
    ) -> FakeRefresher:
        return FakeRefresher(name, target, world=self.world)

    def plan_amplify(self, aws: AwsContext, env: EnvConfig, *, root: Path) -> dict[str, Any]:
        return {"action": "create app"}

    def deploy_amplify(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        reporter: Reporter,
        record: StepRecord,
    ) -> dict[str, Any]:
        self.world.call("amplify")
        record.change("job 1")
        return {"app_id": "d123", "branch": "main", "job_id": "1", "status": "SUCCEED"}

    def smoke(self, checks: Sequence[Any], *, record: StepRecord) -> list[Any]:
        self.world.call("smoke", ",".join(c.url for c in checks))
        results = [
            SmokeResult(
                c.url,
                c.method,
                c.expect_status,
                200 if not self.smoke_fails else 503,
                1,
                0.0,
                ok=not self.smoke_fails,
                reason="" if not self.smoke_fails else "got 503: down",
            )
            for c in checks
        ]
        if self.smoke_fails:
            raise SmokeFailed(results)
        return results

    def git_sha(self, root: Path) -> str | None:
        return "abcdef1234567890"

    def now(self) -> datetime:
        self.clock += timedelta(seconds=1)  # releases one second apart: ids sort by time
        return self.clock


# --- a repository with a config -----------------------------------------------------------

BASE_CONFIG: dict[str, Any] = {
    "project": "shop",
    "region": "us-east-1",
    "environments": {
        "dev": {"account_id": "123456789012"},
        "prod": {"account_id": "123456789012", "protected": True},
        "other": {"account_id": "210987654321"},
    },
    "secrets": {"ssm_path": "/shop/{env}/", "required": ["API_KEY"]},
    "images": {"api": {"context": ".", "dockerfile": "Dockerfile"}},
    "terraform": {"dir": "infra"},
    "targets": {
        "api": {"type": "ecs", "cluster": "{tf.cluster}", "image": "api"},
        "predict": {"type": "lambda", "image": "api"},
        "train": {"type": "batch", "image": "api"},
    },
    "frontend": {
        "amplify": {
            "app": "shop-{env}-web",
            "repository": "https://github.com/acme/shop",
            "app_root": "web",
            "environment": {"API": "{tf.api_url}"},
        }
    },
    "smoke": [{"url": "{tf.api_url}/health"}],
}
OUTPUTS = {"cluster": "shop-dev", "api_url": "http://127.0.0.1:9/api"}


def write_repo(root: Path, config: dict[str, Any] | None = None) -> Path:
    """A repository with deploytools.yml (default BASE_CONFIG) and the files it names."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "infra").mkdir(exist_ok=True)
    (root / "amplify.yml").write_text("version: 1\n")
    (root / "src").mkdir(exist_ok=True)
    path = root / "deploytools.yml"
    path.write_text(yaml.safe_dump(config or BASE_CONFIG, sort_keys=False))
    return path


def many_targets(count: int) -> dict[str, Any]:
    config = {k: v for k, v in BASE_CONFIG.items() if k not in ("frontend", "smoke")}
    config["terraform"] = None
    config = {k: v for k, v in config.items() if v is not None}
    config["targets"] = {f"t{i:02d}": {"type": "lambda", "image": "api"} for i in range(count)}
    return config


def put_secret(aws: AwsContext, name: str = "API_KEY", env: str = "dev") -> None:
    aws.client("ssm").put_parameter(
        Name=f"/shop/{env}/{name}", Value="s3cr3t-value", Type="SecureString"
    )


def make_run(
    config_path: Path,
    steps: FakeSteps,
    *,
    env: str = "dev",
    reporter: Reporter | None = None,
    **options: Any,
) -> Run:
    config = load_config(config_path)
    return Run(
        config=config,
        aws=AwsContext("us-east-1"),
        reporter=reporter or Reporter(),
        steps=steps,
        options=Options(env=env, **options),
    )
