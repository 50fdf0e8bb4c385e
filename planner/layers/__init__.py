"""Layer readers, one per kind, and the layer set that groups them for an area."""

from importlib import import_module
from typing import Any

# Loaded on first use: a module that needs one reader should not load them all.
_LAZY = {
    "LayerSet": "planner.layers.manifest",
    "load_layerset": "planner.layers.manifest",
    "CATEGORIES": "planner.layers.model",
    "KINDS": "planner.layers.model",
    "Dropped": "planner.layers.model",
    "Flag": "planner.layers.model",
    "LayerInfo": "planner.layers.model",
    "VectorLayer": "planner.layers.model",
    "PopulationLayer": "planner.layers.population",
    "RasterWindow": "planner.layers.population",
    "THREAT_KINDS": "planner.layers.threats",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'planner.layers' has no attribute '{name}'")


__all__ = [
    "CATEGORIES",
    "KINDS",
    "THREAT_KINDS",
    "Dropped",
    "Flag",
    "LayerInfo",
    "LayerSet",
    "PopulationLayer",
    "RasterWindow",
    "VectorLayer",
    "load_layerset",
]
