"""Orders the steps for plan, deploy, status and rollback; runs independent targets at once.

The pipeline owns no AWS logic: it asks `Steps` (the step modules, or what a test injects)
and decides order, concurrency, what is skipped and why, and what is recorded.
"""

from deploytools.pipeline.context import (
    ChecksFailed,
    Options,
    ProtectedEnvironment,
    Run,
    TargetsFailed,
)
from deploytools.pipeline.deploy import DeployResult, deploy
from deploytools.pipeline.live import RollbackResult, StatusReport, Sync, rollback, status
from deploytools.pipeline.plan import PlanResult, plan
from deploytools.pipeline.seam import RealSteps, Steps, Unavailable, ZipPackage

__all__ = [
    "ChecksFailed",
    "DeployResult",
    "Options",
    "PlanResult",
    "ProtectedEnvironment",
    "RealSteps",
    "RollbackResult",
    "Run",
    "StatusReport",
    "Steps",
    "Sync",
    "TargetsFailed",
    "Unavailable",
    "ZipPackage",
    "deploy",
    "plan",
    "rollback",
    "status",
]
