"""The deploytools.yml model: the single source of validation and of the JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
Platform = Literal["linux/amd64", "linux/arm64"]


def _json_value(value: Any) -> Any:
    """A value JSON can carry (YAML also reads dates and the like): Terraform gets it as JSON."""
    if isinstance(value, dict):
        for key, child in value.items():
            if not isinstance(key, str):
                raise ValueError(f"map keys must be strings, not {key!r}")
            _json_value(child)
    elif isinstance(value, list):
        for child in value:
            _json_value(child)
    elif value is None or not isinstance(value, str | int | float | bool):
        raise ValueError(
            "expected a string, number, boolean, list or map "
            f"(got {'null' if value is None else type(value).__name__}); quote it as a string"
        )
    return value


# Any for the type checker, checked to be JSON by the validator: lists and maps reach Terraform
# as JSON, which Terraform parses as HCL for variables of complex types.
TfValue = Annotated[
    Any,
    AfterValidator(_json_value),
    WithJsonSchema({"type": ["string", "number", "boolean", "array", "object"]}),
]


class Strict(BaseModel):
    """Unknown keys are errors; values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(Strict):
    account_id: AccountId = Field(description="The only AWS account this environment may touch.")
    protected: bool = Field(False, description="deploy needs --yes (or an environment approval).")
    region: str | None = Field(None, description="Overrides the top-level region.")


class Secrets(Strict):
    ssm_path: Annotated[str, StringConstraints(pattern=r"^/.*/$")] = Field(
        description="SSM Parameter Store path, e.g. /app/{env}/; basename = env var name."
    )
    required: list[EnvVarName] = Field(
        default_factory=list, description="Missing ones fail the deploy before any change."
    )


class Image(Strict):
    context: str = Field(".", description="Build context, relative to deploytools.yml.")
    dockerfile: str = Field("Dockerfile", description="Relative to deploytools.yml.")
    platform: Platform = "linux/amd64"
    repository: str | None = Field(None, description="ECR repository; default {project}-{name}.")
    create_repository: bool = True
    kms_key: str | None = Field(
        None, description="KMS key for a repository deploytools creates (default: AES256)."
    )
    build_args: dict[str, str] = Field(default_factory=dict)
    target: str | None = Field(None, description="Multi-stage build target.")
    cache_from: list[str] = Field(default_factory=list, description="buildx --cache-from refs.")
    cache_to: list[str] = Field(default_factory=list, description="buildx --cache-to refs.")


class Terraform(Strict):
    dir: str = Field(description="Root module; outputs are usable as {tf.<output_name>}.")
    backend_config: dict[str, str] = Field(
        default_factory=dict, description="terraform init -backend-config key=value pairs."
    )
    vars: dict[str, TfValue] = Field(
        default_factory=dict,
        description="Extra TF_VAR_* values, any JSON value (never secrets).",
    )
    var_files: list[str] = Field(
        default_factory=list,
        description="-var-file= files in order, relative to deploytools.yml; {env} allowed.",
    )


class TargetBase(Strict):
    env_from_code: list[str] = Field(
        default_factory=list, description="Paths scanned for os.getenv/os.environ names (DT003)."
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Plain (non-secret) environment variables."
    )
    secrets: list[EnvVarName] | None = Field(
        None, description="SSM parameters to inject (default: every required secret)."
    )
    timeout: int = Field(900, ge=10, le=7200, description="Seconds to wait for the rollout.")

    # The key naming the AWS resource (default {project}-{env}-{name}), and every key that
    # must be known to find the resource (plan reads a target only when these are resolved).
    RESOURCE_KEY: ClassVar[str]
    IDENTITY_KEYS: ClassVar[tuple[str, ...]]

    @property
    def resource(self) -> str:
        """The AWS resource's name ("" while the environment has not filled it in)."""
        return str(getattr(self, self.RESOURCE_KEY) or "")


class EcsTarget(TargetBase):
    RESOURCE_KEY: ClassVar[str] = "service"
    IDENTITY_KEYS: ClassVar[tuple[str, ...]] = ("service", "cluster", "container")

    type: Literal["ecs"]
    cluster: str
    service: str | None = Field(None, description="Default {project}-{env}-{name}.")
    container: str | None = Field(None, description="Default: the task's only container.")
    image: str = Field(description="A key of images:.")


class LambdaPackage(Strict):
    source: str = Field(description="Folder zipped deterministically, relative to the config.")
    excludes: list[str] = Field(default_factory=list, description="Glob patterns left out.")
    handler: str | None = None
    requirements: str | None = Field(
        None,
        description="Requirements file, relative to the config (default: the source folder's "
        "requirements.txt, else its pyproject.toml dependencies).",
    )
    runtime: Annotated[str, StringConstraints(pattern=r"^python3\.[0-9]+$")] = Field(
        "python3.12", description="The function's runtime: dependencies are installed for it."
    )
    architecture: Literal["x86_64", "arm64"] = "x86_64"


