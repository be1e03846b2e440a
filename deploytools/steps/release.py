"""The release record: what each deploy (or rollback) left running, in SSM Parameter Store.

Layout under `/deploytools/{project}/{env}/`:

    releases/{id}        the release as compact JSON (String, Standard tier) when it fits in
                         4 KB; otherwise {"parts": n} and the JSON split over
                         releases/{id}.1 … releases/{id}.n (Standard tier stays free; Advanced
                         costs per parameter and still caps at 8 KB)

Every parameter is created only if absent and never rewritten, and the history is the listing
of `releases/` (GetParametersByPath): no shared index is read, modified and written back, so
concurrent writers cannot drop each other's release. Ids sort by time; the newest is `latest`.

Values are never secret: secret values registered with the output mask are redacted before
writing, as a safety net, and a release only ever holds names, digests, ARNs and revisions.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from deploytools import proc
from deploytools.aws import AwsContext
from deploytools.errors import BadInput, DeployError, Unavailable
from deploytools.lib.aws_errors import error_code
from deploytools.output import redact

CHUNK = 4096  # Standard tier's limit, in bytes; the JSON is ASCII so characters are bytes
KEEP_RELEASES = 50  # older ones are deleted; Standard tier allows 10,000 parameters a region
SCHEMA_VERSION = 1
_SHA = re.compile(r"^[0-9a-f]{40}$")


class ReleaseNotFound(BadInput):
    """No release with that id is recorded for the environment."""


class ReleaseUnreadable(DeployError):
    """A release parameter exists but does not hold a release document."""


class Kind(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"  # some targets may run the new version, some the old: see `targets`
    INTERRUPTED = "interrupted"  # a signal stopped the run: `changes` names what was done
    SIMULATED = "simulated"  # the sandbox ran none, or not all, of the workloads: see `simulated`


@dataclass(frozen=True)
class Release:
    """One deploy or rollback. `targets` maps a target name to its TargetState.as_dict()."""

    id: str
    project: str
    env: str
    created: str  # ISO 8601, UTC
    kind: Kind = Kind.DEPLOY
    status: Outcome = Outcome.OK
    reason: str = ""
    git_sha: str | None = None
    who: dict[str, str | None] = field(default_factory=dict)  # caller_arn, github_actor
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> uri, digest, tag
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    amplify: dict[str, Any] | None = None  # app_id, branch, job_id, status
    tf_outputs: dict[str, Any] = field(default_factory=dict)  # only those the config names
    rollback_of: str | None = None  # for a rollback: the release it restored
    changes: list[str] = field(default_factory=list)  # what this run changed, one line each
    simulated: dict[str, str] = field(default_factory=dict)  # target -> why it was not run
    smoke: list[str] = field(default_factory=list)  # the checks this run passed (smoke_key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "project": self.project,
            "env": self.env,
            "created": self.created,
            "kind": self.kind.value,
            "status": self.status.value,
            "reason": self.reason,
            "git_sha": self.git_sha,
            "who": dict(self.who),
            "images": self.images,
            "targets": self.targets,
            "amplify": self.amplify,
            "tf_outputs": self.tf_outputs,
            "rollback_of": self.rollback_of,
            "changes": list(self.changes),
            "simulated": self.simulated,
            "smoke": list(self.smoke),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Release:
        return cls(
            id=data["id"],
            project=data["project"],
            env=data["env"],
            created=data["created"],
            kind=Kind(data.get("kind", "deploy")),
            status=Outcome(data.get("status", "ok")),
            reason=data.get("reason", ""),
            git_sha=data.get("git_sha"),
            who=dict(data.get("who") or {}),
            images=dict(data.get("images") or {}),
            targets=dict(data.get("targets") or {}),
            amplify=data.get("amplify"),
            tf_outputs=dict(data.get("tf_outputs") or {}),
            rollback_of=data.get("rollback_of"),
            changes=[str(c) for c in data.get("changes") or []],
            simulated=dict(data.get("simulated") or {}),
            smoke=[str(c) for c in data.get("smoke") or []],
        )

    def short(self) -> str:
        label = f"{self.id} ({self.kind.value}"
        if self.rollback_of:
            label += f" to {self.rollback_of}"
        if self.status is not Outcome.OK:
            label += f", {self.status.value}"
        return label + ")"


def new_release_id(*, now: datetime, git_sha: str | None, suffix: str | None = None) -> str:
    """r-YYYYMMDDTHHMMSSmmmZ-<gitsha7>-<random>: sorts by time (to the millisecond), and the
    random suffix keeps two runs of one commit in the same millisecond apart."""
    moment = now.astimezone(UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z"
    return f"r-{stamp}-{(git_sha or 'nogit')[:7]}-{suffix or secrets.token_hex(3)}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def deployed_commit(root: Path) -> str | None:
    """The commit being deployed: HEAD, when tracked files are as it has them (else no commit
    names the code); GITHUB_SHA when git cannot say (no git, no repository).

    Untracked files are not considered: CI workspaces often hold generated files. Images
    are tagged with it and the release records it.
    """
    try:
        head = proc.run(["git", "rev-parse", "HEAD"], cwd=root, check=False, timeout=30)
    except (BadInput, Unavailable):  # git is not installed
        head = None
    sha = head.stdout.strip() if head is not None and head.returncode == 0 else ""
    if not _SHA.match(sha):
        sha = os.environ.get("GITHUB_SHA", "")
        return sha if _SHA.match(sha) else None
    status = proc.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, check=False, timeout=60
    )
    if status.returncode != 0 or status.stdout.strip():
        return None
    return sha


def caller_arn(aws: Any) -> str | None:
    """Who is deploying, as STS sees it; None if STS will not say (never fatal here)."""
    try:
        return str(aws.caller_identity()["Arn"])
    except (ClientError, BotoCoreError):
        return None


def who(caller_arn: str | None) -> dict[str, str | None]:
    return {"caller_arn": caller_arn, "github_actor": os.environ.get("GITHUB_ACTOR")}


class ReleaseStore:
    """Reads and writes one environment's releases. `ssm` is a boto3 SSM client."""

    def __init__(self, ssm: Any, *, project: str, env: str, keep: int = KEEP_RELEASES) -> None:
        self._ssm = ssm
        self.prefix = f"/deploytools/{project}/{env}"
        self.project = project
        self.env = env
        self.keep = max(keep, 2)  # rollback needs at least the current and one before

    # reading

    def history(self) -> list[Release]:
        """Every kept release, oldest first, from one listing of `releases/`."""
        values = self._list(f"{self.prefix}/releases")
        releases = []
        for name in sorted(values):
            if not _is_head(name):
                continue
            releases.append(self._decode(name, values[name], values))
        return releases

    def ids(self) -> list[str]:
        """Kept release ids, oldest first."""
        return [release.id for release in self.history()]

    def current_id(self) -> str | None:
        ids = self.ids()
        return ids[-1] if ids else None

    def current(self) -> Release | None:
        """The latest release: the newest in the listing."""
        history = self.history()
        return history[-1] if history else None

    def get(self, release_id: str) -> Release:
        name = self._name(release_id)
        raw = self._get(name)
        if raw is None:
            kept = ", ".join(self.ids()[-5:]) or "none yet"
            raise ReleaseNotFound(
                f"release {release_id} is not recorded for {self.project}/{self.env} "
                f"(latest: {kept}); see deploytools releases"
            )
        return self._decode(name, raw, {})

    def previous(self, before: str | None = None) -> Release | None:
        """The newest successful release older than `before` (default: the current one).

        Failed and interrupted releases are skipped: rolling back means returning to a state
        that worked.
        """
        history = self.history()
        ids = [r.id for r in history]
        before = before or (ids[-1] if ids else None)
        if before in ids:
            history = history[: ids.index(before)]
        return next((r for r in reversed(history) if r.status is Outcome.OK), None)

    # writing

    def write(self, release: Release) -> Release:
        """Store `release` under a new id (created only if absent), then prune old ones.

        The id is moved past the latest one when this machine's clock is behind the one that
        wrote it, so `latest` stays the last one written.
        """
        ids = self.ids()
        if ids and release.id <= ids[-1]:
            release = replace(release, id=_after(ids[-1], release.id))
        for _ in range(5):
            try:
                written = self._create(release)
                break
            except _Taken:  # another run took this id: draw a new random suffix
                release = replace(release, id=_with_new_suffix(release.id))
        else:
            raise DeployError(f"cannot write the release record {self._name(release.id)}: taken")
        self._prune()
        return written

    def _create(self, release: Release) -> Release:
        text = redact(json.dumps(release.as_dict(), sort_keys=True, separators=(",", ":")))
        name = self._name(release.id)
        if len(text) <= CHUNK:
            self._put(name, text)
            return release
        parts = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]
        for index, part in enumerate(parts, start=1):  # parts first: the head makes it listed
            self._put(f"{name}.{index}", part)
        self._put(name, json.dumps({"parts": len(parts)}))
        return release

    def _prune(self) -> None:
        ids = self.ids()
        for old in ids[: -self.keep]:
            self._delete(old)

    # SSM

    def _name(self, release_id: str) -> str:
        return f"{self.prefix}/releases/{release_id}"

    def _decode(self, name: str, raw: str, listed: Mapping[str, str]) -> Release:
        try:
            data = json.loads(raw)
            if set(data) == {"parts"}:
                numbers = range(1, data["parts"] + 1)
                data = json.loads("".join(self._part(name, i, listed) for i in numbers))
            return Release.from_dict(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise ReleaseUnreadable(f"{name} does not hold a release document: {exc}") from exc

    def _part(self, name: str, index: int, listed: Mapping[str, str]) -> str:
        raw = listed.get(f"{name}.{index}") or self._get(f"{name}.{index}")
        if raw is None:
            raise ReleaseUnreadable(f"{name}: part {index} is missing")
        return raw

    def _get(self, name: str) -> str | None:
        try:
            return str(self._ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise DeployError(f"cannot read the release record {name}: {exc}") from exc

    def _list(self, path: str) -> dict[str, str]:
        """Name -> value of every parameter directly under `path`, every page."""
        values: dict[str, str] = {}
        try:
            pages = self._ssm.get_paginator("get_parameters_by_path").paginate(
                Path=path, Recursive=False
            )
            for page in pages:
                for parameter in page["Parameters"]:
                    values[parameter["Name"]] = parameter["Value"]
        except (ClientError, BotoCoreError) as exc:
            raise DeployError(f"cannot list the release records under {path}: {exc}") from exc
        return values

    def _put(self, name: str, value: str) -> None:
        try:
            self._ssm.put_parameter(
                Name=name, Value=value, Type="String", Tier="Standard", Overwrite=False
            )
        except ClientError as exc:
            if error_code(exc) == "ParameterAlreadyExists":
                raise _Taken(name) from exc
            raise DeployError(f"cannot write the release record {name}: {exc}") from exc

    def _delete(self, release_id: str) -> None:
        name = self._name(release_id)
        names = [name]
        raw = self._get(name)
        if raw and raw.startswith('{"parts"'):
            parts = int(json.loads(raw)["parts"])
            names += [f"{name}.{i}" for i in range(1, parts + 1)]
        for start in range(0, len(names), 10):  # DeleteParameters takes at most 10 names
            self._ssm.delete_parameters(Names=names[start : start + 10])


class _Taken(Exception):
    """A parameter this write would create exists already."""


_PART = re.compile(r"\.\d+$")


def _is_head(name: str) -> bool:
    return _PART.search(name) is None


_STAMP = re.compile(r"^r-(\d{8}T\d{9})Z-")
_STAMP_FORMAT = "%Y%m%dT%H%M%S%f"


def _after(latest: str, release_id: str) -> str:
    """`release_id` re-stamped one millisecond after `latest` (same commit and suffix)."""
    found, mine = _STAMP.match(latest), _STAMP.match(release_id)
    if found is None or mine is None:  # an id of another shape: leave the order to time
        return release_id
    moment = datetime.strptime(found.group(1) + "000", _STAMP_FORMAT) + timedelta(milliseconds=1)
    stamp = moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}"
    return f"r-{stamp}Z-{release_id[mine.end() :]}"


def _with_new_suffix(release_id: str) -> str:
    return release_id.rsplit("-", 1)[0] + "-" + secrets.token_hex(3)


class ReleasesPort(Protocol):
    """What the pipeline asks of the release step."""

    def store(self, aws: AwsContext, *, project: str, env: str) -> ReleaseStore: ...

    def caller(self, aws: AwsContext) -> str | None:
        """Who is deploying (the STS caller's ARN), for the record."""
        ...


class SsmReleases:
    """Releases in the environment's SSM Parameter Store."""

    def store(self, aws: AwsContext, *, project: str, env: str) -> ReleaseStore:
        return ReleaseStore(aws.client("ssm"), project=project, env=env)

    def caller(self, aws: AwsContext) -> str | None:
        return caller_arn(aws)
