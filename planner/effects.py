"""The effects table: for each activity or means, the core and outer radius of its effects zone.

The table shipped with Primum is illustrative (``effects_default.yaml``); a mission replaces it with its own
file of the same shape, and a plan element may override its radii. Every result names the table used.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from planner._yamlfile import load_yaml, validate_model

DEFAULT_TABLE = "effects_default.yaml"


class ActivitySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    core_m: float = Field(ge=0)
    outer_m: float = Field(gt=0)
    basis: str
    explosive: bool = False
    indirect: bool = False
    rotor_wash: bool = False
    movement: bool = False
    heavy_vehicles: bool = False
    cordon: bool = False
    military_position: bool = False

    @model_validator(mode="after")
    def _outer_beyond_core(self) -> ActivitySpec:
        if self.outer_m < self.core_m:
            raise ValueError(f"outer_m ({self.outer_m}) must be at least core_m ({self.core_m})")
        return self


class EffectsTableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int | str = 1
    profile: Literal["linear", "step"] = "linear"
    activities: dict[str, ActivitySpec]


@dataclass(frozen=True)
class EffectsTable:
    """The activities a plan may use, with their radii; ``source`` says which file it came from."""

    name: str
    source: str
    profile: str
    activities: dict[str, ActivitySpec]

    def __contains__(self, activity: object) -> bool:
        return activity in self.activities

    def __getitem__(self, activity: str) -> ActivitySpec:
        return self.activities[activity]


def load_effects_table(path: str | Path | None = None) -> EffectsTable:
    """The mission's table at ``path``, or Primum's illustrative defaults."""
    if path is None:
        resource = resources.files("planner").joinpath(DEFAULT_TABLE)
        data = yaml.safe_load(resource.read_text(encoding="utf-8"))
        source = f"planner/{DEFAULT_TABLE} (illustrative defaults)"
        spec = validate_model(EffectsTableSpec, data, Path(source))
    else:
        path = Path(path)
        spec = validate_model(EffectsTableSpec, load_yaml(path), path)
        source = str(path)
    return EffectsTable(spec.name, source, spec.profile, dict(spec.activities))
