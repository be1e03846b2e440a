"""A signal (as a CI cancel sends it, to the whole process group) stops worker threads too:
concurrent image builds running commands, and rollout polls sleeping between looks. Python
delivers signals to the main thread only; these run a driver process, signal its group, and
check it exits 128 + the signal promptly with no child left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Each item's command records its pid, then runs until signalled (it exits on SIGINT).
COMMANDS = """
import io, sys, threading
from pathlib import Path
from deploytools import interrupts, proc
from deploytools.steps.images.concurrency import run_each

interrupts.install()
pids = Path(sys.argv[1])
CHILD = (
    "import os, sys, time; from pathlib import Path; "
    "Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(600)"
)

def build(name):
    proc.run([sys.executable, "-c", CHILD, str(pids / name)])
    return name

try:
    outcomes = run_each(["api", "worker", "trainer"], build)
    print("finished", outcomes, flush=True)
except KeyboardInterrupt as exc:
    print("interrupted", interrupts.signal_number(exc), flush=True)
    sys.exit(128 + interrupts.signal_number(exc))
"""

# Two rollouts polling at once, each due to look again only in 60 s.
POLLS = """
import sys
from deploytools import interrupts
from deploytools.lib.retry import Backoff
from deploytools.pipeline.targets import concurrently

interrupts.install()
SLOW = Backoff(first=60.0, factor=1.0, cap=60.0, attempts=None)

def poll(name):
    for _ in SLOW.ticks(3600):
        pass
    return name

print("polling", flush=True)
try:
    concurrently(["api", "web"], poll, max_workers=2)
    print("finished", flush=True)
except KeyboardInterrupt as exc:
    sys.exit(128 + interrupts.signal_number(exc))
"""


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so killpg below is a CI cancel
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def _wait_for(paths: list[Path], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() and p.read_text() for p in paths):
        assert time.monotonic() < deadline, f"not started: {paths}"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_concurrent_builds_and_their_commands(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # Three images, at most 16 at once: all three commands run in worker threads.
    driver = _start(COMMANDS, str(tmp_path))
    files = [tmp_path / name for name in ("api", "worker", "trainer")]
    _wait_for(files)
    pids = [int(f.read_text()) for f in files]
    started = time.monotonic()
    os.killpg(driver.pid, signum)
    assert driver.wait(timeout=30) == 128 + signum
    assert time.monotonic() - started < 10
    assert driver.stdout is not None
    assert driver.stdout.read() == f"interrupted {int(signum)}\n"
    assert [pid for pid in pids if _alive(pid)] == [], "a build's command was left running"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cuts_short_rollout_polls_in_worker_threads(signum: signal.Signals) -> None:
    driver = _start(POLLS)
    assert driver.stdout is not None
    assert driver.stdout.readline() == "polling\n"
    time.sleep(0.5)  # both workers are inside their 60 s sleep
    started = time.monotonic()
    os.killpg(driver.pid, signum)
    assert driver.wait(timeout=30) == 128 + signum
    assert time.monotonic() - started < 5, "the polls slept on after the signal"


def test_a_command_started_after_the_signal_does_not_run(tmp_path: Path) -> None:
    """A worker between two commands when the signal comes starts no further one."""
    code = """
import sys, threading, time
from pathlib import Path
from deploytools import interrupts, proc
from deploytools.steps.images.concurrency import run_each

interrupts.install()
marker = Path(sys.argv[1])

def build(name):
    if name == "slow":
        interrupts.sleep(600)
    time.sleep(1.0 if name == "late" else 0)  # a worker busy in Python when it comes
    proc.run(["touch", str(marker)])
    return name

print("ready", flush=True)
try:
    run_each(["slow", "late"], build)
except KeyboardInterrupt as exc:
    sys.exit(128 + interrupts.signal_number(exc))
"""
    marker = tmp_path / "ran"
    driver = _start(code, str(marker))
    assert driver.stdout is not None
    assert driver.stdout.readline() == "ready\n"
    time.sleep(0.3)
    os.killpg(driver.pid, signal.SIGINT)
    assert driver.wait(timeout=30) == 130
    assert not marker.exists()


def test_further_signals_escalate_to_a_worker_command_that_ignores_the_first(
    tmp_path: Path,
) -> None:
    """A command still finishing its work (Terraform writing its state ignores the first
    SIGINT's urgency): a second SIGINT is forwarded, a third kills its process group."""
    code = """
import sys
from pathlib import Path
from deploytools import interrupts, proc
from deploytools.steps.images.concurrency import run_each

interrupts.install()
pids = Path(sys.argv[1])
STUBBORN = (
    "import os, signal, sys, time; from pathlib import Path; "
    "signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(600)"
)

def build(name):
    proc.run([sys.executable, "-c", STUBBORN, str(pids / name)])

try:
    run_each(["api", "web"], build)
except KeyboardInterrupt as exc:
    interrupts.settle()  # as the CLI's exit point does
    sys.exit(128 + interrupts.signal_number(exc))
"""
    driver = _start(code, str(tmp_path))
    files = [tmp_path / "api", tmp_path / "web"]
    _wait_for(files)
    pids = [int(f.read_text()) for f in files]
    for _ in range(2):
        os.killpg(driver.pid, signal.SIGINT)
        time.sleep(0.5)
        assert driver.poll() is None, "the driver did not wait for its commands"
        assert all(_alive(pid) for pid in pids)
    os.killpg(driver.pid, signal.SIGINT)
    assert driver.wait(timeout=30) == 130
    assert [pid for pid in pids if _alive(pid)] == []
    assert driver.stderr is not None
    assert driver.stderr.read() == ""  # no traceback from threads joined at exit


def test_a_signal_starts_no_queued_target(tmp_path: Path) -> None:
    """More targets than workers: those still queued when the signal comes never start."""
    code = """
import sys
from pathlib import Path
from deploytools import interrupts
from deploytools.pipeline.targets import concurrently

interrupts.install()
started = Path(sys.argv[1])

def refresh(name):
    (started / name).write_text("started")
    interrupts.sleep(600)

print("ready", flush=True)
try:
    concurrently(["a", "b", "c", "d"], refresh, max_workers=2)
except KeyboardInterrupt as exc:
    sys.exit(128 + interrupts.signal_number(exc))
"""
    driver = _start(code, str(tmp_path))
    assert driver.stdout is not None
    assert driver.stdout.readline() == "ready\n"
    _wait_for([tmp_path / "a", tmp_path / "b"])
    os.killpg(driver.pid, signal.SIGTERM)
    assert driver.wait(timeout=30) == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
