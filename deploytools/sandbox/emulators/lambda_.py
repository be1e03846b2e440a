"""Lambda and API Gateway HTTP APIs that run: the Lambda front and the loopback HTTP API server.

The `lambda` endpoint becomes the front in `deploytools.sandbox.lambda_runtime` (moto for
every call but Invoke, which starts the function's container against a Runtime API on
loopback); HTTP APIs that moto's apigatewayv2 holds answer at `serving["apigateway"]` (see
`deploytools.sandbox.apigateway`), invoking their Lambda integrations through that front.
Function containers run on the sandbox's one container runner (`deploytools.sandbox.containers`,
`--network host`), carry the label deploytools.sandbox=<the sandbox's id> and go when the
sandbox stops.
"""

from __future__ import annotations

from deploytools.sandbox import apigateway, containers, state
from deploytools.sandbox.emulators import Emulator, EmulatorContext
from deploytools.sandbox.lambda_runtime import front


def start(ctx: EmulatorContext) -> Emulator:
    functions = front.serve(
        ctx.moto_url,
        work_dir=state.state_dir() / "lambda",
        registry=ctx.registry,
        sandbox_id=containers.sandbox_id(),
        host=ctx.host,
    )
    api = apigateway.serve(ctx.moto_url, functions.url, host=ctx.host)

    def stop() -> None:
        api.stop()
        functions.stop()

    return Emulator(
        name="lambda",
        services={"lambda": functions.url},
        serving={"apigateway": api.url},
        stop=stop,
    )
