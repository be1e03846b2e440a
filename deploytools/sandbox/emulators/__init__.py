"""Emulators for what moto lacks. Each module defines `start(ctx) -> Emulator`.

The sandbox server starts every module found here; an emulator's `services` override moto's
endpoint for those AWS services (e.g. {"amplify": "http://127.0.0.1:PORT"}).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType


@dataclass(frozen=True)
class EmulatorContext:
    moto_url: str
    host: str = "127.0.0.1"
    registry: str | None = None  # host:port of the registry standing in for ECR's data plane


@dataclass
class Emulator:
    name: str
    services: dict[str, str]
    stop: Callable[[], None] = field(default=lambda: None)
    serving: dict[str, str] = field(default_factory=dict)  # non-AWS URLs, e.g. apigateway


def modules() -> Iterator[ModuleType]:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{__name__}.{info.name}")
