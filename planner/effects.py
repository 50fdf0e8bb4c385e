"""The effects table: for each activity or means, the core and outer radius of its effects zone.

The table shipped with Primum is illustrative (``effects_default.yaml``); a mission replaces it with its own
file of the same shape, and a plan element may override its radii. Every result names the table used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyproj import CRS
from shapely import Polygon
from shapely.geometry.base import BaseGeometry

from planner._yamlfile import load_yaml, parse_yaml, validate_model
from planner.geo import WGS84, transformer
from planner.opening import file_identity

if TYPE_CHECKING:
    from planner.plan import Element

DEFAULT_TABLE = "effects_default.yaml"
# Flags an activity may carry, which checklist triggers select on.
ACTIVITY_CLASSES = (
    "explosive",
    "indirect",
    "rotor_wash",
    "movement",
    "heavy_vehicles",
    "cordon",
    "search",
    "military_position",
    "kinetic",
)


class _MechanismSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spread: tuple[float, float] = Field(
        (0.5, 2.0), description="low and high multipliers of the central figure: how uncertain the effect itself is"
    )
    basis: str

    @model_validator(mode="after")
    def _spread_brackets_one(self) -> _MechanismSpec:
        low, high = self.spread
        if not 0 <= low <= 1 <= high:
            raise ValueError(f"spread must be [low, high] with 0 <= low <= 1 <= high (got {list(self.spread)})")
        return self


class BlastSpec(_MechanismSpec):
    """Explosive means: a Carleton damage function around each burst, bursts scattered by the delivery error."""

    casualty_area_m2: float = Field(gt=0, description="area of the damage function of one round (killed or injured)")
    cep_observed_m: float = Field(gt=0, description="delivery error (CEP) of observed, adjusted fire")
    cep_unobserved_m: float = Field(gt=0, description="delivery error (CEP) of unobserved, map-predicted fire")
    rounds: int = Field(ge=1, description="rounds assumed when the plan does not give `munitions`")
    exposed_share: float = Field(
        gt=0, le=1, description="share of the people present who are exposed to fragments (the rest under cover)"
    )


class RateSpec(_MechanismSpec):
    """Casualties per person present at full intensity of the element's zone (falling across the outer ring)."""

    rate: float = Field(ge=0, le=1)


class RotorWashSpec(RateSpec):
    shelter_damage: float = Field(ge=0, le=1, description="share of light shelters damaged at full intensity")
    home_damage: float = Field(ge=0, le=1, description="share of homes (thatch, light roofs) damaged at full intensity")
    people_per_shelter: float = Field(gt=0)


class RestrictionSpec(RateSpec):
    confines: bool = Field(description="people inside the core cannot leave while it lasts (a cordon)")


