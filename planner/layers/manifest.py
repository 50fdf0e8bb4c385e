"""The layer set: a manifest (``layers/<area>.yaml``) naming the files of an area, read and checked together.

```yaml
area: Name shown to users
layers:
  population: {kind: population, path: ../data/x/pop.tif, units: count, as_of: 2025-06-01}
  health:     {kind: sites, path: ../data/x/health.geojson, category: health}
  idp:        {kind: displacement, path: ../data/x/sites.csv, lat: latitude, lon: longitude, population: individuals}
  events:     {kind: threats, path: ../data/x/events.csv, schema: acled, sensitive: [source, notes]}
  roads:      {kind: roads, path: ../data/x/roads.geojson, class: highway}
```
Paths are relative to the manifest. Every problem of every layer is reported in one ``InputError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from planner._yamlfile import load_yaml, validate_model
from planner.errors import Collector, InputError, Problem
from planner.layers._table import row_label, rows_text
from planner.layers.admin import join_areas, read_admin, read_population_table, scale_population
from planner.layers.backdrop import read_backdrop
from planner.layers.displacement import read_displacement
from planner.layers.model import BeyondArea, Dropped, Flag, LayerInfo, VectorLayer
from planner.layers.population import PopulationLayer, read_population
from planner.layers.read_cache import READ_LAYERS, ReadKey
from planner.layers.roads import read_roads
from planner.layers.sites import read_sites
from planner.layers.specs import DisplacementSpec, ManifestSpec, PopulationTableSpec
from planner.layers.threats import read_threats
from planner.opening import safe_layer_file
from planner.settings import LimitsSettings

READERS: dict[str, Callable[..., LayerInfo | None]] = {
    "population": read_population,
    "sites": read_sites,
    "displacement": read_displacement,
    "threats": read_threats,
    "roads": read_roads,
    "backdrop": read_backdrop,
    "admin": read_admin,
    "population_table": read_population_table,
}
# Layers an assessment reads through its study area only (``load_layerset(area=...)``); threat layers too, with
# the reports beyond it that the checklist reads (``load_layerset(area=..., beyond=...)``)
AREA_KINDS = {"roads"}
# Point layers checked against the area: a point this far beyond the population raster's extent (in
# degrees, at least, or half the extent's size) is probably a wrong coordinate.
OUTSIDE_MARGIN_DEG = 0.25


@dataclass
class LayerSet:
    """The layers of one area, each read, validated and normalised."""

    area: str
    path: Path
    fictional: bool
    layers: dict[str, LayerInfo]
    description: str = ""
    flags: list[Flag] = field(default_factory=list)  # findings across layers

    def __iter__(self) -> Iterator[LayerInfo]:
        return iter(self.layers.values())

    def of_kind(self, kind: str) -> list[Any]:
        return [layer for layer in self.layers.values() if layer.kind == kind]

    @property
    def population(self) -> PopulationLayer | None:
        layers = self.of_kind("population")
        return layers[0] if layers else None

    @property
    def extent(self) -> tuple[float, float, float, float] | None:
        """Union of the layers' bounds in EPSG:4326."""
        boxes = [b for b in (_bounds(layer) for layer in self) if b is not None]
        if not boxes:
            return None
        arr = np.array(boxes)
        return (
            float(arr[:, 0].min()),
            float(arr[:, 1].min()),
            float(arr[:, 2].max()),
            float(arr[:, 3].max()),
        )

    def all_flags(self, on: date) -> list[Flag]:
        """Every data-quality flag for an operation on ``on``: each layer's, freshness, and cross-layer."""
        flags = []
        for layer in self:
            flags.extend(layer.flags)
            stale = layer.freshness_flag(on)
            if stale is not None:
                flags.append(stale)
        return flags + self.flags


def _within_limits(layer: LayerInfo, limits: LimitsSettings, problems: Collector) -> None:
    """What no layer may be: pixels finer than people can be counted at, text cells longer than any name."""
    if isinstance(layer, PopulationLayer):
        layer.max_window_pixels = limits.max_window_pixels
        if not layer.crs.is_geographic and layer.pixel_size_m < limits.min_pixel_m:
            problems.add(
                "",
                f"pixels of {layer.pixel_size_m:g} m ({layer.width:,} x {layer.height:,} of them): far finer than "
                "people can be counted at, and more than memory can read",
                "check the CRS and units of the raster; population rasters have pixels of about 30 m to 1 km",
            )
    if isinstance(layer, VectorLayer):
        frame = layer.frame
        for column in frame.columns:
            if column in ("geometry", "source_row") or not (
                frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column])
            ):
                continue
            lengths = frame[column].astype("string[pyarrow]").str.len().fillna(0)
            over = lengths > limits.max_cell_chars
            if over.any():
                problems.add(
                    rows_text(frame.loc[over, "source_row"].tolist()),
                    f"column '{column}' holds text of {int(lengths.max()):,} characters "
                    f"(at most {limits.max_cell_chars:,})",
                    "remove what is not a name, status or note from those cells (or raise [limits] max_cell_chars)",
                )


