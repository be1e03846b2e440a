"""Orders the steps for plan, deploy, status and rollback; runs independent targets at once.

The pipeline owns no AWS logic: it asks each step's port (`Ports`, the step modules or what a
test injects) and decides order, concurrency, what is skipped and why, and what is recorded.
Where the run goes (AWS, or the sandbox) is one `RunPolicy` on the run.
"""

from deploytools.pipeline.context import (
    ChecksFailed,
    Options,
    ProtectedEnvironment,
    Run,
    TargetsFailed,
)
from deploytools.pipeline.deploy import deploy
from deploytools.pipeline.deploy_result import DeployResult
from deploytools.pipeline.plan import PlanResult, plan
from deploytools.pipeline.policy import AwsPolicy, RunPolicy, SandboxPolicy
from deploytools.pipeline.ports import Ports, real_ports
from deploytools.pipeline.rollback import RollbackResult, rollback
from deploytools.pipeline.status import StatusReport, Sync, history, status

__all__ = [
    "AwsPolicy",
    "ChecksFailed",
    "DeployResult",
    "Options",
    "PlanResult",
    "Ports",
    "ProtectedEnvironment",
    "RollbackResult",
    "Run",
    "RunPolicy",
    "SandboxPolicy",
    "StatusReport",
    "Sync",
    "TargetsFailed",
    "deploy",
    "history",
    "plan",
    "real_ports",
    "rollback",
    "status",
]
