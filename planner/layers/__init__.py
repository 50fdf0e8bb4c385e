"""Layer readers, one per kind, and the layer set that groups them for an area."""

from planner.layers.manifest import LayerSet, load_layerset
from planner.layers.model import CATEGORIES, KINDS, Dropped, Flag, LayerInfo, VectorLayer
from planner.layers.population import PopulationLayer, RasterWindow
from planner.layers.threats import THREAT_KINDS

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
