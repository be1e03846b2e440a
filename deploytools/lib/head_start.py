"""A head start: the command a run will need, started when the process starts.

A no-op deploy spends most of its own time before `terraform plan`: imports, the guards, the
lock, ECR lookups (0.6-1 s), while the plan waits. When the last run of the same command line
in the same folder recorded the exact command it ran (argv, working folder, the environment it
added), that command starts at once, before anything heavy is imported. When the run reaches
the point where it would start the command, it asks for it by its exact argv, folder and
environment (`result_for`): only an identical command's result is handed over. Anything else
(other inputs, a refusal before that point, an interrupt) kills it, and the run does what it
always did. What makes an early result safe to use is the caller's to decide (for Terraform:
steps/terraform/head_start_plan.py).

A recipe holds no secret: the sandbox's fake keys are kept as placeholders, and a caller
records nothing whose environment carries other credentials. Each process records at most
one recipe and takes at most one head start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from deploytools.lib.sandbox_credentials import SANDBOX_CREDENTIALS
from deploytools.lib.terraform_sandbox_backend import OVERRIDE_FILE, sandbox_backend
from deploytools.lib.user_cache import cache_root, prune, write_atomically

WORK = "{work}"  # the head start's private folder, in argv, environment and file names
CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
SANDBOX_KEYS = dict(zip(CREDENTIAL_VARS, SANDBOX_CREDENTIALS, strict=True))
PLACEHOLDERS = {name: "{" + name + "}" for name in CREDENTIAL_VARS}  # a recipe's sandbox keys
KEPT_RECIPES = 64
OFF_SWITCH = "DEPLOYTOOLS_HEAD_START"
KEYED_VARS = frozenset({"PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "DOCKER_HOST"})
KEYED_PREFIXES = ("DEPLOYTOOLS_", "TF_", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION")
FORMAT = 1
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Recipe:
    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]  # added to the process's environment; WORK for the private folder
    files: Mapping[str, str]  # written into the private folder first: name -> text
    sandbox: tuple[str, str] | None  # (root, state folder) of the sandbox backend it needs


class HeadStart:
    """One process's head start: its recipe key, private folder and the early command."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._work: Path | None = None
        self._recipe: Recipe | None = None
        self._child: subprocess.Popen[str] | None = None
        self._output: tuple[str, str] = ("", "")
        self._reader: threading.Thread | None = None
        self._backend = ExitStack()
        self._backend_env: dict[str, str] = {}
        self._environ: dict[str, str] = {}  # the process's environment the command got
        self._recorded = False

    @property
    def work_dir(self) -> Path:
        """Private (0700), removed at the process's end; plan files may hold secrets."""
        if self._work is None:
            self._work = Path(tempfile.mkdtemp(prefix="deploytools-head-start-"))
        return self._work

    @property
    def running(self) -> bool:
        return self._child is not None

    # -- at start-up ---------------------------------------------------------------------

    def start(self) -> bool:
        """Start the recorded command, when there is one and what it needs is in place."""
        recipe = _load(self.key)
        if recipe is None or not _ready(recipe):
            return False
        work = str(self.work_dir)
        try:
            for name, text in recipe.files.items():
                write_atomically(self.work_dir / name, text)  # 0600, in a 0700 folder
            if recipe.sandbox is not None:
                root, state = recipe.sandbox
                self._backend_env = self._backend.enter_context(
                    sandbox_backend(Path(root), Path(state))
                )
            self._environ = dict(os.environ)
            env = {**self._environ, **_filled(recipe.env, work)}
            self._child = subprocess.Popen(
                [_fill(a, work) for a in recipe.argv],
                cwd=recipe.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                process_group=0,  # a Ctrl-C in the terminal is ours to pass on, not its
            )
        except Exception:  # a head start only saves time: it never fails the run
            self.cancel()
            return False
        self._recipe = recipe
        child = self._child
        self._reader = threading.Thread(
            target=self._read, args=(child,), name="head-start", daemon=True
        )
        self._reader.start()
        return True

    def _read(self, child: subprocess.Popen[str]) -> None:
        with contextlib.suppress(Exception):
            out, err = child.communicate()
            self._output = (out or "", err or "")

    # -- when the run gets there ---------------------------------------------------------

    def sandbox_backend(
        self, root: Path, state_dir: Path | None
    ) -> tuple[ExitStack, dict[str, str]] | None:
        """The sandbox backend set up at start and its environment, handed over when it is
        this one (the caller closes the stack); any other, or none wanted, cancels."""
        held = self._recipe.sandbox if self._recipe and self.running else None
        if held is None or state_dir is None or held != (str(root), str(state_dir)):
            if held is not None:
                self.cancel()
            return None
        stack, self._backend = self._backend, ExitStack()
        return stack, self._backend_env

    def result_for(
        self, argv: Sequence[str], *, cwd: Path | str, env: Mapping[str, str]
    ) -> subprocess.CompletedProcess[str] | None:
        """The early command's result when it is exactly this command; else None (killed)."""
        recipe, child = self._recipe, self._child
        if recipe is None or child is None:
            return None
        work = str(self.work_dir)
        same = (
            [_fill(a, work) for a in recipe.argv] == list(argv)
            and recipe.cwd == str(cwd)
            and _filled(recipe.env, work) == dict(env)
            and self._environ == dict(os.environ)  # the run would add to the same environment
            and all(_text(self.work_dir / n) == t for n, t in recipe.files.items())
        )
        if not same:
            self.cancel()
            return None
        self._child = None
        assert self._reader is not None
        while self._reader.is_alive():  # in steps: an interrupt is not held up by the join
            self._reader.join(0.1)
        out, err = self._output
        return subprocess.CompletedProcess(list(argv), child.returncode, out, err)

    def remember(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str,
        env: Mapping[str, str],
        sandbox: tuple[Path, Path] | None,
    ) -> bool:
        """Record the command this run ran, for the next run of the same command line."""
        if self._recorded:
            return False
        self._recorded = True
        work = str(self.work_dir)
        kept = dict(env)
        for name, value in SANDBOX_KEYS.items():
            if kept.get(name) == value:
                kept[name] = PLACEHOLDERS[name]
        if any(kept.get(name, mark) != mark for name, mark in PLACEHOLDERS.items()):
            return False  # real credentials never go to disk
        files = {}
        for value in kept.values():
            if value.startswith(work + os.sep) and os.path.isfile(value):
                files[os.path.relpath(value, work)] = Path(value).read_text()
        recipe = Recipe(
            argv=tuple(_hollow(a, work) for a in argv),
            cwd=str(cwd),
            env={k: _hollow(v, work) for k, v in kept.items()},
            files=files,
            sandbox=(str(sandbox[0]), str(sandbox[1])) if sandbox else None,
        )
        _save(self.key, recipe)
        return True

    # -- at the end ----------------------------------------------------------------------

    def cancel(self) -> None:
        """Kill the early command and take back what it set up; idempotent."""
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if self._reader is not None:
            self._reader.join(5)
        self._backend.close()

    def end(self) -> None:
        self.cancel()
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


