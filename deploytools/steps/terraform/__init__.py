"""The Terraform step: init, plan to a file, a value-free summary, apply that exact file, outputs.

Use (the pipeline's side)::

    from deploytools.steps.terraform import TerraformRunner, terraform_env

    env_vars = terraform_env(aws, env="dev", images={"api": "repo@sha256:..."},
                             variables=config.terraform.vars)
    runner = TerraformRunner(tf_dir, env_vars=env_vars, reporter=reporter)
    runner.init(backend_config=config.terraform.backend_config)
    summary = runner.plan()            # PlanSummary; `deploytools plan` stops here:
    runner.discard(summary)            #   ...and deletes the plan file
    runner.apply(summary)              # deploy: applies exactly the reviewed file
    tf_outputs = runner.outputs()      # {name: value} for {tf.*} interpolation

Public API:

- ``terraform_env(aws, *, env, images, variables=None) -> dict[str, str]``: the environment
  Terraform needs. ``AWS_REGION``; the AwsContext's endpoints as ``AWS_ENDPOINT_URL`` and
  ``AWS_ENDPOINT_URL_<SERVICE>`` (the AWS provider 5.x reads the SDK's variables; when the
  context names explicit endpoints, e.g. the sandbox's, the most common one also becomes
  ``AWS_ENDPOINT_URL`` so services it does not name, such as STS or IAM, do not reach real
  AWS); its profile and credentials; ``TF_VAR_deploytools_env``; ``TF_VAR_deploytools_images``
  (JSON map image name -> ``repository@digest``); config ``terraform.vars`` as ``TF_VAR_*``.
- ``TerraformRunner(dir, *, env_vars, reporter, cli_config=None, binary=None, work_dir=None)``;
  ``BadInput`` (``TerraformNotInstalled``, with how to install) when there is no binary.
  Each method reports one step through the Reporter.

  - ``init(*, backend_config=None, backend=True)``: ``-input=false -no-color``, each pair as
    ``-backend-config=key=value`` (with ``-reconfigure``, so switching an environment's state
    key never migrates state). ``backend=False`` for validate-only runs.
  - ``plan(*, destroy=False) -> PlanSummary``: ``plan -out=<file> -detailed-exitcode``
    (0 = no changes, 2 = changes, 1 = error), then ``show -json <file>``.
  - ``apply(summary)``: refuses (``PlanTampered``) when the file's sha256 is not the one
    summarised; a plan without changes applies nothing and says so. The plan file is deleted
    afterwards.
  - ``outputs() -> dict[str, Any]``: ``output -json`` as name -> value; sensitive outputs
    are registered as secrets (masked everywhere) but returned, as interpolation needs them.
  - ``validate()``, ``discard(summary)``.
- ``PlanSummary(path, sha256, changes, has_changes, text, destroy, output_changes)`` with
  ``headline``, ``counts()``, ``by_type()``, ``as_dict()``; ``ResourceChange(address, type,
  action, actions, mode, replace_paths, changed_attributes, reason)`` with ``is_replace``;
  ``Action`` (create, update, replace, delete, forget).
- Errors: ``TerraformFailed`` (carries Terraform's own ``Error:`` blocks, trimmed and
  redacted), ``PlanTampered``, ``TerraformNotInstalled`` (a ``BadInput``).

Why the digest: Terraform rejects a saved plan when the state changed since it was made, but
a plan made with no prior state has nothing to compare with, so a swapped plan file would
apply. ``apply`` hashes the file it is about to hand to Terraform and hands over that very
copy.

Secrets: the summary holds addresses, actions and attribute *names*, never a value, so a
value marked sensitive cannot reach it; every value the plan marks sensitive (attributes,
outputs, root variables declared ``sensitive``) is also registered with
``output.mask.register_secret``, so Terraform's own error text is masked too. Plan files
(Terraform writes every planned value into them) live in ``<dir>/.terraform/deploytools/``
(git-ignored, mode 0700) and are deleted after apply or ``discard``; deploytools writes the
``show -json`` text nowhere.

Provider installation: a user's CLI config wins (``cli_config``, then a readable
``$TF_CLI_CONFIG_FILE``, then ``~/.terraformrc``). With none, Terraform installs providers
its own way, unless a mirror is asked for: ``$DEPLOYTOOLS_TF_MIRROR`` names one, or
``DEPLOYTOOLS_TF_MIRROR_SEARCH=1`` (the sandbox turns it on) searches the disk for one
(``deploytools.sandbox.tfmirror``); the runner then writes a CLI config for it.

The pipeline's view of this step is ``TerraformPort`` (``steps.terraform.port``): one call
with ``TerraformInputs`` that assembles the ``TF_VAR_deploytools_*`` inputs, runs init, plan
and apply (or discards the plan) and returns ``TerraformOutputs``.
``TF_PLUGIN_CACHE_DIR`` is honoured as Terraform always does.

State for real use: an S3 backend with locking, declared as ``backend "s3" {}`` in the root
module and filled per environment from ``terraform.backend_config`` in deploytools.yml, e.g.
``{bucket: acme-tfstate, key: tastetrend/dev.tfstate, region: us-east-1, use_lockfile:
"true"}`` (S3-native locking, Terraform >= 1.10; older versions use ``dynamodb_table``).
Plans and applies wait up to 300 s for a lock another run holds.
"""

from deploytools.steps.terraform.binary import find_terraform
from deploytools.steps.terraform.env import IMAGES_VAR, terraform_env
from deploytools.steps.terraform.errors import PlanTampered, TerraformFailed, TerraformNotInstalled
from deploytools.steps.terraform.plan import Action, PlanSummary, ResourceChange
from deploytools.steps.terraform.runner import TerraformRunner
from deploytools.steps.terraform.var_files import resolve_var_files

__all__ = [
    "IMAGES_VAR",
    "Action",
    "PlanSummary",
    "PlanTampered",
    "ResourceChange",
    "TerraformFailed",
    "TerraformNotInstalled",
    "TerraformRunner",
    "find_terraform",
    "resolve_var_files",
    "terraform_env",
]
