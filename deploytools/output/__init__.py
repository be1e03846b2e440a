"""Everything the user sees: text, --json, GitHub Actions commands and summary, SARIF."""

from deploytools.output.mask import redact, register_secret
from deploytools.output.reporter import Reporter, Status, StepRecord

__all__ = ["Reporter", "Status", "StepRecord", "redact", "register_secret"]