def _bounds(layer: LayerInfo) -> tuple[float, float, float, float] | None:
    if isinstance(layer, PopulationLayer | VectorLayer):
        return layer.bounds
    return None


def load_layerset(
    path: str | Path,
    on_layer: Callable[[str, int, int], None] | None = None,
    *,
    limits: LimitsSettings | None = None,
    area: tuple[float, float, float, float] | None = None,
    beyond: BeyondArea | None = None,
) -> LayerSet:
    """Read a manifest and every layer it names; raise one InputError with every problem found.

    ``on_layer(layer_id, number, count)`` is called as each layer starts to be read (progress for people);
    ``limits`` (the mission's ``[limits]``) bound what a layer may hold. With ``area`` (degrees, the study
    area of one assessment: see ``assess.reading_area``), roads are read only there: a national road network
    costs what the study area holds. Threat reports too, given ``beyond`` (``checklist.reports_beyond_area``):
    the reports beyond the area that the checklist's rules look for anywhere (a partner force's record) are
    read as well; without it, threat layers are read whole. Every other layer is read whole, as the nearest
    hospital may lie far away.
    """
    limits = limits or LimitsSettings()
    path = Path(path).resolve()  # stored resolved, like every layer it names
    spec = validate_model(ManifestSpec, load_yaml(path), path)
    problems: list[Problem] = []
    resolved: dict[str, Path] = {}
    for layer_id, layer_spec in spec.layers.items():
        file = (path.parent / layer_spec.path).resolve()
        if not file.exists():
            problems.append(
                Problem(
                    str(path),
                    f"layers.{layer_id}.path",
                    f"file not found: {file}",
                    "correct the path; it is relative to the manifest's folder",
                )
            )
        else:
            try:  # before any reader opens it: a regular file whose content is what its name says
                safe_layer_file(file, f"layers.{layer_id}.path")
            except InputError as exc:
                problems.extend(exc.problems)
        resolved[layer_id] = file
    if problems:
        raise InputError(problems)

    layers: dict[str, LayerInfo] = {}
    for number, (layer_id, layer_spec) in enumerate(spec.layers.items(), start=1):
        if on_layer is not None:
            on_layer(layer_id, number, len(spec.layers))
        layer, collector = _read_layer(layer_id, layer_spec, resolved[layer_id], area, beyond)
        if layer is not None:
            _within_limits(layer, limits, collector)
        problems.extend(collector.problems)
        if layer is not None and not collector.problems:
            if isinstance(layer, VectorLayer) and layer.holds_nothing:
                layer.flags.append(
                    Flag(
                        "empty",
                        layer_id,
                        f"layer '{layer_id}' holds no features: what it should show is unknown, not absent",
                    )
                )
            layers[layer_id] = layer
    layerset = LayerSet(spec.area, path, spec.fictional, layers, spec.description)
    problems.extend(_join_admin_areas(layerset, spec, path))
    problems.extend(_check_against_area(layerset, path))
    if problems:
        raise InputError(problems)
    return layerset


def _read_layer(
    layer_id: str,
    spec: Any,
    file: Path,
    area: tuple[float, float, float, float] | None = None,
    beyond: BeyondArea | None = None,
) -> tuple[LayerInfo | None, Collector]:
    """Read one layer, or take it as read before in this process from the same file (``read_cache``)."""
    source = f"{file} (layer '{layer_id}')"
    collector = Collector(source)
    reader = READERS[spec.kind]
    if area is not None and spec.kind in AREA_KINDS:
        reader = partial(reader, area=area)
    elif area is not None and spec.kind == "threats" and beyond is not None:
        reader = partial(reader, area=area, beyond=beyond)
    else:
        area = beyond = None  # read whole: one cached layer serves every study area
    key = ReadKey.of(file, layer_id, spec.model_dump_json(), area, beyond) if _kept_read(spec) else None
    if key is not None and (kept := READ_LAYERS.get(key)) is not None:
        return kept, collector
    layer, collector = _read_counting_bad_rows(layer_id, spec, file, reader, collector)
    if key is not None and isinstance(layer, VectorLayer) and not collector.problems:
        READ_LAYERS.put(key, layer)
    return layer, collector


def _kept_read(spec: Any) -> bool:
    """Whether a layer, once read, is kept for the next reading of the same file: vector layers that nothing
    changes after reading (not the raster, nor figures joined to admin areas and scaling it)."""
    if spec.kind in {"population", "population_table"}:
        return False
    return not (isinstance(spec, DisplacementSpec) and spec.admin is not None)


