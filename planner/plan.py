"""The operation plan: courses of action (COAs), their elements, the time window, a partner force.

```yaml
name: Operation name
layers: ../layers/x.yaml
window: {start: 2025-06-14T05:00:00+03:00, end: 2025-06-14T13:00:00+03:00}
partner_force: false            # true when a non-UN force takes part or receives support
partner_forces: []              # its names in threat reports' actors, e.g. [SSPDF]; names imply partner_force
own_force: [UNMISS]             # this force's names in threat reports, to find harm it caused before
surprise_essential: false       # true: no advance warning is possible
community_languages: [Nuer]     # languages of the affected communities
interpreter_languages: [Nuer, English]
season: dry                     # rainy: roads the layer marks dry-season-only are closed
close_core_roads: false         # true: roads inside every element's core zone are closed during the window
un_medical: [{name: Level II hospital, position: 36NUL4300036000}]  # for UN CASEVAC times
coas:
  - id: A
    name: Cordon from the north
    elements:
      - {id: cordon-1, activity: cordon_search, geometry: {type: Polygon, coordinates: [...]}}  # GeoJSON, WGS84
      - {id: mortar-1, activity: mortar_60mm, position: 36NUL4253536248}                          # MGRS
      - {id: lz-1, activity: helicopter_lz, position: [31.59, 4.86], core_m: 50, outer_m: 150}     # [lon, lat]
      - {id: route-1, activity: convoy, geometry_file: routes.geojson, feature: route-1}          # file beside the plan
```
An element may say where else it could go, for ``primum sweep`` (its constraints)::

      - id: lz-1
        activity: helicopter_lz
        position: 36NWM6870086000
        constraints: {objective: 36NWM6850086400, max_from_objective_m: 2500, open_ground: true}

Positions are ``[lon, lat]``, MGRS, or degrees (decimal or DMS) with hemisphere letters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pyogrio
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from planner._yamlfile import load_yaml, validate_model
from planner.effects import EffectsTable, load_effects_table
from planner.errors import Collector, InputError
from planner.geo import WGS84, CoordinateError, parse_position, to_mgrs
from planner.layers.manifest import LayerSet, load_layerset
from planner.opening import safe_layer_file
from planner.settings import LimitsSettings, Settings

POSITION_FIX = "write it as [lon, lat], an MGRS reference (36NUF1234567890) or 4.86N 31.59E"


class _ConstraintsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    objective: Any = Field(None, description="the position the element serves (the cordon, the objective)")
    max_from_objective_m: float | None = Field(None, gt=0, description="a candidate stays this close to it")
    open_ground: bool = Field(False, description="no mapped site and no one living in its core zone")
    outside_displacement: bool = Field(True, description="no displacement site reaches into its core zone")

    @model_validator(mode="after")
    def _objective_with_distance(self) -> _ConstraintsSpec:
        if (self.objective is None) != (self.max_from_objective_m is None):
            raise ValueError("give objective and max_from_objective_m together")
        return self


class _ElementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=100)  # the record keeps ids up to these lengths, on every database
    activity: str
    position: Any = None
    geometry: dict[str, Any] | None = None
    geometry_file: str | None = None
    feature: str | int | None = None
    core_m: float | None = Field(None, ge=0)
    outer_m: float | None = Field(None, gt=0)
    observer: bool | None = Field(None, description="indirect fire with an observer on the target")
    closes_roads: bool | None = Field(None, description="roads inside the element's core are closed")
    munitions: int | None = Field(None, ge=1, description="rounds or munitions planned (explosive means)")
    duration_h: float | None = Field(None, gt=0, description="hours the element lasts (a cordon); default: the window")
    label: str = ""
    constraints: _ConstraintsSpec | None = Field(None, description="where a position sweep may move it")

    @model_validator(mode="after")
    def _one_location(self) -> _ElementSpec:
        given = [k for k in ("position", "geometry", "geometry_file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of position, geometry or geometry_file (got {given or 'none'})")
        if self.core_m is not None and self.outer_m is not None and self.outer_m < self.core_m:
            raise ValueError(f"outer_m ({self.outer_m}) must be at least core_m ({self.core_m})")
        return self


class _COASpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=40)
    name: str
    description: str = ""
    elements: list[_ElementSpec] = Field(min_length=1)


class _WindowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2025-06-14T05:00:00+03:00 (local time is ambiguous)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> _WindowSpec:
        if self.end <= self.start:
            raise ValueError("the window must end after it starts")
        return self


class _MedicalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    position: Any


class _PlanSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=300)
    layers: str
    window: _WindowSpec
    partner_force: bool = False
    partner_forces: list[str] = Field(
        default_factory=list, description="the partner force's names as threat reports record them (actors)"
    )
    own_force: list[str] = Field(
        default_factory=list, description="this force's names as threat reports record them, to find its past harm"
    )
    description: str = ""
    fictional: bool = False
    surprise_essential: bool = Field(False, description="surprise is essential: no advance warning possible")
    community_languages: list[str] = Field(default_factory=list)
    interpreter_languages: list[str] = Field(default_factory=list)
    effects_table: str | None = Field(None, description="the mission's effects table, relative to the plan")
    season: Literal["dry", "rainy"] = Field("dry", description="rainy: roads the layer marks dry-season-only close")
    close_core_roads: bool = Field(False, description="roads inside every element's core zone close")
    un_medical: list[_MedicalSpec] = Field(default_factory=list, description="UN medical facilities for CASEVAC")
    coas: list[_COASpec] = Field(min_length=1)


@dataclass(frozen=True)
class Constraints:
    """Where a position sweep may move an element (``primum sweep``)."""

    objective: tuple[float, float] | None = None  # lon, lat
    max_from_objective_m: float | None = None
    open_ground: bool = False
    outside_displacement: bool = True


@dataclass(frozen=True)
class Element:
    """One element of a COA: an activity at a point, along a route, or over an area (EPSG:4326)."""

    id: str
    activity: str
    geometry: BaseGeometry
    core_m: float | None = None
    outer_m: float | None = None
    observer: bool | None = None
    closes_roads: bool | None = None
    munitions: int | None = None
    label: str = ""
    duration_h: float | None = None
    constraints: Constraints = Constraints()

    @property
    def shape_kind(self) -> str:
        """'point', 'route' or 'area'."""
        kind = self.geometry.geom_type
        return "point" if "Point" in kind else "route" if "Line" in kind else "area"


@dataclass(frozen=True)
class COA:
    id: str
    name: str
    elements: tuple[Element, ...]
    description: str = ""


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime

    @cached_property  # asked for every route of every COA
    def text(self) -> str:
        """The window as a planner writes it, in the plan's own local time ("2026-12-03 05:00–13:00 (UTC+0300)")."""
        last = f"{self.end:%H:%M}" if self.end.date() == self.start.date() else f"{self.end:%Y-%m-%d %H:%M}"
        return f"{self.start:%Y-%m-%d %H:%M}–{last} (UTC{self.start:%z})"


