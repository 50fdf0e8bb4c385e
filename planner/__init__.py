"""Primum: pre-operation civilian risk assessment for peacekeeping operations.

The library entry points the command line and the dashboard share: read a layer set, read a plan.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from planner.errors import DataIOError, InputError, PlannerError

# Loaded on first use, so that importing a light part of the package (the command line's help, the errors)
# does not load geopandas and the readers.
_LAZY = {
    "LayerSet": "planner.layers.manifest",
    "load_layerset": "planner.layers.manifest",
    "Plan": "planner.plan",
    "load_plan": "planner.plan",
    "open_plan": "planner.plan",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'planner' has no attribute '{name}'")


try:
    __version__ = version("primum")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = [
    "DataIOError",
    "InputError",
    "LayerSet",
    "Plan",
    "PlannerError",
    "__version__",
    "load_layerset",
    "load_plan",
    "open_plan",
]
