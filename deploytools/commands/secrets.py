"""deploytools secrets: list, export or exec with the environment's SSM parameters.

list    names, types, versions, last-modified (never values; nothing is decrypted)
export  --format github: append to $GITHUB_ENV, each value masked first
        --format dotenv|json: print the values on stdout (only when asked by name)
exec    -- CMD [ARGS...]: run CMD with the secrets in its environment; nothing on disk
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from deploytools import proc
from deploytools.commands import App, add_env
from deploytools.errors import BadInput, ExitCode
from deploytools.output import github

if TYPE_CHECKING:  # the step loads the AWS SDK; `--help` must not
    from deploytools.steps import secrets as ssm_secrets

log = logging.getLogger(__name__)
NAME = "secrets"
HELP = "list, export or exec with the environment's secrets from SSM Parameter Store"
ACTIONS = {
    "list": "names, types, versions and last-modified of the parameters; never values",
    "export": "export the values: --format github (to $GITHUB_ENV, masked) | dotenv | json",
    "exec": "run -- CMD [ARGS...] with the secrets in its environment (nothing on disk)",
}
SAFE_DOTENV = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:@+,")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Sub-commands, so that `exec --env ENV -- CMD ...` parses: a positional REMAINDER next to
    # the action would swallow --env.
    from deploytools.cli import add_global_options  # the CLI imports this module lazily

    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in ACTIONS.items():
        sub = actions.add_parser(name, help=help_text, description=help_text)
        add_env(sub)
        if name == "export":
            sub.add_argument(
                "--format", choices=("github", "dotenv", "json"), default=None,
                help="github appends to $GITHUB_ENV (masked); dotenv and json print the "
                "values on stdout, so they must be asked for by name",
            )  # fmt: skip
        if name == "exec":
            sub.add_argument(
                "cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]",
                help="the command to run; its exit code is returned",
            )  # fmt: skip
        add_global_options(sub, in_subcommand=True)


def run(app: App) -> int:
    from deploytools.steps import secrets as ssm_secrets

    action = app.args.action
    command = list(getattr(app.args, "cmd", None) or [])
    if command[:1] == ["--"]:
        command = command[1:]
    if action == "exec" and not command:
        raise BadInput("secrets exec needs a command: deploytools secrets exec --env ENV -- CMD")
    env = app.env_config()
    ssm_secrets.ssm_path(env)  # a clear error when there is no secrets: section
    aws = app.aws(env)
    aws.assert_account(env.environment.account_id, env=env.env)
    if action == "list":
        return _list(app, aws, env)
    if action == "export":
        return _export(app, aws, env)
    return _exec(app, aws, env, command)


def _list(app: App, aws: Any, env: Any) -> int:
    from deploytools.steps import secrets as ssm_secrets

    infos = ssm_secrets.list_parameters(aws, env)
    present = {i.name for i in infos}
    missing = [n for n in ssm_secrets.required_names(env) if n not in present]
    path = ssm_secrets.ssm_path(env)
    nested = ssm_secrets.nested_parameters(aws, env)
    if app.args.json:
        app.reporter.document(
            {
                "path": path,
                "parameters": [i.as_dict() for i in infos],
                "missing": missing,
                "ignored_nested": nested,
            }
        )
        return ExitCode.OK
    line = app.reporter.line
    line(f"{path}  ({len(infos)} parameter(s))")
    if infos:
        line(f"  {'NAME':<32} {'TYPE':<13} {'VERSION':>7}  LAST MODIFIED")
    for info in infos:
        modified = info.last_modified.isoformat(timespec="seconds") if info.last_modified else "-"
        line(f"  {info.name:<32} {info.type:<13} {info.version:>7}  {modified}")
    for name in missing:
        line(f"  {name:<32} missing (required): {ssm_secrets.put_parameter_command(path + name)}")
    if nested:
        line(f"ignored (in sub-paths, not variables): {', '.join(nested)}")
    return ExitCode.OK


def _resolved(aws: Any, env: Any) -> ssm_secrets.SecretSet:
    from deploytools.steps import secrets as ssm_secrets

    found = ssm_secrets.resolve_secrets(aws, env)
    if found.missing:
        raise ssm_secrets.MissingSecrets(found.missing, ssm_secrets.ssm_path(env))
    return found


def _export(app: App, aws: Any, env: Any) -> int:
    fmt = getattr(app.args, "format", None)
    if fmt is None:
        raise BadInput(
            "secrets export needs --format github|dotenv|json: github appends to $GITHUB_ENV "
            "(masked); dotenv and json print secret values on stdout"
        )
    if fmt == "github" and not os.environ.get("GITHUB_ENV"):
        raise BadInput(
            "--format github appends to the file named by $GITHUB_ENV, which is not set "
            "(it is set inside GitHub Actions); use 'secrets exec' to run a command locally"
        )
    values = _resolved(aws, env).values()
    if fmt == "github":
        for name, value in values.items():
            # register_secret has already masked each value in Actions; mask again in case
            # this runs with GITHUB_ENV set but GITHUB_ACTIONS unset (a self-hosted wrapper).
            if github.in_actions():
                github.add_mask(value)
            github.set_env(name, value)
        app.reporter.line(f"exported {len(values)} secret(s) to $GITHUB_ENV: {', '.join(values)}")
        return ExitCode.OK
    # The values are the requested output: written raw, not through the redacting reporter.
    if fmt == "json":
        sys.stdout.write(json.dumps(values, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write("".join(f"{n}={dotenv_value(v)}\n" for n, v in values.items()))
    sys.stdout.flush()
    return ExitCode.OK


def dotenv_value(value: str) -> str:
    """Quote for dotenv: bare when safe, single quotes when literal, else escaped doubles."""
    if value and all(c in SAFE_DOTENV for c in value):
        return value
    if "'" not in value and "\n" not in value and "\r" not in value:
        return f"'{value}'"
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _exec(app: App, aws: Any, env: Any, command: list[str]) -> int:
    values = _resolved(aws, env).values()
    # Logged, not printed: the child's stdout is the user's (e.g. piped to a file).
    log.debug("exec with secrets %s", ", ".join(values))
    try:
        # Inherits stdin/stdout/stderr: the child owns the terminal, like chamber exec.
        child = proc.run(command, env=values, check=False, capture=False)
    except PermissionError as exc:
        raise BadInput(f"{command[0]}: permission denied") from exc
    # A child killed by a signal is reported the way a shell does: 128 + signal number.
    return child.returncode if child.returncode >= 0 else 128 - child.returncode
