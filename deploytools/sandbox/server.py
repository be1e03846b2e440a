"""The sandbox process: moto's server plus the emulators, on loopback, until SIGTERM.

Run by `deploytools sandbox up` as `python -m deploytools.sandbox.server`.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from moto.server import ThreadedMotoServer

from deploytools.sandbox import containers, emulators, registry, state
from deploytools.sandbox.ports import free_port

# The services deploytools calls; all go to moto unless an emulator takes them over.
SERVICES = (
    "sts",
    "ssm",
    "ecr",
    "ecs",
    "eks",
    "lambda",
    "batch",
    "iam",
    "s3",
    "logs",
    "kms",
    "apigatewayv2",
)


def serve(port: int) -> None:
    host = "127.0.0.1"
    # EKS and Batch roles attach AWS managed policies (AmazonEKSClusterPolicy, ...), which moto
    # only knows when it loads them; it reads the setting when its IAM backend starts.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    moto = ThreadedMotoServer(ip_address=host, port=port or free_port(host))
    moto.start()
    moto_url = f"http://{host}:{moto._port}"
    endpoints = dict.fromkeys(SERVICES, moto_url)
    running: list[emulators.Emulator] = []
    missing: dict[str, str] = {}
    serving: dict[str, str] = {}
    registry_address, registry_missing, stop_registry = registry.ensure(
        state.state_dir() / "registry"
    )
    if registry_missing:
        missing["registry"] = registry_missing
    engine = containers.connect(registry_address)
    if isinstance(engine, str):  # workloads cannot run: the pipeline says what is simulated
        missing["docker"] = engine
    context = emulators.EmulatorContext(moto_url=moto_url, host=host, registry=registry_address)
    for module in emulators.modules():
        emulator = module.start(context)
        running.append(emulator)
        endpoints.update(emulator.services)
        serving.update(emulator.serving)
    log = str(state.state_dir() / "sandbox.log")
    state.write(state.SandboxState(os.getpid(), endpoints, registry_address, missing, log, serving))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for emulator in running:
        emulator.stop()
    containers.remove_labelled_everywhere()
    stop_registry()
    moto.stop()
    state.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="moto's port (default: a free one)")
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
