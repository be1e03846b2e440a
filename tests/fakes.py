"""Port fakes for pipeline tests: each stands in for one step's port and records its calls.

`fake_ports` keeps the real secrets and release ports (against moto) and the real account
guard, and fakes checks, images, Terraform, targets, Amplify, smoke and the clock: those are
the parts whose own behaviour other test modules prove; here the claims are about the
pipeline: order, refusal before any change, concurrency, what is recorded and reported.
No fake inherits from a real port.
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
from deploytools.config.model import LambdaTarget, Smoke, Target
from deploytools.output import Reporter, Status, StepRecord
from deploytools.pipeline import AwsPolicy, Options, Ports, Run, RunPolicy, SandboxPolicy
from deploytools.steps.amplify import AmplifyPlan, AmplifyResult, JobBasis
from deploytools.steps.images import BuildImages, ImagePlan, ImageResult
from deploytools.steps.release import SsmReleases
from deploytools.steps.secrets_port import SsmSecrets
from deploytools.steps.smoke import SmokeFailed, SmokeResult
from deploytools.steps.targets import RefreshInputs, ZipPackage
from deploytools.steps.targets.base import RolledBack, TargetState
from deploytools.steps.terraform.port import TerraformInputs, TerraformOutputs

MUTATING = ("build_images", "terraform_apply", "build_zip", "refresh", "restore", "amplify")


@dataclass
class World:
    """What the fake AWS holds, and every call the fakes received (thread-safe)."""

    live: dict[str, TargetState] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    latency: float = 0.0  # seconds each refresh/restore takes
    fail: dict[str, str] = field(default_factory=dict)  # target -> "rolled_back" | "error"
    interrupt: set[str] = field(default_factory=set)  # targets whose rollout Ctrl-C stops
    build: int = 0  # bumped per deploy: a new image digest each time
    spans: list[tuple[float, float]] = field(default_factory=list)  # each refresh's start, end
    packages: dict[str, Any] = field(default_factory=dict)  # what Terraform was handed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, what: str, name: str = "") -> None:
        with self.lock:
            self.calls.append((what, name))

    def mutations(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in MUTATING]


def digest_for(name: str, build: int) -> str:
    return "sha256:" + hashlib.sha256(f"{name}-{build}".encode()).hexdigest()


def input_names(inputs: RefreshInputs) -> list[str]:
    """The inputs a refresh was handed, by name (zip_path/code_sha256 for a package)."""
    names = ["environment", "secret_arns"]
    if inputs.secret_values is not None:
        names.append("secret_values")
    if inputs.package is not None:
        names += ["code_sha256", "zip_path"]
    return sorted(names)


class FakeRefresher:
    def __init__(self, name: str, target: Target, *, world: World) -> None:
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

    def refresh(self, inputs: RefreshInputs, record: StepRecord) -> TargetState:
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
        if before is not None and inputs.image is not None and before.image == inputs.image:
            return before  # the image it runs already: nothing to do
        number = int(before.revision.rsplit(":", 1)[-1]) + 1 if before else 1
        after = TargetState(
            target=self.name,
            type=self.target.type,
            resource=self.name,
            image=inputs.image,
            revision=f"arn:fake:{self.name}:{number}",
            detail={"inputs": input_names(inputs), "secret_names": sorted(inputs.secret_arns)},
        )
        with self.world.lock:
            self.world.live[self.name] = after
        record.change(f"{self.name} revision {number}")
        if self.name in self.world.interrupt:  # the service moved; its wait is cut short
            raise KeyboardInterrupt
        return after

    def restore(self, state: TargetState, record: StepRecord) -> TargetState:
        self.world.call("restore", self.name)
        time.sleep(self.world.latency)
        if self.world.fail.get(self.name) == "error":
            raise RuntimeError(f"{self.name}: restore failed")
        with self.world.lock:
            self.world.live[self.name] = state
        if self.name in self.world.interrupt:
            raise KeyboardInterrupt
        return state


@dataclass
class FakeChecks:
    world: World
    findings: Sequence[Finding] = ()

    def run(self, config: LoadedConfig) -> list[Finding]:
        self.world.call("check")
        return list(self.findings)


@dataclass
class RecordingSecrets:
    """The real SSM secrets port, with the calls for values recorded."""

    world: World
    real: SsmSecrets = field(default_factory=SsmSecrets)

    def missing(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        return self.real.missing(aws, env)

    def check(self, aws: AwsContext, env: EnvConfig) -> None:
        self.real.check(aws, env)

    def seed(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        return self.real.seed(aws, env)

    def require_parameter(self, aws: AwsContext, name: str, *, seed: bool) -> bool:
        return self.real.require_parameter(aws, name, seed=seed)

    def arns(self, aws: AwsContext, env: EnvConfig) -> dict[str, str]:
        return self.real.arns(aws, env)

    def values(self, aws: AwsContext, env: EnvConfig, names: Sequence[str]) -> dict[str, str]:
        self.world.call("secret_values", ",".join(names))
        return self.real.values(aws, env, names)

    def nested(self, aws: AwsContext, env: EnvConfig) -> list[str]:
        return self.real.nested(aws, env)


@dataclass
class FakeImages:
    world: World

    def plan(self, aws: AwsContext, env: EnvConfig, request: BuildImages) -> list[ImagePlan]:
        self.world.call("plan_images")
        plans = []
        for name in request.names:
            repository = str(env.model.images[name].repository)
            plans.append(
                ImagePlan(
                    name=name,
                    repository=repository,
                    repository_uri=f"ecr/{name}",
                    tag="ct-next",
                    platform="linux/amd64",
                    in_ecr=False,
                    digest=digest_for(name, self.world.build + 1),
                    create_repository=False,
                )
            )
        return plans

    def build(
        self, aws: AwsContext, env: EnvConfig, request: BuildImages, *, reporter: Reporter
    ) -> list[ImageResult]:
        self.world.call("build_images", ",".join(request.names))
        self.world.build += 1
        results = []
        registry = request.registry_override or "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        for name in request.names:
            repository_uri = f"{registry}/{name}"
            digest = digest_for(name, self.world.build)
            results.append(
                ImageResult(
                    name=name,
                    repository=name,
                    repository_uri=repository_uri,
                    tag=f"c{self.world.build}",
                    digest=digest,
                    uri=f"{repository_uri}@{digest}",
                    built=True,
                    pushed=True,
                )
            )
        return results


@dataclass
class FakeTerraform:
    world: World
    outputs: Mapping[str, Any] = field(default_factory=dict)

    def apply(
        self, aws: AwsContext, env: EnvConfig, inputs: TerraformInputs, *, reporter: Reporter
    ) -> TerraformOutputs:
        self.world.packages = dict(inputs.packages)
        with reporter.step("terraform") as record:
            what = "terraform_apply" if inputs.apply else "terraform_plan"
            self.world.call(what, ",".join(inputs.images))
            record.status = Status.UNCHANGED
        return TerraformOutputs(dict(self.outputs))


@dataclass
class FakeTargets:
    world: World

    def refresher(
        self, name: str, target: Target, *, aws: AwsContext, reporter: Reporter
    ) -> FakeRefresher:
        return FakeRefresher(name, target, world=self.world)

    def package(
        self, name: str, target: LambdaTarget, *, root: Path, out: Path, record: StepRecord
    ) -> ZipPackage:
        self.world.call("build_zip", name)
        return ZipPackage(out, "c2hh", zipped_size=0, unzipped_size=0, file_count=0)


@dataclass
class FakeAmplify:
    world: World

    def plan(self, aws: AwsContext, env: EnvConfig, *, root: Path) -> AmplifyPlan:
        return AmplifyPlan("shop-dev-web", None, "create", False, (), "main", "create")

    def deploy(
        self,
        aws: AwsContext,
        env: EnvConfig,
        *,
        root: Path,
        reporter: Reporter,
        record: StepRecord,
        basis: JobBasis = JobBasis(),
    ) -> AmplifyResult:
        self.world.call("amplify")
        record.change("job 1")
        return AmplifyResult(
            app_id="d123",
            app_name="shop-dev-web",
            branch="main",
            job_id="1",
            status="SUCCEED",
            default_domain="d123.amplifyapp.com",
            url="https://main.d123.amplifyapp.com",
            platform_fixed=False,
            created=True,
        )


@dataclass
class FakeSmoke:
    world: World
    fails: bool = False

    def run(self, checks: Sequence[Smoke]) -> list[SmokeResult]:
        self.world.call("smoke", ",".join(c.url for c in checks))
        status = 503 if self.fails else 200
        results = [
            SmokeResult(
                c.url,
                c.method,
                c.expect_status,
                status,
                1,
                0.0,
                ok=not self.fails,
                reason="got 503: down" if self.fails else "",
            )
            for c in checks
        ]
        if self.fails:
            raise SmokeFailed(results)
        return results


@dataclass
class FakeClock:
    """Releases one second apart (ids sort by time), all from one commit."""

    at: datetime = datetime(2025, 10, 20, 12, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at

    def commit(self, root: Path) -> str | None:
        return "abcdef1234567890"


def fake_ports(
    world: World,
    *,
    findings: Sequence[Finding] = (),
    outputs: Mapping[str, Any] | None = None,
    smoke_fails: bool = False,
) -> Ports:
    return Ports(
        checks=FakeChecks(world, findings),
        secrets=RecordingSecrets(world),
        images=FakeImages(world),
        terraform=FakeTerraform(world, dict(outputs or {})),
        refreshers=FakeTargets(world),
        amplify=FakeAmplify(world),
        smoke=FakeSmoke(world, smoke_fails),
        releases=SsmReleases(),
        clock=FakeClock(),
    )


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
    ports: Ports,
    *,
    env: str = "dev",
    reporter: Reporter | None = None,
    sandbox: bool = False,
    missing: Mapping[str, str] | None = None,
    **options: Any,
) -> Run:
    """A run of the app at `config_path`, against AWS (moto) or, with sandbox=True, as the
    sandbox's policy sees it (`missing`: the components it lacks)."""
    config = load_config(config_path)
    policy: RunPolicy = SandboxPolicy(missing=dict(missing or {})) if sandbox else AwsPolicy()
    return Run(
        config=config,
        aws=AwsContext("us-east-1"),
        reporter=reporter or Reporter(),
        ports=ports,
        options=Options(env=env, **options),
        policy=policy,
    )