@dataclass(frozen=True)
class Plan:
    """A validated plan; ``sha256`` covers the plan file and every geometry file it names."""

    name: str
    path: Path
    sha256: str
    layers_path: Path
    window: TimeWindow
    coas: tuple[COA, ...]
    partner_force: bool = False
    description: str = ""
    fictional: bool = False
    surprise_essential: bool = False
    community_languages: tuple[str, ...] = ()
    interpreter_languages: tuple[str, ...] = ()
    effects_table: Path | None = None
    season: str = "dry"
    close_core_roads: bool = False
    un_medical: tuple[tuple[str, float, float], ...] = ()  # (name, lon, lat)
    partner_forces: tuple[str, ...] = ()
    own_force: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()  # the plan file and every geometry file it names (all in ``sha256``)

    @property
    def elements(self) -> list[tuple[COA, Element]]:
        return [(coa, element) for coa in self.coas for element in coa.elements]


def load_plan(path: str | Path, effects: EffectsTable | None = None, limits: LimitsSettings | None = None) -> Plan:
    """Read and check a plan file; every problem is reported at once.

    ``limits`` (the mission's ``[limits]``) bound the plan's size: beyond them a plan is a mistake (a radius in
    the wrong unit, a generated plan gone wrong) that would take the machine's memory.
    """
    limits = limits or LimitsSettings()
    path = Path(path).resolve()  # stored resolved: the record finds it again from any folder
    raw = load_yaml(path)
    spec = validate_model(_PlanSpec, raw, path)
    problems = Collector(path)
    total = sum(len(coa.elements) for coa in spec.coas)
    if total > limits.max_elements:
        problems.add(
            "coas",
            f"{total} elements in all: at most {limits.max_elements} are assessed in one plan",
            "split it into plans (or raise [limits] max_elements in the mission settings)",
        )
        problems.raise_if_any()
    effects_path = (path.parent / spec.effects_table).resolve() if spec.effects_table else None
    if effects is None:
        effects = load_effects_table(effects_path)
    digest = hashlib.sha256(path.read_bytes())
    geometry_files: dict[Path, _GeometryFile] = {}  # a plan's elements often share one file of areas and routes

    seen_coas: set[str] = set()
    coas = []
    for coa in spec.coas:
        if coa.id in seen_coas:
            problems.add(f"coas.{coa.id}", "duplicate COA id", "give each COA its own id")
        seen_coas.add(coa.id)
        seen: set[str] = set()
        elements = []
        for element in coa.elements:
            where = f"coas.{coa.id}.elements.{element.id}"
            if element.id in seen:
                problems.add(where, "duplicate element id in this COA", "give each element its own id")
            seen.add(element.id)
            for key in ("core_m", "outer_m"):
                radius = getattr(element, key)
                if radius is not None and radius > limits.max_radius_m:
                    problems.add(
                        f"{where}.{key}",
                        f"{radius:g} m is beyond the {limits.max_radius_m:g} m an element may reach",
                        "give the radius in metres (or raise [limits] max_radius_m in the mission settings)",
                    )
            if element.activity not in effects:
                problems.add(
                    f"{where}.activity",
                    f"unknown activity '{element.activity}'",
                    f"use one of: {', '.join(sorted(effects.activities))} (effects table: {effects.source})",
                )
            geometry = _element_geometry(element, path, where, problems, digest, files=geometry_files)
            constraints = _constraints(element.constraints, where, problems)
            if geometry is not None:
                elements.append(
                    Element(
                        element.id,
                        element.activity,
                        geometry,
                        element.core_m,
                        element.outer_m,
                        element.observer,
                        element.closes_roads,
                        element.munitions,
                        element.label,
                        element.duration_h,
                        constraints,
                    )
                )
        coas.append(COA(coa.id, coa.name, tuple(elements), coa.description))
    un_medical = []
    for i, facility in enumerate(spec.un_medical):
        try:
            un_medical.append((facility.name, *parse_position(facility.position)))
        except CoordinateError as exc:
            problems.add(f"un_medical.{i}.position", str(exc), POSITION_FIX)
    layers_path = (path.parent / spec.layers).resolve()
    if not layers_path.is_file():
        problems.add(
            "layers", f"file not found: {layers_path}", "the layer set's path is relative to the plan's folder"
        )
    problems.raise_if_any()
    return Plan(
        name=spec.name,
        path=path,
        sha256=digest.hexdigest(),
        layers_path=(path.parent / spec.layers).resolve(),
        window=TimeWindow(spec.window.start, spec.window.end),
        coas=tuple(coas),
        partner_force=spec.partner_force or bool(spec.partner_forces),
        description=spec.description,
        fictional=spec.fictional,
        surprise_essential=spec.surprise_essential,
        community_languages=tuple(spec.community_languages),
        interpreter_languages=tuple(spec.interpreter_languages),
        effects_table=effects_path,
        season=spec.season,
        close_core_roads=spec.close_core_roads,
        un_medical=tuple(un_medical),
        partner_forces=tuple(spec.partner_forces),
        own_force=tuple(spec.own_force),
        files=(
            path,
            *dict.fromkeys(
                (path.parent / e.geometry_file).resolve() for c in spec.coas for e in c.elements if e.geometry_file
            ),
        ),
    )


