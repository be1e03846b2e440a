"""Targets: ECS services, Lambda functions, EKS deployments, Batch job definitions.

`refresher_for` maps a target's type to its module; each module defines a `Refresher`.
"""

from __future__ import annotations

import importlib
from typing import Any

from deploytools.errors import NotImplementedYet
from deploytools.steps.targets.base import Refresher, RolledBack, TargetState

MODULES = {"ecs": "ecs", "lambda": "lambda_", "eks": "eks", "batch": "batch"}

__all__ = ["Refresher", "RolledBack", "TargetState", "refresher_for"]


def refresher_for(name: str, target: Any, **kwargs: Any) -> Refresher:
    module_name = f"{__name__}.{MODULES[target.type]}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise NotImplementedYet(
            f"target type {target.type}: {module_name} does not exist yet"
        ) from exc
    refresher: Refresher = module.Refresher(name, target, **kwargs)
    return refresher
