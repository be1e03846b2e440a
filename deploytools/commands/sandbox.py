"""deploytools sandbox: the embedded AWS on loopback, kept running until `down`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from deploytools import proc
from deploytools.commands import App
from deploytools.errors import DeployError
from deploytools.sandbox import containers, state

NAME = "sandbox"
HELP = "start, stop or show the embedded AWS sandbox (moto, emulators, a local registry)"
START_TIMEOUT = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("up", "down", "status"), help="what to do")


def run(app: App) -> int:
    action = app.args.action
    if action == "down":
        return _down(app)
    return _report(app, ensure_running() if action == "up" else state.read())


def ensure_running() -> state.SandboxState:
    """The running sandbox, started in the background if needed."""
    running = state.read()
    if running is not None:
        return running
    folder = state.state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "sandbox.log").open("ab")
    process = proc.spawn(
        [sys.executable, "-m", "deploytools.sandbox.server"],
        stdout=log,
        stderr=log,
        stdin=proc.DEVNULL,
        start_new_session=True,  # outlives this command until `sandbox down`
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        running = state.read()
        if running is not None and running.pid == process.pid:
            return running
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise DeployError(f"the sandbox did not start; see {folder / 'sandbox.log'}")


def _down(app: App) -> int:
    running = state.read()
    if running is None:
        app.reporter.line("sandbox: not running")
    else:
        os.kill(running.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while state.read() is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        app.reporter.line(f"sandbox: stopped (pid {running.pid})")
    # Also after a sandbox that died: its workload containers carry its id.
    removed = containers.remove_labelled_everywhere()
    if removed:
        app.reporter.line(f"sandbox: removed {removed} workload container(s)")
    if app.args.json:
        app.reporter.document({"running": False})
    return 0


def _report(app: App, running: state.SandboxState | None) -> int:
    if app.args.json:
        app.reporter.document(
            {"running": False}
            if running is None
            else {
                "running": True,
                "pid": running.pid,
                "endpoints": running.endpoints,
                "registry": running.registry,
                "missing": running.missing,
                "serving": running.serving,
            }
        )
        return 0
    if running is None:
        app.reporter.line("sandbox: not running (start it with: deploytools sandbox up)")
        return 0
    app.reporter.line(f"sandbox: running (pid {running.pid})")
    app.reporter.line(f"  AWS endpoint:  export AWS_ENDPOINT_URL={running.aws_url}")
    for service, url in sorted(running.endpoints.items()):
        if url != running.aws_url:
            app.reporter.line(f"  {service:<13} {url}")
    app.reporter.line(f"  registry:      {running.registry or 'none'}")
    for what, url in sorted(running.serving.items()):
        app.reporter.line(f"  {what + ':':<14} {url}")
    for component, why in running.missing.items():
        app.reporter.line(f"  missing {component}: {why} (that step is skipped)")
    return 0