def _constraints(spec: _ConstraintsSpec | None, where: str, problems: Collector) -> Constraints:
    if spec is None:
        return Constraints()
    objective = None
    if spec.objective is not None:
        try:
            objective = parse_position(spec.objective)
        except CoordinateError as exc:
            problems.add(f"{where}.constraints.objective", str(exc), POSITION_FIX)
    return Constraints(objective, spec.max_from_objective_m, spec.open_ground, spec.outside_displacement)


@dataclass(frozen=True)
class _GeometryFile:
    """A plan's geometry file as read once: its bytes (for the plan's digest), its features in WGS84, or why
    it cannot be read."""

    data: bytes
    frame: gpd.GeoDataFrame | None
    problem: tuple[str, str] | None  # (message, fix)

    @classmethod
    def read(cls, file: Path) -> _GeometryFile:
        data = file.read_bytes()
        try:
            frame = gpd.read_file(file)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            return cls(data, None, (f"cannot read {file.name} ({exc})", "give a GeoJSON or GeoPackage file"))
        if frame.crs is None:
            return cls(data, None, (f"{file.name} has no CRS", "save it with a CRS (GeoJSON is WGS84)"))
        return cls(data, frame.to_crs(WGS84), None)


def _element_geometry(
    element: _ElementSpec,
    plan_path: Path,
    where: str,
    problems: Collector,
    digest: Any,
    *,
    files: dict[Path, _GeometryFile],
) -> BaseGeometry | None:
    if element.position is not None:
        try:
            lon, lat = parse_position(element.position)
        except CoordinateError as exc:
            problems.add(f"{where}.position", str(exc), POSITION_FIX)
            return None
        return Point(lon, lat)
    if element.geometry is not None:
        try:
            geometry = shape(element.geometry)
        except (
            ValueError,
            TypeError,
            AttributeError,
            KeyError,
            IndexError,
            shapely.errors.ShapelyError,
        ) as exc:
            problems.add(
                f"{where}.geometry",
                f"not a GeoJSON geometry ({exc})",
                "write {type: Polygon, coordinates: [[[lon, lat], ...]]} in WGS84",
            )
            return None
        if _open_rings(element.geometry):
            # shapely would close the ring by itself: a silent repair of what the planner drew.
            problems.add(
                f"{where}.geometry",
                "a polygon ring does not end where it starts",
                "repeat the first [lon, lat] pair at the end of each ring",
            )
            return None
        return _checked(geometry, f"{where}.geometry", problems)
    assert element.geometry_file is not None
    file = (plan_path.parent / element.geometry_file).resolve()
    if not file.exists():
        problems.add(f"{where}.geometry_file", f"file not found: {file}", "the path is relative to the plan's folder")
        return None
    try:
        safe_layer_file(file, f"{where}.geometry_file")
    except InputError as exc:
        for problem in exc.problems:
            problems.add(problem.where, problem.message, problem.fix)
        return None
    if file not in files:
        files[file] = _GeometryFile.read(file)
    read = files[file]
    digest.update(read.data)  # once per element naming it, as each element's geometry is part of the plan
    if read.frame is None:
        assert read.problem is not None
        problems.add(f"{where}.geometry_file", *read.problem)
        return None
    chosen = _pick_feature(read.frame, element.feature)
    if chosen is None:
        problems.add(
            f"{where}.feature",
            f"no single feature of {file.name} matches {element.feature!r}",
            "name it by its `id` or `name` property (required when the file has several features)",
        )
        return None
    return _checked(chosen, f"{where}.geometry_file", problems)


