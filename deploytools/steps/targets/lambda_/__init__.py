"""Lambda functions: new code (container image by digest, or a deterministic zip), a published
version, the alias moved to it, a warm-up within API Gateway's limit, and the alias moved back
when the warm-up fails.

Terraform creates the function and its alias wiring; deploytools owns the code that runs.
Callers should reach the function through the alias: updating the code changes `$LATEST` at
once, and only the alias is protected by the warm-up and the rollback. When an integration,
event source mapping or function URL invokes the unqualified function (`lambda_callers`),
the deploy says so, and the rollback and the warm-up's undo put `$LATEST`'s code back too.
A version is published only when no published one has the same code and configuration.

Zip packages up to 50 MB (zipped) go in the API call; larger ones need the `code_bucket` input
(an S3 bucket in the function's region, e.g. a Terraform output), where the zip is uploaded
as `deploytools/<function>/<sha256>.zip` first.

The modules: `api` (one function's calls, retries and waits), `live` (what runs now),
`drift` (whether it already runs what is asked), `updates` (new code and configuration on
$LATEST), `versions` (publishing, the alias, $LATEST put back), `warming` (the warm-up) and
`refresher` (the target, composing them).
"""

from deploytools.steps.targets.lambda_.api import LATEST, LambdaUpdateFailed
from deploytools.steps.targets.lambda_.refresher import Refresher
from deploytools.steps.targets.lambda_.updates import PUSH_FIX, ImageNotInEcr

__all__ = ["LATEST", "PUSH_FIX", "ImageNotInEcr", "LambdaUpdateFailed", "Refresher"]