def _read_counting_bad_rows(
    layer_id: str, spec: Any, file: Path, reader: Callable[..., LayerInfo | None], collector: Collector
) -> tuple[LayerInfo | None, Collector]:
    """A few unreadable rows (a line cut short, a value that is no number or date) are dropped and listed, and
    the layer read without them, unless more than ``max_bad_rows`` of it fails."""
    source = collector.source
    layer = reader(layer_id, spec, file, collector)
    bad = sorted({row for p in collector.problems for row in p.rows})
    if not collector.problems or not all(p.rows for p in collector.problems):
        return layer, collector
    share = getattr(spec, "max_bad_rows", 0.0)
    if len(bad) > share * collector.rows_read:
        collector.problems.insert(
            0,
            Problem(
                source,
                "",
                f"{len(bad)} of {collector.rows_read} rows cannot be read, more than `max_bad_rows` "
                f"({share:.0%}) allows to leave out",
                "correct the rows listed below; or, if losing them is acceptable, raise `max_bad_rows:` for this layer",
            ),
        )
        return None, collector
    retry = Collector(source, skip_rows=frozenset(bad))
    layer = reader(layer_id, spec, file, retry)
    if layer is not None and not retry.problems:
        for problem in collector.problems:
            layer.dropped.append(Dropped(problem.rows, f"{problem.message} ({problem.fix})"))
        layer.flags.append(
            Flag(
                "rows_dropped",
                layer_id,
                f"{len(bad)} row(s) of '{layer_id}' could not be read and were left out "
                f"({rows_text(bad, row_label(file))}): what they hold is missing from the estimate; correct them "
                "in the file",
                tuple(bad),
            )
        )
    return layer, retry


def _join_admin_areas(layerset: LayerSet, spec: ManifestSpec, manifest: Path) -> list[Problem]:
    """Figures given per admin area get their areas from the boundary layer they name (``admin:``)."""
    problems: list[Problem] = []
    # Population tables first: they scale the raster that spreads displaced people per area
    ordered = sorted(spec.layers.items(), key=lambda item: not isinstance(item[1], PopulationTableSpec))
    for layer_id, layer_spec in ordered:
        figures = layerset.layers.get(layer_id)
        if (
            not isinstance(layer_spec, DisplacementSpec | PopulationTableSpec)
            or layer_spec.admin is None
            or not isinstance(figures, VectorLayer)
        ):
            continue
        admin_id = layer_spec.admin
        admin = layerset.layers.get(admin_id)
        if not isinstance(admin, VectorLayer) or admin.kind != "admin":
            problems.append(
                Problem(
                    str(manifest),
                    f"layers.{layer_id}.admin",
                    f"'{admin_id}' is not an admin boundary layer of this layer set",
                    "name a layer of `kind: admin` (e.g. OCHA COD-AB boundaries) that this manifest lists",
                )
            )
            continue
        joined = join_areas(figures, admin, layerset.population, manifest, layer_spec.admin_names)
        problems.extend(joined)
        if not joined and figures.kind == "population_table" and layerset.population is not None:
            scale_population(figures, layerset.population)
    return problems


def _check_against_area(layerset: LayerSet, manifest: Path) -> list[Problem]:
    """Points far outside the population raster: swapped lat/lon (an error) or a few wrong coordinates (a flag)."""
    population = layerset.population
    if population is None:
        return []
    west, south, east, north = population.bounds
    margin = max(OUTSIDE_MARGIN_DEG, (east - west) / 2, (north - south) / 2)
    problems = []
    for layer in layerset:
        if (
            not isinstance(layer, VectorLayer)
            or layer.kind not in {"sites", "displacement", "threats"}
            or not len(layer)
        ):
            continue
        geometries = layer.frame.geometry.to_numpy()
        if not bool((shapely.get_type_id(geometries) == shapely.GeometryType.POINT).all()):
            geometries = shapely.point_on_surface(geometries)
        x, y = shapely.get_x(geometries), shapely.get_y(geometries)

        def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return (x >= west - margin) & (x <= east + margin) & (y >= south - margin) & (y <= north + margin)

        outside = ~inside(x, y)
        if not outside.any():
            continue
        rows = layer.frame.loc[outside, "source_row"].tolist()
        if outside.mean() >= 0.5 and inside(y, x).mean() >= 0.5:
            problems.append(
                Problem(
                    str(layer.path),
                    rows_text(rows),
                    "latitude and longitude look swapped: the points fall inside the area only with x and y exchanged",
                    f"exchange `lat:` and `lon:` for layer '{layer.id}' in {manifest.name}, or fix "
                    "the file's coordinate order (GeoJSON is [lon, lat])",
                )
            )
            continue
        layerset.flags.append(
            Flag(
                "outside_area",
                layer.id,
                f"{len(rows)} feature(s) of '{layer.id}' lie far outside the area "
                f"(beyond the population raster by more than {margin:.2f}°): probably wrong "
                "coordinates; check them",
                tuple(rows),
            )
        )
    return problems
