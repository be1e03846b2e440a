"""What a command tells the user: one line per step with its duration, in text, JSON or Actions."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TextIO

from deploytools.output import github
from deploytools.output.mask import redact


class Status(StrEnum):
    OK = "ok"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


@dataclass
class StepRecord:
    """One step's result; steps fill `changed` and `detail` as they go."""

    name: str
    status: Status = Status.OK
    seconds: float = 0.0
    summary: str = ""
    changed: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def change(self, what: str) -> None:
        self.changed.append(what)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "seconds": round(self.seconds, 3),
            "summary": self.summary,
            "changed": list(self.changed),
            "detail": self.detail,
        }


class Reporter:
    """Thread-safe: concurrent targets report through the same instance."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        verbose: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.actions = github.in_actions()
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        self._lock = threading.Lock()
        self.steps: list[StepRecord] = []

    @property
    def human(self) -> TextIO:
        """Human lines go to stdout, or to stderr when stdout carries the JSON document."""
        return self._err if self.json_mode else self._out

    def line(self, text: str) -> None:
        with self._lock:
            print(redact(text), file=self.human, flush=True)

    def info(self, text: str) -> None:
        self.line(text)

    def debug(self, text: str) -> None:
        if self.verbose:
            self.line(text)

    def warn(self, text: str, *, file: str | None = None, line: int | None = None) -> None:
        if self.actions:
            github.annotation("warning", redact(text), file=file, line=line, stream=self.human)
        else:
            self.line(f"warning: {text}")

    def progress(self, text: str) -> None:
        """For long waits: a line now and then, so the user sees it is alive."""
        self.line(f"  … {text}")

    @contextmanager
    def step(self, name: str) -> Iterator[StepRecord]:
        record = StepRecord(name)
        if self.actions:
            github.group(name, self.human)
        start = time.monotonic()
        try:
            yield record
        except BaseException as exc:
            record.status = Status.FAILED
            if not record.summary:
                record.summary = (str(exc).splitlines() or ["failed"])[0]
            raise
        finally:
            record.seconds = time.monotonic() - start
            if self.actions:
                github.endgroup(self.human)
            self.add(record)

    def add(self, record: StepRecord) -> None:
        """A step that ran elsewhere (e.g. a worker thread): recorded, and its one line printed."""
        with self._lock:
            self.steps.append(record)
        self.line(self._step_line(record))

    @staticmethod
    def _step_line(record: StepRecord) -> str:
        mark = {"ok": "✓", "unchanged": "=", "skipped": "-", "failed": "✗", "rolled_back": "↺"}
        summary = f"  {record.summary}" if record.summary else ""
        return f"{mark[record.status.value]} {record.name:<28} {record.seconds:6.1f}s{summary}"

    def document(self, doc: dict[str, Any]) -> None:
        """The one JSON document on stdout (--json), with secrets redacted."""
        with self._lock:
            print(redact(json.dumps(doc, indent=2, default=str)), file=self._out, flush=True)

    def steps_document(self, **extra: Any) -> dict[str, Any]:
        return {**extra, "steps": [s.as_dict() for s in self.steps]}

    def summary(self, title: str) -> None:
        """The Markdown step table in $GITHUB_STEP_SUMMARY (Actions only)."""
        if not self.actions:
            return
        rows = [[s.name, s.status.value, f"{s.seconds:.1f}s", s.summary] for s in self.steps]
        table = github.markdown_table(["step", "result", "time", "summary"], rows)
        try:
            github.write_summary(redact(f"### {title}\n\n{table}"))
        except OSError as exc:  # the run itself succeeded or failed already; only the table is lost
            path = os.environ.get("GITHUB_STEP_SUMMARY", "")
            reason = exc.strerror or str(exc)
            self.warn(f"cannot write the step summary to {path} ($GITHUB_STEP_SUMMARY): {reason}")
