"""Terraform's own verdict on the configured roots: `terraform init -backend=false` into a
scratch data dir, then `terraform validate -json`, each diagnostic at its file and line.

It catches what reading the files cannot: an argument a resource does not have, a required
variable of a module left unset (a missing module folder is DT000's module check's finding).
Terraform loads provider schemas for this (seconds), so validate's result is cached per
content of the Terraform files, the Terraform binary and where providers come from.
Providers come from where `terraform init` always gets them (TF_CLI_CONFIG_FILE's mirror,
TF_PLUGIN_CACHE_DIR, else the registry). Where validate cannot run (no `terraform`, a provider
it cannot get there, Terraform failing), the result says so with the reason, is never cached,
and the other rules still read the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from deploytools import proc
from deploytools.checks.base import CheckContext, Finding, Severity
from deploytools.config.interpolate import Resolver
from deploytools.errors import DeployError
from deploytools.lib.user_cache import cache_root, prune, write_atomically

RULE = "DT000"
TIMEOUT = 300.0
KEEP = 256  # cached validations; one is about 4 kB
AT = re.compile(r"\bat (?P<file>[^\s:]+\.tf(?:\.json)?):(?P<line>\d+)")
SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING}
PROVIDER_SOURCES = ("TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR")
# Init cannot get a provider from where this machine gets them: validate did not run, and the
# files are not at fault.
NO_PROVIDER = ("Failed to query available provider packages", "Failed to install provider")
# DT000's module check reports a missing module folder at its source line.
REPORTED_BY_DT000 = {"Unreadable module directory"}
INSTALL = (
    "install Terraform (https://developer.hashicorp.com/terraform/install) and put it on PATH, "
    "or pass --no-terraform-validate"
)
Diagnostic = dict[str, object]


@dataclass
class Validation:
    """Terraform's diagnostics as findings, and each root validate could not check, with why."""

    findings: list[Finding] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # one line each, "unavailable: ..."


def validate(ctx: CheckContext) -> Validation:
    result = Validation()
    config = ctx.config
    if config is None or config.model.terraform is None:
        return result
    model = config.model
    written = config.model.terraform.dir
    dirs = sorted({Resolver(model.project, env).text(written) for env in model.environments})
    roots = [(config.root / d).resolve() for d in dirs]
    roots = [r for r in roots if r.is_dir() and any(r.glob("*.tf"))]
    terraform = shutil.which("terraform")
    if terraform is None:
        if roots:
            result.not_run.append(
                f"unavailable: terraform validate: terraform is not installed; {INSTALL}"
            )
        return result
    for root in roots:
        where = ctx.rel(root) or "."
        diagnostics, failure = _diagnostics(terraform, root, ctx)
        missing = [d for d in diagnostics if str(d.get("summary")).startswith(NO_PROVIDER)]
        if missing:
            failure = _describe(missing[0])
        if failure is not None:
            result.not_run.append(f"unavailable: terraform validate on {where}: {failure}")
            continue
        for diagnostic in diagnostics:
            if diagnostic.get("summary") not in REPORTED_BY_DT000:
                result.findings.append(_finding(ctx, root, diagnostic))
    return result


def _describe(diagnostic: Diagnostic) -> str:
    detail = " ".join(str(diagnostic.get("detail", "")).split())
    return f"{str(diagnostic.get('summary', '')).rstrip('.')}: {detail}"


def _finding(ctx: CheckContext, root: Path, diagnostic: Diagnostic) -> Finding:
    summary = str(diagnostic.get("summary", "")).rstrip(".")
    detail = " ".join(str(diagnostic.get("detail", "")).split())
    file, line = _where(root, diagnostic, detail)
    message = f"terraform validate: {summary}" + (f": {detail}" if detail else "")
    return Finding(
        ctx.rel(file),
        line,
        RULE,
        message,
        fix="Correct the Terraform as the message says (terraform validate reports the same).",
        severity=SEVERITY.get(str(diagnostic.get("severity")), Severity.ERROR),
    )


