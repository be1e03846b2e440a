"""A signal during `terraform apply` (as a CI cancel sends it, to the whole process group)
stops Terraform gracefully: the state file stays intact, nothing keeps running, plan files are
removed, and the run exits 128 + the signal number."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.terraform

DRIVER = """
import io, sys
from pathlib import Path
from deploytools import interrupts
from deploytools.output import Reporter
from deploytools.steps.terraform import TerraformRunner

interrupts.install()
root = Path(sys.argv[1])
runner = TerraformRunner(root, env_vars={}, reporter=Reporter(out=io.StringIO()),
                         binary=sys.argv[2])
print(runner.work_dir, flush=True)
try:
    runner.init()
    summary = runner.plan()
    print("applying", flush=True)
    runner.apply(summary)
except KeyboardInterrupt as exc:
    runner.close()
    sys.exit(interrupts.signal_number(exc) + 128)
"""

MAIN = """
resource "terraform_data" "a" { input = "a" }
"""
SLOW = """
resource "terraform_data" "b" {
  input = "b"
  depends_on = [terraform_data.a]
  provisioner "local-exec" { command = "sleep 3" }
}
"""


def _run_driver(root: Path, binary: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(root), str(binary)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so killpg below is a CI cancel
    )


def _terraform_running(root: Path) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if "terraform" in cmdline and cwd == str(root):
            found.append(cmdline)
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_apply_leaves_the_state_intact(
    tmp_path: Path, terraform_bin: Path, terraform_cli_config: Path, signum: signal.Signals
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(MAIN)
    first = _run_driver(root, terraform_bin)
    assert first.wait(timeout=120) == 0
    (root / "main.tf").write_text(MAIN + SLOW)

    driver = _run_driver(root, terraform_bin)
    assert driver.stdout is not None
    work_dir = Path(driver.stdout.readline().strip())
    assert driver.stdout.readline().strip() == "applying"
    time.sleep(1.5)  # inside the provisioner's sleep: Terraform is mid-apply
    os.killpg(driver.pid, signum)
    assert driver.wait(timeout=120) == 128 + signum

    state = json.loads((root / "terraform.tfstate").read_text())
    names = {r["name"] for r in state["resources"]}
    assert "a" in names, state  # what the earlier apply made is still in the state
    assert _terraform_running(root) == []
    assert not work_dir.exists(), "the plan files (which can hold secrets) were left behind"
