"""Step 5: the Amplify Hosting app for a Next.js SSR frontend in a monorepo.

The app (found by name across every page of ListApps) runs on platform WEB_COMPUTE with
AMPLIFY_MONOREPO_APP_ROOT = app_root = appRoot in the build spec, the build spec from the file
and the environment from the config; its branch is a Next.js SSR branch with auto-build off,
because the deploy starts a RELEASE job itself and waits for it. An app found on platform WEB
(static hosting: every SSR route is a 404) is moved to WEB_COMPUTE, and the run says so. A wrong
build spec or config is refused before any change. The repository access token
(`frontend.amplify.access_token_parameter`) is read by the caller's reader, registered as a
secret, and never in config.

`desired` holds what the config wants, `reconcile` the app and branch, `job` the RELEASE job,
`deploy` the whole deploy; the build spec itself is parsed by deploytools.lib.amplify_buildspec.
"""

from __future__ import annotations

from deploytools.steps.amplify.api import AmbiguousApp, AmplifyApiError, find_app
from deploytools.steps.amplify.deploy import (
    AccessTokenMissing,
    AccessTokenReader,
    AccessTokenUnreadable,
    AmplifyResult,
    DeployOptions,
    JobBasis,
    LastJob,
    deploy_amplify,
)
from deploytools.steps.amplify.desired import (
    AmplifyNotConfigured,
    BuildSpec,
    BuildSpecProblem,
    DesiredApp,
    UnresolvedOutputs,
    amplify_config,
    desired_app,
    read_build_spec,
)
from deploytools.steps.amplify.job import (
    POLLING,
    AmplifyJobFailed,
    AmplifyTimeout,
    Polling,
    console_url,
)
from deploytools.steps.amplify.reconcile import FRAMEWORK, PLATFORM, AmplifyPlan, plan_amplify

__all__ = [
    "FRAMEWORK",
    "PLATFORM",
    "POLLING",
    "AccessTokenMissing",
    "AccessTokenReader",
    "AccessTokenUnreadable",
    "AmbiguousApp",
    "AmplifyApiError",
    "AmplifyJobFailed",
    "AmplifyNotConfigured",
    "AmplifyPlan",
    "AmplifyResult",
    "AmplifyTimeout",
    "BuildSpec",
    "BuildSpecProblem",
    "DeployOptions",
    "DesiredApp",
    "JobBasis",
    "LastJob",
    "Polling",
    "UnresolvedOutputs",
    "amplify_config",
    "console_url",
    "deploy_amplify",
    "desired_app",
    "find_app",
    "plan_amplify",
    "read_build_spec",
]