def _where(root: Path, diagnostic: Diagnostic, detail: str) -> tuple[Path, int]:
    span = diagnostic.get("range")
    if isinstance(span, dict) and span.get("filename"):
        start = span.get("start") if isinstance(span.get("start"), dict) else {}
        line = int(start.get("line", 1)) if isinstance(start, dict) else 1
        return (root / str(span["filename"])).resolve(), line
    mentioned = AT.search(detail)
    if mentioned:
        return (root / mentioned["file"]).resolve(), int(mentioned["line"])
    return root / "main.tf", 1


def _fingerprint(terraform: str, root: Path, ctx: CheckContext) -> str:
    where = ctx.rel(root)
    digest = hashlib.sha256(f"{terraform}:{os.path.getmtime(terraform)}:{where}".encode())
    # Where providers come from decides whether init can install them.
    for name in PROVIDER_SOURCES:
        digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    for path in sorted(ctx.files("*.tf", "*.tf.json", ".terraform.lock.hcl")):
        digest.update(ctx.rel(path).encode() + b"\0" + ctx.read(path).encode() + b"\0")
    return digest.hexdigest()[:32]


def _cache_dir() -> Path:
    return cache_root() / "terraform-validate"


def _diagnostics(
    terraform: str, root: Path, ctx: CheckContext
) -> tuple[list[Diagnostic], str | None]:
    """Terraform's diagnostics, and why it could not run (None when it ran)."""
    cached = _cache_dir() / f"{_fingerprint(terraform, root, ctx)}.json"
    try:
        loaded: list[Diagnostic] = json.loads(cached.read_text())
        os.utime(cached)  # used: kept by _prune
        return loaded, None
    except (OSError, ValueError):
        pass
    found, cacheable = _run(terraform, root)
    if isinstance(found, str):
        return [], found
    if cacheable:
        try:
            write_atomically(cached, json.dumps(found))
            prune(cached, "*.json", KEEP)  # each change to a root's files is a new entry
        except OSError:
            pass  # a read-only home: validate runs again next time
    return found, None


def _run(terraform: str, root: Path) -> tuple[list[Diagnostic] | str, bool]:
    """The diagnostics of init (when it fails) or validate, else why Terraform could not run;
    and whether they follow from the files alone: an init that fails may fail for the network."""
    with tempfile.TemporaryDirectory(prefix="deploytools-validate-") as scratch:
        env = {"TF_DATA_DIR": scratch, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        try:
            init = proc.run(
                [terraform, f"-chdir={root}", "init", "-backend=false", "-input=false", "-json"],
                env=env, check=False, timeout=TIMEOUT,
            )  # fmt: skip
            if init.returncode != 0:
                said = _init_diagnostics(init.stdout)
                first = (init.stderr.strip().splitlines() or ["no diagnostics"])[0]
                return said or f"terraform init failed (exit {init.returncode}): {first}", False
            validate = proc.run(
                [terraform, f"-chdir={root}", "validate", "-json"],
                env=env, check=False, timeout=TIMEOUT,
            )  # fmt: skip
        except DeployError as exc:
            return f"terraform did not run ({str(exc).splitlines()[0]})", False
    try:
        report = json.loads(validate.stdout)
    except ValueError:
        return f"terraform validate -json printed no JSON (exit {validate.returncode})", False
    diagnostics = report.get("diagnostics", []) if isinstance(report, dict) else []
    return [d for d in diagnostics if isinstance(d, dict)], True


def _init_diagnostics(output: str) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for line in output.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        diagnostic = event.get("diagnostic") if isinstance(event, dict) else None
        if isinstance(diagnostic, dict) and diagnostic not in found:
            found.append(diagnostic)
    # Terraform says the same missing folder twice; keep the one that names the file and line.
    located = [d for d in found if AT.search(str(d.get("detail", "")))]
    return located or found