_current: HeadStart | None = None


def current() -> HeadStart | None:
    """This process's head start; None when the process did not begin one (a test's main)."""
    return _current


def begin(argv: Sequence[str], *, version: str) -> HeadStart | None:
    """At process start: the session for this command line, its recorded command started.
    DEPLOYTOOLS_HEAD_START=0 turns head starts off (nothing is started or recorded)."""
    global _current
    if os.environ.get(OFF_SWITCH) == "0":
        return None
    setting = sorted((k, v) for k, v in os.environ.items() if _keyed(k))
    key = hashlib.sha256(json.dumps([FORMAT, version, os.getcwd(), list(argv), setting]).encode())
    _current = HeadStart(key.hexdigest()[:32])
    _current.start()
    return _current


def _keyed(name: str) -> bool:
    """The settings that choose what a run does, none of them secret: another value is
    another recipe (a shell with another profile or terraform binary keeps its own)."""
    if name.startswith("TF_VAR_"):
        return False  # a root's inputs may be secrets; they reach the plan's own comparison
    return name in KEYED_VARS or name.startswith(KEYED_PREFIXES)


def end() -> None:
    global _current
    head, _current = _current, None
    if head is not None:
        head.end()


def _folder() -> Path:
    return cache_root() / "head-start"


def _load(key: str) -> Recipe | None:
    path = _folder() / f"{key}.json"
    try:
        data = json.loads(path.read_text())
        os.utime(path)  # used now: the prune keeps the recipes used last, not written last
        sandbox = data["sandbox"]
        return Recipe(
            argv=tuple(data["argv"]),
            cwd=data["cwd"],
            env=dict(data["env"]),
            files=dict(data["files"]),
            sandbox=(sandbox[0], sandbox[1]) if sandbox else None,
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _save(key: str, recipe: Recipe) -> None:
    folder = _folder()
    path = folder / f"{key}.json"
    doc = {
        "argv": list(recipe.argv),
        "cwd": recipe.cwd,
        "env": dict(recipe.env),
        "files": dict(recipe.files),
        "sandbox": list(recipe.sandbox) if recipe.sandbox else None,
    }
    with contextlib.suppress(OSError):
        write_atomically(path, json.dumps(doc, indent=1, sort_keys=True))
        prune(path, "*.json", KEPT_RECIPES)


def _ready(recipe: Recipe) -> bool:
    """Its program and folder exist, its sandbox backend is free, and the loopback endpoints
    it talks to answer (a stopped sandbox would keep the AWS provider retrying)."""
    if not recipe.argv or not os.access(recipe.argv[0], os.X_OK) or not os.path.isdir(recipe.cwd):
        return False
    if recipe.sandbox is not None and Path(recipe.sandbox[0], OVERRIDE_FILE).exists():
        return False
    for name, value in recipe.env.items():
        if name.startswith("AWS_ENDPOINT_URL") and not _answers(value):
            return False
    return True


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    if parts.hostname not in _LOOPBACK:
        return True  # a remote endpoint: not worth a round trip here
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=0.2):
            return True
    except OSError:
        return False


def _fill(text: str, work: str) -> str:
    return text.replace(WORK, work)


def _filled(env: Mapping[str, str], work: str) -> dict[str, str]:
    keys = {PLACEHOLDERS[name]: value for name, value in SANDBOX_KEYS.items()}
    return {k: keys.get(v, _fill(v, work)) for k, v in env.items()}


def _hollow(text: str, work: str) -> str:
    return text.replace(work, WORK)


def _text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
