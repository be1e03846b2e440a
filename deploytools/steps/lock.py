"""One deploy (or rollback) per environment at a time: a lock in the environment's SSM namespace.

The lock is the parameter `/deploytools/{project}/{env}/lock`, created only if absent
(PutParameter without Overwrite: ParameterAlreadyExists means another run holds it). It holds
who, where (host), when, the GitHub Actions run URL and a lock id. A lock older than
STALE_AFTER is taken over (its run died without releasing it); `--force-unlock ID` removes a
named lock sooner, as `terraform force-unlock` does.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.errors import BadInput, DeployError
from deploytools.lib.aws_errors import error_code

STALE_AFTER = timedelta(hours=2)  # longer than any deploy's waits add up to


class LockHeld(DeployError):
    """Another run holds the environment's lock (exit 1)."""


class LockMismatch(BadInput):
    """--force-unlock named a lock id that is not the one held."""


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str
    host: str
    when: str  # ISO 8601, UTC
    run_url: str | None
    command: str

    def held_since(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.when)
        except ValueError:
            return None

    def describe(self) -> str:
        where = f" ({self.run_url})" if self.run_url else ""
        return f"{self.who} on {self.host} since {self.when}{where} ({self.command}, id {self.id})"


def run_url() -> str | None:
    """This run's page in GitHub Actions; None elsewhere."""
    server, repository, run_id = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repository and run_id:
        return f"{server}/{repository}/actions/runs/{run_id}"
    return None


def whoami() -> str:
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


class EnvironmentLock:
    """The lock of one environment. `ssm` is a boto3 SSM client."""

    def __init__(
        self, ssm: Any, *, project: str, env: str, stale_after: timedelta = STALE_AFTER
    ) -> None:
        self._ssm = ssm
        self.name = f"/deploytools/{project}/{env}/lock"
        self.env = env
        self.stale_after = stale_after

    def acquire(self, *, command: str, now: datetime | None = None) -> LockInfo:
        """Take the lock, or raise LockHeld naming its holder. A stale lock is taken over."""
        mine = LockInfo(
            id=str(uuid.uuid4()),
            who=whoami(),
            host=socket.gethostname(),
            when=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
            run_url=run_url(),
            command=command,
        )
        if self._create(mine):
            return mine
        held = self.holder()
        if held is not None and not self._stale(held, mine):
            raise LockHeld(
                f"environment {self.env} is locked by {held.describe()}; wait for that run to "
                f"finish, or if it is gone: deploytools {command} --env {self.env} "
                f"--force-unlock {held.id} (locks older than {_hours(self.stale_after)} "
                "are taken over)"
            )
        # Stale, or released since: remove exactly what we read (if still there), then compete
        # again like any other run.
        if held is not None:
            self._delete_if(held.id)
        if self._create(mine):
            return mine
        raise LockHeld(
            f"environment {self.env} was locked by another run just now: "
            f"{(self.holder() or mine).describe()}"
        )

    def release(self, lock: LockInfo) -> None:
        """Remove the lock if it is still ours (a force-unlock may have taken it)."""
        self._delete_if(lock.id)

    def force_unlock(self, lock_id: str) -> LockInfo | None:
        """Remove the lock with this id; None if no lock is held."""
        held = self.holder()
        if held is None:
            return None
        if held.id != lock_id:
            raise LockMismatch(
                f"--force-unlock {lock_id}: the lock on {self.env} has id {held.id} "
                f"(held by {held.describe()}); pass that id to remove it"
            )
        self._delete_if(lock_id)
        return held

    def holder(self) -> LockInfo | None:
        try:
            raw = self._ssm.get_parameter(Name=self.name)["Parameter"]["Value"]
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise DeployError(f"cannot read the deploy lock {self.name}: {exc}") from exc
        except BotoCoreError as exc:
            raise DeployError(f"cannot read the deploy lock {self.name}: {exc}") from exc
        try:
            return LockInfo(**json.loads(raw))
        except (ValueError, TypeError):  # not ours to interpret: treat it as held since unknown
            return LockInfo("(unreadable)", "unknown", "unknown", "unknown", None, "unknown")

    def _stale(self, held: LockInfo, mine: LockInfo) -> bool:
        since, now = held.held_since(), mine.held_since()
        return since is not None and now is not None and now - since > self.stale_after

    def _create(self, lock: LockInfo) -> bool:
        try:
            self._ssm.put_parameter(
                Name=self.name,
                Value=json.dumps(asdict(lock), sort_keys=True),
                Type="String",
                Tier="Standard",
                Overwrite=False,
                Description="deploytools: one deploy of this environment at a time",
            )
            return True
        except ClientError as exc:
            if error_code(exc) == "ParameterAlreadyExists":
                return False
            raise DeployError(f"cannot take the deploy lock {self.name}: {exc}") from exc
        except BotoCoreError as exc:
            raise DeployError(f"cannot take the deploy lock {self.name}: {exc}") from exc

    def _delete_if(self, lock_id: str) -> None:
        held = self.holder()
        if held is None or held.id != lock_id:
            return
        try:
            self._ssm.delete_parameter(Name=self.name)
        except ClientError as exc:
            if error_code(exc) != "ParameterNotFound":
                raise DeployError(f"cannot release the deploy lock {self.name}: {exc}") from exc


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


class LocksPort(Protocol):
    def lock(self, aws: AwsContext, *, project: str, env: str) -> EnvironmentLock: ...


class SsmLocks:
    """Locks in the environment's SSM Parameter Store (AWS, or the sandbox's moto)."""

    def lock(self, aws: AwsContext, *, project: str, env: str) -> EnvironmentLock:
        return EnvironmentLock(aws.client("ssm"), project=project, env=env)
