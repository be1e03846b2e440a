"""The exceptions the library raises; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # an operation failed, a deploy that was rolled back included
    BAD_INPUT = 2  # arguments, config, missing files, wrong account
    CHECK_FINDINGS = 3


class DeployError(Exception):
    """An operation failed; the message says why."""

    exit_code = ExitCode.FAILED


class BadInput(DeployError):
    """The user's input (arguments, config, files) is wrong; nothing was changed."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(BadInput):
    """deploytools.yml is invalid; carries one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class Unavailable(DeployError):
    """A tool or service a step needs is missing on this machine; the message says how to
    install it. Not a BadInput: the user's files are fine, the machine is not ready.

    Against AWS this stops the run; in the sandbox the policy may skip the step and name it.
    """

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, what: str, how: str) -> None:
        self.what = what
        self.how = how
        super().__init__(f"{what} is not available: {how}")


class AccountMismatch(BadInput):
    """The credentials belong to another AWS account than the environment names."""


class CommandFailed(DeployError):
    """A subprocess exited non-zero."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        self.args_ = args
        self.returncode = returncode
        self.stderr = stderr
        tail = "\n".join(stderr.strip().splitlines()[-20:])
        super().__init__(f"{args[0]} exited with {returncode}: {' '.join(args)}\n{tail}")


class CommandTimedOut(DeployError):
    """A subprocess ran past its timeout and was killed."""

    def __init__(self, args: list[str], timeout: float) -> None:
        self.args_ = args
        self.timeout = timeout
        super().__init__(f"{args[0]} did not finish within {timeout:g} s: {' '.join(args)}")
