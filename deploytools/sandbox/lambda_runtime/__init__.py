"""Lambda functions invoked for real: a Runtime API on loopback, and the function's container.

What runs: an `Invoke` that reaches the sandbox's Lambda endpoint (see `front`) starts, or
reuses, an execution environment for the function version invoked: the image the version
points at, pulled from the loopback registry by digest, or for a Zip function the runtime's
base image with the package mounted read-only at /var/task. The container runs with
`--network host` and `AWS_LAMBDA_RUNTIME_API` pointing at that environment's own Runtime API
server (`runtime_api`), with the function's environment, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`
and the other variables Lambda sets; AWS calls from the function go to the sandbox's moto.
The handler's answer, its raised error, an import error (`/init/error`), the process exiting
or the function's timeout are returned as Lambda returns them. Memory is passed as that
value only: no memory limit is enforced. Everything else about Lambda is moto's.
"""
