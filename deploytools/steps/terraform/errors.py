"""The named failures of the Terraform step."""

from __future__ import annotations

from deploytools.errors import BadInput, DeployError

INSTALL_HINT = (
    "install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install, or "
    "`apt-get install terraform` from HashiCorp's apt repository) and put it on PATH, "
    "or set DEPLOYTOOLS_TERRAFORM to the binary"
)


class TerraformNotInstalled(BadInput):
    """No terraform binary: nothing was run."""


class TerraformFailed(DeployError):
    """A terraform command failed; the message carries Terraform's own `Error:` blocks."""

    def __init__(self, command: str, diagnostics: str) -> None:
        self.command = command
        self.diagnostics = diagnostics
        super().__init__(f"terraform {command} failed:\n{diagnostics}")


class KnownTerraformFailure(TerraformFailed):
    """A failure whose cause is known (a provider the mirror lacks, a provider crash, an API
    the endpoint lacks): one line naming it and the fix instead of Terraform's text."""

    def __init__(self, command: str, summary: str, diagnostics: str) -> None:
        DeployError.__init__(self, f"terraform {command} failed: {summary}")
        self.command, self.summary, self.diagnostics = command, summary, diagnostics


class PlanTampered(DeployError):
    """The saved plan is not the one that was summarised and reviewed: apply refused."""
