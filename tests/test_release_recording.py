"""How a run's ending becomes a release's status and reason (deploy and rollback share it)."""

import signal

import pytest

from deploytools.errors import DeployError
from deploytools.interrupts import Interrupted
from deploytools.pipeline.recording import Ending
from deploytools.steps.release import Outcome


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        (Ending(), (Outcome.OK, "")),
        (Ending(simulated={"api": "no Docker engine"}), (Outcome.SIMULATED, "")),
        (
            Ending(DeployError("target api failed: boom\ndetails")),
            (Outcome.FAILED, "target api failed: boom"),
        ),
        (Ending(DeployError("")), (Outcome.FAILED, "DeployError")),
        (Ending(interrupted=KeyboardInterrupt()), (Outcome.INTERRUPTED, "interrupted (SIGINT)")),
        (
            Ending(DeployError("boom"), Interrupted(signal.SIGTERM), {"api": "why"}),
            (Outcome.INTERRUPTED, "interrupted (SIGTERM)"),
        ),
        (Ending(DeployError("boom"), simulated={"api": "why"}), (Outcome.FAILED, "boom")),
    ],
)
def test_outcome_orders_interrupted_then_failed_then_simulated(
    ending: Ending, expected: tuple[Outcome, str]
) -> None:
    assert ending.outcome() == expected
