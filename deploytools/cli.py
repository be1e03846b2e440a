"""The face: parse arguments, dispatch to a command module, print, and exit. Nothing else."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from deploytools import __version__, interrupts
from deploytools.commands import COMMANDS, App
from deploytools.errors import ConfigError, DeployError, ExitCode
from deploytools.lib import endpoints
from deploytools.output import Reporter, redact
from deploytools.output.mask import RedactingFilter

DESCRIPTION = (
    "Push-to-deploy for containerized ML and web apps on AWS: build for linux/amd64, push to "
    "ECR, run Terraform, refresh ECS/EKS/Lambda/Batch, create the Amplify app, inject SSM "
    "secrets, and roll back what fails."
)


def add_global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    """The shared flags, accepted before or after the subcommand."""

    # In subcommands, SUPPRESS keeps a flag given before the subcommand from being reset.
    def default(value: object) -> object:
        return argparse.SUPPRESS if in_subcommand else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--config",
        metavar="PATH",
        default=default(None),
        help="deploytools.yml to use (default: ./deploytools.yml)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="more detail; tracebacks on errors",
    )
    group.add_argument("--region", default=default(None), help="AWS region (default: config)")
    group.add_argument("--profile", default=default(None), help="AWS named profile")
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=default(os.environ.get("DEPLOYTOOLS_SANDBOX") == "1"),
        help="talk to the embedded AWS sandbox instead of AWS (also: DEPLOYTOOLS_SANDBOX=1)",
    )
    group.add_argument(
        "--json", action="store_true", default=default(False),
        help="print one JSON document on stdout and nothing else there",
    )  # fmt: skip


def command_modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"deploytools.commands.{name}") for name in COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deploytools", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"deploytools {__version__}")
    add_global_options(parser, in_subcommand=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in command_modules().items():
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        add_global_options(sub, in_subcommand=True)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The one exit point: every outcome, expected or not, becomes a message and an exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    _configure_logging(args.verbose)
    interrupts.install()
    reporter = Reporter(json_mode=args.json, verbose=args.verbose)
    app = App(args=args, reporter=reporter)
    try:
        code = int(args.handler(app))
        sys.stdout.flush()  # a closed pipe surfaces here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except ConfigError as exc:  # one "error:" line per problem, each naming file and line
        return _fail(reporter, "\nerror: ".join(exc.problems), exc.exit_code, args.verbose)
    except DeployError as exc:  # Unavailable included: the message says what to install
        if args.verbose:
            _print_failures(exc)
        message = endpoints.explained(str(exc), exc)
        return _fail(reporter, message, exc.exit_code, args.verbose)
    except KeyboardInterrupt as exc:  # cleanup ran as it propagated
        interrupts.settle()
        signum = interrupts.signal_number(exc)
        return _fail(reporter, f"interrupted ({signal.Signals(signum).name})", 128 + signum, False)
    except Exception as exc:  # a bug or an unwrapped library error: one line, never raw
        return _internal_error(reporter, exc, args.verbose)


def run() -> NoReturn:
    """The process's entry point (the `deploytools` script, `python -m deploytools`): main,
    then exit without the interpreter's last garbage collections. Those walk every object
    the run made (0.1-0.2 s after a deploy) and have nothing of ours to do: files are closed
    by then and atexit handlers still run. `main` alone is what tests call in-process.

    First, before the heavy imports, the head start: the `terraform plan` the last run of
    this command line ran starts now, and the run takes its result only if its own plan is
    exactly that one on the same state (lib/head_start.py)."""
    from deploytools.lib import head_start

    head_start.begin(sys.argv[1:], version=__version__)
    try:
        code = main()
    finally:
        head_start.end()
    gc.freeze()
    sys.exit(code)


def _internal_error(reporter: Reporter, exc: Exception, verbose: bool) -> int:
    text = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    if not verbose:
        message += " (run with --verbose for the traceback)"
    return _fail(reporter, f"internal error: {message}", ExitCode.FAILED, verbose)


def _broken_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as Python's documentation recommends.

    stdout now points at /dev/null, so the flush at the interpreter's exit has nowhere to fail.
    """
    try:
        stdout = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return int(ExitCode.FAILED)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stdout)
    os.close(devnull)
    return int(ExitCode.FAILED)


def _fail(reporter: Reporter, message: str, code: int, verbose: bool) -> int:
    if verbose:
        print(redact(traceback.format_exc()), file=sys.stderr)
    text = redact(message)
    if reporter.actions:
        from deploytools.output import github

        github.annotation("error", text, stream=sys.stderr)
    print(f"error: {text}", file=sys.stderr)
    if reporter.json_mode:
        try:
            reporter.document(
                {"ok": False, "exit_code": int(code), "error": text, **_steps(reporter)}
            )
        except BrokenPipeError:
            return _broken_pipe()
    return int(code)


def _print_failures(exc: DeployError) -> None:
    """Each concurrent target's own traceback (raised in a worker thread, kept for this)."""
    import traceback

    for name, failure in getattr(exc, "failures", ()):
        text = "".join(traceback.format_exception(failure))
        print(redact(f"target {name}:\n{text}"), file=sys.stderr)


def _steps(reporter: Reporter) -> dict[str, object]:
    return {"steps": [s.as_dict() for s in reporter.steps]}


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for noisy in ("botocore", "boto3", "urllib3", "docker"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