def _pick_feature(frame: gpd.GeoDataFrame, feature: str | int | None) -> BaseGeometry | None:
    if feature is None:
        return frame.geometry.iloc[0] if len(frame) == 1 else None
    for column in ("id", "name"):
        if column in frame.columns:
            match = frame[frame[column].astype(str) == str(feature)]
            if len(match) == 1:
                return match.geometry.iloc[0]
    return None


def _open_rings(geometry: dict[str, Any]) -> bool:
    """Whether a GeoJSON Polygon or MultiPolygon has a ring whose last position is not its first."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    return any(
        isinstance(ring, list) and len(ring) > 0 and list(ring[0]) != list(ring[-1])
        for polygon in polygons or []
        if isinstance(polygon, list)
        for ring in polygon
    )


def _checked(geometry: BaseGeometry, where: str, problems: Collector) -> BaseGeometry | None:
    if geometry.is_empty:
        problems.add(where, "empty geometry", "give the element its coordinates")
        return None
    if not geometry.is_valid:
        problems.add(
            where,
            f"invalid geometry ({shapely.is_valid_reason(geometry)})",
            "fix it (a polygon's ring must not cross itself and must end where it starts)",
        )
        return None
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        problems.add(where, "coordinates out of range", "GeoJSON order is [lon, lat] in degrees")
        return None
    return geometry


def check_plan_in_layers(plan: Plan, layerset: LayerSet) -> None:
    """Every element must lie over at least one layer, or its figures would silently be zero."""
    boxes = _layer_boxes(layerset)
    problems = Collector(plan.path)
    for coa, element in plan.elements:
        if not any(shapely.box(*box).intersects(element.geometry) for box in boxes):
            problems.add(
                f"coas.{coa.id}.elements.{element.id}",
                f"lies outside every layer of '{layerset.area}' ({layerset.path.name})",
                "check the position (MGRS zone, [lon, lat] order, hemisphere) or the plan's `layers:`",
            )
    problems.raise_if_any()


def _layer_boxes(layerset: LayerSet) -> list[tuple[float, float, float, float]]:
    boxes = []
    for layer in layerset:
        bounds = getattr(layer, "bounds", None)
        if bounds is not None and layer.kind != "backdrop":
            boxes.append(bounds)
    return boxes


def open_plan(
    path: str | Path, limits: LimitsSettings | None = None, *, settings: Settings | None = None
) -> tuple[Plan, LayerSet]:
    """Load a plan and the layer set it names, and check that they fit together.

    The roads and threat reports are read over this plan's study area only (``assess.reading_area`` with
    ``settings``, the ones the assessment will use), with the reports beyond it that its checklist reads
    (``checklist.reports_beyond_area``): the layer set is for assessing this plan, not another.
    """
    from planner.assess import reading_area  # noqa: PLC0415 (the assessment imports this module)
    from planner.catalogue import load_catalogue  # noqa: PLC0415 (as the assessment)
    from planner.checklist import reports_beyond_area  # noqa: PLC0415 (as the assessment)

    plan = load_plan(path, limits=limits)
    chosen = settings or Settings()
    area = reading_area(plan, settings)
    beyond = reports_beyond_area(plan, chosen, load_catalogue(chosen.checklist.catalogue))
    layerset = load_layerset(
        plan.layers_path, limits=limits or (settings.limits if settings else None), area=area, beyond=beyond
    )
    check_plan_in_layers(plan, layerset)
    return plan, layerset


__all__ = [
    "COA",
    "Constraints",
    "Element",
    "Plan",
    "TimeWindow",
    "check_plan_in_layers",
    "load_plan",
    "open_plan",
    "plan_summary",
]


def plan_summary(plan: Plan, effects: EffectsTable) -> dict[str, object]:
    """What a planner checks of a plan: the window, and each element where it is and with which radii."""
    coas = []
    for coa in plan.coas:
        elements = []
        for element in coa.elements:
            activity = effects.activities.get(element.activity)
            centre = element.geometry.representative_point()
            elements.append(
                {
                    "id": element.id,
                    "activity": element.activity,
                    "activity_label": activity.label if activity else None,
                    "shape": element.shape_kind,
                    "at": [round(centre.x, 6), round(centre.y, 6)],
                    "mgrs": to_mgrs(centre.x, centre.y),
                    "core_m": element.core_m if element.core_m is not None else (activity.core_m if activity else None),
                    "outer_m": element.outer_m
                    if element.outer_m is not None
                    else (activity.outer_m if activity else None),
                    "radii_from": "plan"
                    if element.core_m is not None or element.outer_m is not None
                    else "effects table",
                }
            )
        coas.append({"id": coa.id, "name": coa.name, "elements": elements})
    return {
        "name": plan.name,
        "path": str(plan.path),
        "sha256": plan.sha256,
        "fictional": plan.fictional,
        "window": {"start": plan.window.start.isoformat(), "end": plan.window.end.isoformat()},
        "partner_force": plan.partner_force,
        "effects_table": effects.source,
        "coas": coas,
    }