class Warmup(Strict):
    url: str | None = Field(None, description="Called until healthy; else the function is invoked.")
    method: Literal["GET", "POST", "PUT", "HEAD"] = "GET"
    body: str | None = None
    expect_status: int = Field(200, ge=100, le=599)
    budget: int = Field(180, ge=1, le=3600, description="Seconds for all attempts together.")


class LambdaTarget(TargetBase):
    RESOURCE_KEY: ClassVar[str] = "function"
    IDENTITY_KEYS: ClassVar[tuple[str, ...]] = ("function",)

    type: Literal["lambda"]
    function: str | None = Field(None, description="Default {project}-{env}-{name}.")
    image: str | None = Field(None, description="A key of images: (container image function).")
    package: LambdaPackage | None = Field(None, description="Zip package (instead of image).")
    alias: str | None = "live"
    warmup: Warmup | None = None
    secrets_in_environment: bool = Field(
        False, description="Pass secret values via the function's encrypted environment."
    )

    @model_validator(mode="after")
    def _image_xor_package(self) -> LambdaTarget:
        if (self.image is None) == (self.package is None):
            raise ValueError("a lambda target needs exactly one of 'image' or 'package'")
        return self


class EksTarget(TargetBase):
    RESOURCE_KEY: ClassVar[str] = "deployment"
    IDENTITY_KEYS: ClassVar[tuple[str, ...]] = ("deployment", "cluster", "namespace", "container")

    type: Literal["eks"]
    cluster: str
    namespace: str = "default"
    deployment: str | None = Field(None, description="Default {project}-{env}-{name}.")
    container: str | None = None
    image: str
    manifests: str | None = Field(None, description="Folder of Deployment/Service YAML, e.g. k8s/")


class BatchTarget(TargetBase):
    RESOURCE_KEY: ClassVar[str] = "job_definition"
    IDENTITY_KEYS: ClassVar[tuple[str, ...]] = ("job_definition", "job_queue")

    type: Literal["batch"]
    job_definition: str | None = Field(None, description="Default {project}-{env}-{name}.")
    image: str
    job_queue: str | None = Field(None, description="When set, a smoke job is submitted.")


Target = Annotated[EcsTarget | LambdaTarget | EksTarget | BatchTarget, Field(discriminator="type")]
# type -> model, for code that holds a target as plain data (the loader, before validation).
TARGET_MODELS: dict[str, type[TargetBase]] = {
    "ecs": EcsTarget,
    "lambda": LambdaTarget,
    "eks": EksTarget,
    "batch": BatchTarget,
}


class Amplify(Strict):
    app: str
    repository: str
    branch: str = "main"
    app_root: str = Field(
        description="Equals AMPLIFY_MONOREPO_APP_ROOT and appRoot in amplify.yml."
    )
    build_spec: str = "amplify.yml"
    environment: dict[str, str] = Field(default_factory=dict)
    access_token_parameter: str | None = Field(
        None, description="SSM parameter holding the repository access token."
    )


class Frontend(Strict):
    amplify: Amplify | None = None


class Smoke(Strict):
    url: str
    method: Literal["GET", "POST", "HEAD"] = "GET"
    expect_status: int = Field(200, ge=100, le=599)
    timeout: int = Field(60, ge=1, le=900, description="Seconds for all attempts together.")


class Waiver(Strict):
    rule: Annotated[str, StringConstraints(pattern=r"^DT[0-9]{3}$")] = Field(
        description="The rule waived, e.g. DT009."
    )
    paths: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        min_length=1, description="Globs from the repository root, e.g. infra/kms.tf, infra/**."
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="Why the finding does not apply; listed in every report."
    )


class Check(Strict):
    ignore: list[Waiver] = Field(
        default_factory=list, description="Waivers: findings of a rule in these paths, with why."
    )


class Config(Strict):
    """deploytools.yml at the app's repository root."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="deploytools.yml",
        json_schema_extra={"$id": "deploytools.yml"},
    )

    project: Name
    region: str = "us-east-1"
    environments: dict[Name, Environment] = Field(min_length=1)
    secrets: Secrets | None = None
    images: dict[Name, Image] = Field(default_factory=dict)
    terraform: Terraform | None = None
    targets: dict[Name, Target] = Field(default_factory=dict)
    frontend: Frontend | None = None
    smoke: list[Smoke] = Field(default_factory=list)
    check: Check = Field(default_factory=Check)


def json_schema() -> dict[str, object]:
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
