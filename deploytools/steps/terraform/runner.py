"""TerraformRunner: init, plan to a file, summarise, apply exactly that file, read outputs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from deploytools import proc
from deploytools.errors import BadInput
from deploytools.lib import head_start
from deploytools.output import Reporter, Status
from deploytools.output.mask import redact, register_secret
from deploytools.steps.terraform import head_start_plan, init_state, known_failures
from deploytools.steps.terraform import plan as planlib
from deploytools.steps.terraform.binary import find_terraform
from deploytools.steps.terraform.cliconfig import CLI_CONFIG_ENV, resolve_cli_config
from deploytools.steps.terraform.diagnostics import error_blocks
from deploytools.steps.terraform.errors import KnownTerraformFailure, PlanTampered, TerraformFailed
from deploytools.steps.terraform.head_start_plan import EarlyPlan
from deploytools.steps.terraform.plan import PlanSummary
from deploytools.steps.terraform.region import refuse_mismatch, region_variables
from deploytools.steps.terraform.state_outputs import local_state_path, read_outputs

HEARTBEAT_SECONDS = 30.0
LOCK_TIMEOUT = "300s"  # wait for a state lock held by another run instead of failing at once
BASE_ENV = {
    "TF_IN_AUTOMATION": "1",  # no "run terraform apply next" hints in the output
    "TF_INPUT": "0",
    "CHECKPOINT_DISABLE": "1",  # no version check calls home
}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _private_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _keep(path: Path) -> None:
    """A caller's work_dir is the caller's to remove."""


class TerraformRunner:
    """Runs terraform in one root module; see the package docstring for the whole story."""

    def __init__(
        self,
        dir: Path | str,
        *,
        env_vars: Mapping[str, str],
        reporter: Reporter,
        cli_config: Path | None = None,
        binary: Path | str | None = None,
        work_dir: Path | None = None,
        sandbox_backend: tuple[Path, Path] | None = None,
    ) -> None:
        self.dir = Path(dir)
        if not self.dir.is_dir():
            raise BadInput(f"terraform directory {self.dir} does not exist")
        self.binary = find_terraform(binary)
        self.reporter = reporter
        # (root, state folder) of the sandbox backend the root runs with: a head start
        # sets it up again for the next run's early plan.
        self.sandbox_backend = sandbox_backend
        self.head = head_start.current()
        if work_dir is None and self.head is not None:
            work_dir = self.head.work_dir  # the head start's own: its plan file is there
        if work_dir is None:
            # Plan files hold every planned value, secrets included: a private folder outside
            # the user's code, removed when the runner is closed (or collected, or at exit).
            work_dir = Path(tempfile.mkdtemp(prefix="deploytools-terraform-"))
            self._cleanup = weakref.finalize(self, _remove_tree, work_dir)
        else:
            work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._cleanup = weakref.finalize(self, _keep, work_dir)
        self.work_dir = work_dir
        given = env_vars.get(CLI_CONFIG_ENV)  # a config named in env_vars counts as explicit
        if cli_config is None and given and Path(given).is_file():
            cli_config = Path(given)
        config = resolve_cli_config(cli_config, work_dir=self.work_dir, environ=env_vars)
        self.cli_config = config
        self.env = {**BASE_ENV, **env_vars}
        if config is not None:
            self.env[CLI_CONFIG_ENV] = str(config)
        self.region = self.env.get("AWS_REGION", "")
        if self.region:
            self.env.update(region_variables(self.dir, self.region, self.env))

    def close(self) -> None:
        """Remove the private folder of plan files (a no-op for a caller's work_dir)."""
        self._cleanup()

    def __enter__(self) -> TerraformRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands -------------------------------------------------------------------------

    def init(
        self, *, backend_config: Mapping[str, str] | None = None, backend: bool = True
    ) -> None:
        """`terraform init`; `backend_config` become `-backend-config=k=v` (not secrets)."""
        args = ["init", "-input=false", "-no-color"]
        if not backend:
            args.append("-backend=false")
        elif backend_config:
            # The full backend config is given on every run, so switching it (another env's
            # state key) must not try to migrate state from the previous one.
            args.append("-reconfigure")
            args += [f"-backend-config={key}={value}" for key, value in backend_config.items()]
        environ = {**os.environ, **self.env}
        fingerprint = init_state.fingerprint(
            self.dir, env=environ, args=args, cli_config=self.cli_config
        )
        with self.reporter.step("terraform init") as record:
            record.summary = str(self.dir)
            if init_state.is_current(self.dir, env=environ, value=fingerprint):
                record.status = Status.UNCHANGED
                record.summary += " (providers, modules and backend up to date: skipped)"
                return
            init_state.forget(self.dir, env=environ)
            if self.head is not None:  # init changes what an early plan ran with
                self.head.cancel()
            self._run("init", args)
            # Computed again: init has just written what the fingerprint also reads (the
            # module manifest, a new lock file).
            fingerprint = init_state.fingerprint(
                self.dir, env=environ, args=args, cli_config=self.cli_config
            )
            init_state.record(self.dir, env=environ, value=fingerprint)

    def validate(self) -> None:
        with self.reporter.step("terraform validate") as record:
            self._run("validate", ["validate", "-no-color"])
            record.summary = str(self.dir)

    def plan(
        self,
        *,
        destroy: bool = False,
        var_files: Sequence[Path] = (),
        targets: Sequence[str] = (),
    ) -> PlanSummary:
        """Plan to a file and summarise it; the summary carries the file's sha256.

        `var_files` become `-var-file=` arguments in their order (a later file wins), as
        resolve_var_files returns them; the plan file then holds their values for apply.
        """
        path = self.work_dir / f"plan-{uuid.uuid4().hex[:12]}.tfplan"
        args = [
            "plan", "-input=false", "-no-color", "-detailed-exitcode",
            f"-lock-timeout={LOCK_TIMEOUT}", f"-out={path}",
        ]  # fmt: skip
        args += [f"-var-file={file}" for file in var_files]
        args += [f"-target={address}" for address in targets]  # only these, and what they need
        if destroy:
            args.append("-destroy")
        with self.reporter.step("terraform plan") as record:
            result = self._early_plan(args, path)
            early = result is not None
            if result is None:
                # -detailed-exitcode: 0 no changes, 1 error, 2 changes present.
                result = self._run("plan", args, ok_codes=(0, 2), heartbeat="planning")
                self._remember_plan(args)
            has_changes = result.returncode == 2
            digest = sha256_of(path)
            changes: tuple[planlib.ResourceChange, ...] = ()
            outputs: tuple[str, ...] = ()
            if has_changes:  # with no changes there is nothing to summarise: skip `show`
                changes, outputs = self._show(path, digest)
            text = planlib.render(
                changes, has_changes=has_changes, destroy=destroy, outputs=outputs
            )
            summary = PlanSummary(
                path=path,
                sha256=digest,
                changes=changes,
                has_changes=has_changes,
                text=text,
                destroy=destroy,
                output_changes=outputs,
            )
            record.summary = summary.headline
            # A plan changes nothing; the apply records what it changed.
            record.detail = {"terraform_plan": summary.as_dict()}
            if early:
                record.summary += " (planned from the process's start: same inputs, same state)"
                record.detail["head_start"] = True
            if not has_changes:
                record.status = Status.UNCHANGED
        for line in text.splitlines()[1:]:
            self.reporter.line(f"    {line}")
        return summary

    def _early_plan(
        self, args: Sequence[str], path: Path
    ) -> subprocess.CompletedProcess[str] | None:
        if self.head is None:
            return None
        with self._heartbeat("planning"):
            return head_start_plan.take(self.head, self._as_early(self.head, args), path)

    def _remember_plan(self, args: Sequence[str]) -> None:
        if self.head is not None:
            head_start_plan.remember(
                self.head, self._as_early(self.head, args), self.sandbox_backend
            )

    def _as_early(self, head: head_start.HeadStart, args: Sequence[str]) -> EarlyPlan:
        argv = [str(self.binary), *head_start_plan.early_args(args, head.work_dir)]
        return EarlyPlan(argv, self.dir, self.env, self._local_state())

    def _local_state(self) -> Path | None:
        return local_state_path(self.dir, {**os.environ, **self.env})

    def apply(self, summary: PlanSummary) -> None:
        """Apply exactly the reviewed plan file; refuse one whose sha256 changed since."""
        with self.reporter.step("terraform apply") as record:
            if not summary.has_changes:
                record.status = Status.UNCHANGED
                record.summary = "no changes: nothing to apply"
                self._discard(summary.path)
                return
            data = self._verified(summary)
            # Terraform reads the copy we just hashed, so the file cannot change in between.
            private = self.work_dir / f"apply-{uuid.uuid4().hex[:12]}.tfplan"
            _private_file(private, data)
            try:
                self._run(
                    "apply",
                    ["apply", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
                     str(private)],
                    heartbeat="applying",
                )  # fmt: skip
            finally:
                # The plan file holds every planned value, secrets included: keep it no longer.
                self._discard(private)
                self._discard(summary.path)
            record.summary = summary.headline.replace("Plan:", "Applied:", 1)
            record.changed.extend(f"{c.action.value} {c.address}" for c in summary.changes)

    def outputs(self) -> dict[str, Any]:
        """The root's outputs as name -> value; sensitive values become secrets. Read from the
        state file on the local backend, else from `terraform output -json`."""
        with self.reporter.step("terraform output") as record:
            raw = self._state_outputs()
            if raw is None:
                result = self._run("output", ["output", "-json", "-no-color"])
                raw = json.loads(result.stdout or "{}")
            values: dict[str, Any] = {}
            for name, output in raw.items():
                value = output.get("value")
                if output.get("sensitive"):
                    for secret in planlib.sensitive_strings(value):
                        register_secret(secret)
                values[name] = value
            record.summary = f"{len(values)} outputs"
            record.detail = {"terraform_outputs": sorted(values)}
        return values

    def _state_outputs(self) -> dict[str, Any] | None:
        path = self._local_state()
        return None if path is None else read_outputs(path)

    def _show(
        self, path: Path, digest: str
    ) -> tuple[tuple[planlib.ResourceChange, ...], tuple[str, ...]]:
        """`show -json` of the plan file: its changes, and its sensitive values registered."""
        try:
            shown = self._run("show", ["show", "-json", "-no-color", str(path)])
            if sha256_of(path) != digest:
                raise PlanTampered(f"the plan file {path} changed while it was summarised")
        except BaseException:
            self._discard(path)
            raise
        data = json.loads(shown.stdout)
        self._check_format(data)
        planlib.register_sensitive(data)
        try:
            refuse_mismatch(data, expected=self.region, root=self.dir)
        except BadInput:
            self._discard(path)
            raise
        return planlib.resource_changes(data), planlib.output_changes(data)

    def discard(self, summary: PlanSummary) -> None:
        """Delete a plan that will not be applied (it holds planned values, secrets too)."""
        self._discard(summary.path)

    # -- helpers --------------------------------------------------------------------------

    def _verified(self, summary: PlanSummary) -> bytes:
        try:
            data = summary.path.read_bytes()
        except OSError as exc:
            raise PlanTampered(
                f"the reviewed plan file {summary.path} is gone ({exc.strerror}); "
                "run plan again and review the new summary"
            ) from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != summary.sha256:
            raise PlanTampered(
                f"refusing to apply {summary.path}: it changed after it was reviewed "
                f"(sha256 {digest[:12]}…, reviewed {summary.sha256[:12]}…); "
                "run plan again and review the new summary"
            )
        return data

    @staticmethod
    def _check_format(data: Mapping[str, Any]) -> None:
        version = str(data.get("format_version", "1.0"))
        if version.split(".")[0] != "1":
            raise TerraformFailed(
                "show", f"unsupported plan JSON format_version {version} (this tool reads 1.x)"
            )

    @staticmethod
    def _discard(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def _run(
        self,
        command: str,
        args: Sequence[str],
        *,
        ok_codes: Sequence[int] = (0,),
        heartbeat: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        with self._heartbeat(heartbeat):
            result = proc.run([str(self.binary), *args], cwd=self.dir, env=self.env, check=False)
        if result.returncode not in ok_codes:
            diagnostics = error_blocks(result.stderr, result.stdout)
            known = known_failures.summarise(
                f"{result.stderr}\n{result.stdout}",
                emulated=known_failures.emulated_endpoints(self.env),
            )
            if known:
                raise KnownTerraformFailure(command, redact(known), diagnostics)
            raise TerraformFailed(command, diagnostics)
        return result

    @contextlib.contextmanager
    def _heartbeat(self, what: str | None) -> Iterator[None]:
        """A progress line every HEARTBEAT_SECONDS while terraform works, so CI sees life."""
        if what is None:
            yield
            return
        done = threading.Event()
        start = time.monotonic()

        def beat() -> None:
            while not done.wait(HEARTBEAT_SECONDS):
                self.reporter.progress(f"terraform still {what} ({time.monotonic() - start:.0f}s)")

        thread = threading.Thread(target=beat, name="terraform-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