class MechanismsSpec(BaseModel):
    """What an activity does to civilians; each mechanism names its public basis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blast: BlastSpec | None = None
    stray_rounds: RateSpec | None = None
    rotor_wash: RotorWashSpec | None = None
    movement_restriction: RestrictionSpec | None = None
    traffic: RateSpec | None = None
    drawing_fire: RateSpec | None = None


# The mechanisms by name: what a harm record may say caused the harm.
MECHANISMS = tuple(MechanismsSpec.model_fields)


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
    search: bool = Field(False, description="forces search homes and people (a cordon and search)")
    military_position: bool = False
    kinetic: bool = Field(False, description="uses force (fires, strikes); explosive means are always kinetic")
    mechanisms: MechanismsSpec = Field(default_factory=MechanismsSpec)

    @property
    def classes(self) -> frozenset[str]:
        """The activity classes checklist rules test (``explosive``, ``rotor_wash`` ...)."""
        named = {name for name in ACTIVITY_CLASSES if getattr(self, name)}
        return frozenset(named | ({"kinetic"} if self.explosive else set()))

    @model_validator(mode="after")
    def _outer_beyond_core(self) -> ActivitySpec:
        if self.outer_m < self.core_m:
            raise ValueError(f"outer_m ({self.outer_m}) must be at least core_m ({self.core_m})")
        if self.explosive and self.mechanisms.blast is None:
            raise ValueError("an explosive activity needs a `mechanisms: {blast: ...}` entry (what its rounds do)")
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
    """The mission's table at ``path``, or Primum's illustrative defaults; parsed once per file version."""
    return _effects_table(None if path is None else file_identity(Path(path)))


@lru_cache(maxsize=16)
def _effects_table(identity: tuple[str, int, int] | None) -> EffectsTable:
    path = None if identity is None else Path(identity[0])
    if path is None:
        resource = resources.files("planner").joinpath(DEFAULT_TABLE)
        data = parse_yaml(resource.read_text(encoding="utf-8"))
        source = f"planner/{DEFAULT_TABLE} (illustrative defaults)"
        spec = validate_model(EffectsTableSpec, data, Path(source))
    else:
        path = Path(path)
        spec = validate_model(EffectsTableSpec, load_yaml(path), path)
        source = str(path)
    return EffectsTable(spec.name, source, spec.profile, dict(spec.activities))


@dataclass(frozen=True)
class Zone:
    """The effects zone of one plan element, in the working (metric) CRS.

    ``outer`` includes ``core``. ``geometry`` is the element itself (point, route or area), from which
    distances and intensity are measured.
    """

    element: str
    activity: str
    geometry: BaseGeometry
    core: BaseGeometry
    outer: BaseGeometry
    core_m: float
    outer_m: float
    profile: str
    radii_from: str

    def intensity_at(self, distance_m: np.ndarray) -> np.ndarray:
        return intensity(distance_m, self.core_m, self.outer_m, self.profile)


def radii(element: Element, table: EffectsTable) -> tuple[float, float, str]:
    """Core and outer radius of an element: its own override, else the table's; and where they came from."""
    spec = table[element.activity]
    core = spec.core_m if element.core_m is None else element.core_m
    outer = spec.outer_m if element.outer_m is None else element.outer_m
    if element.outer_m is None and outer < core:  # core overridden beyond the table's outer radius
        outer = core
    source = "plan" if element.core_m is not None or element.outer_m is not None else "effects table"
    return float(core), float(outer), source


def element_zone(element: Element, table: EffectsTable, crs: CRS) -> Zone:
    """Core and outer zone of an element: circles round points, corridors along routes, rings round areas."""
    core_m, outer_m, source = radii(element, table)
    return zone_from(
        element.id,
        element.activity,
        element.geometry,
        area=element.shape_kind == "area",
        radii=(core_m, outer_m),
        crs=crs,
        profile=table.profile,
        radii_from=source,
    )


def zone_from(
    element: str,
    activity: str,
    geometry: BaseGeometry,
    *,
    area: bool,
    radii: tuple[float, float],
    crs: CRS,
    profile: str,
    radii_from: str,
) -> Zone:
    """The zone of an element whose geometry is in EPSG:4326: a plan's, or one kept in a recorded result."""
    core_m, outer_m = radii
    projected = shapely.transform(geometry, transformer(WGS84, crs).transform, interleaved=False)
    # An area (cordon, AO) is its own core; a point or route with a zero core radius has no core.
    if area:
        core = projected.buffer(core_m) if core_m > 0 else projected
    else:
        core = projected.buffer(core_m) if core_m > 0 else Polygon()
    outer = projected.buffer(outer_m).union(core)
    return Zone(element, activity, projected, core, outer, core_m, outer_m, profile, radii_from)


def intensity(
    distance_m: np.ndarray, core_m: float | np.ndarray, outer_m: float | np.ndarray, profile: str
) -> np.ndarray:
    """Intensity of effects at a distance from the element: 1 in the core, falling to 0 at the outer edge.

    ``linear`` falls in a straight line across the outer ring; ``step`` is 1 in the core and 0.5 in the ring.
    Radii may be arrays aligned with the distances (one pair of radii per element reached).
    """
    d = np.asarray(distance_m, dtype=float)
    if profile == "step":
        return np.where(d <= core_m, 1.0, np.where(d <= outer_m, 0.5, 0.0))
    ring = np.maximum(np.subtract(outer_m, core_m), 1e-9)
    return np.clip(1.0 - (d - core_m) / ring, 0.0, 1.0) * (d <= outer_m)
