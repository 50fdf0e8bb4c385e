"""Primum: pre-operation civilian risk assessment for peacekeeping operations.

The library entry points the command line and the dashboard share: read a layer set, read a plan.
"""

from importlib.metadata import PackageNotFoundError, version

from planner.errors import DataIOError, InputError, PlannerError
from planner.layers import LayerSet, load_layerset
from planner.plan import Plan, load_plan, open_plan

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
