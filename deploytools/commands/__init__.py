"""One module per subcommand; each has NAME, HELP, add_arguments(parser) and run(app) -> int."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from deploytools.errors import BadInput
from deploytools.lib.sandbox_credentials import SANDBOX_CREDENTIALS
from deploytools.output import Reporter

if TYPE_CHECKING:  # boto3 loads only for the commands that talk to AWS; pydantic (the
    # config model) only for those that read a config: `--help` needs neither
    from deploytools.aws import AwsContext
    from deploytools.checks.base import CheckContext
    from deploytools.config import EnvConfig, LoadedConfig

COMMANDS = (
    "check", "plan", "deploy", "rollback", "status", "releases", "build", "secrets", "matrix",
    "sandbox", "schema",
)  # fmt: skip


def add_env(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--env", required=required, metavar="ENV", help="environment (a key of environments:)"
    )


def add_only(parser: argparse.ArgumentParser, what: str = "targets") -> None:
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", default=None, help=f"limit to these {what}"
    )


@dataclass
class App:
    """What a command needs: its arguments, the reporter, and lazily the config and AWS."""

    args: argparse.Namespace
    reporter: Reporter
    _aws: dict[str, AwsContext] = field(default_factory=dict)

    @cached_property
    def config(self) -> LoadedConfig:
        from deploytools.config import load_config

        return load_config(self.args.config)

    def env_config(self, tf_outputs: dict[str, Any] | None = None) -> EnvConfig:
        return self.config.for_env(self.args.env, tf_outputs)

    def check_context(self) -> CheckContext:
        from deploytools.checks.repository import repository_context

        return repository_context(self.args.config)

    def aws(self, env: EnvConfig) -> AwsContext:
        from deploytools.aws import AwsContext

        region = self.args.region or env.region
        # In the sandbox, each environment acts in its own account (as its config says).
        key = f"{region}/{env.environment.account_id}" if self.args.sandbox else region
        if key not in self._aws:
            if self.args.sandbox:
                from deploytools.sandbox.accounts import sandbox_context

                self._aws[key] = sandbox_context(
                    region,
                    self.sandbox_endpoints(),
                    SANDBOX_CREDENTIALS,
                    env.environment.account_id,
                )
            else:
                self._aws[key] = AwsContext(region, self.args.profile)
        return self._aws[key]

    def sandbox_endpoints(self) -> dict[str, str]:
        from deploytools.sandbox import state

        running = state.read()
        if running is None:
            raise BadInput("the sandbox is not running; start it with: deploytools sandbox up")
        return running.endpoints
