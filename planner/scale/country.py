"""Whole-country surfaces: for a mission's whole area, cell by cell, who lives there, how far care is, and
how much violence is recent, written as one multi-band Cloud-Optimised GeoTIFF (``primum surface``).

Bands (float32, NaN where the figure is unknown, never zero):

1. ``people``: people per cell, the population raster resampled as a density so totals hold
   (``surface.people_on_grid``, the assessment's own reading);
2. ``health_minutes``: minutes to the nearest functional (or possibly functional) health facility: walking
   straight to the nearest passable road, then driving along it and on to care, over the road graph
   ``access`` searches (``network.build_graph``, one multi-source search from every facility). Unknown beyond
   ``max_snap_m`` of any road, or where no road reaches a facility. (``access`` walks to the nearest junction
   instead: on national networks, whose junctions lie tens of kilometres apart, that leaves most cells
   unknown);
3. ``threat_density``: weighted reports per km² in the threat window before the date, weighted by age,
   precision and kind as the threat context weighs them (``threat.threat_density``);
4. ``people_near_attacks``: the people of the cells within ``distance_m`` of an attack on civilians (or
   sexual violence) in the threat window: their sum over an area is the people within reach of recent attacks.
   Without any threat-report layer, bands 3 and 4 are unknown (NaN), never calm.

What every cell needs (the road network's times, the reports) is computed once and sent to each worker once;
the grid is then cut into chunks, each reading its own window of the population raster, so no worker ever
holds the whole raster. Chunks are written into a tiled GeoTIFF as they come back, and the file is turned
into a COG (with overviews) once complete, under a temporary name: a failed run leaves nothing half-written.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
import rasterio.shutil
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.windows import Window
from scipy.spatial import cKDTree

from planner import __version__
from planner.access import essential_targets
from planner.effects import Zone
from planner.errors import InputError
from planner.geo import WGS84, transformer
from planner.layers.manifest import LayerSet
from planner.layers.population import PopulationLayer
from planner.network import build_graph, same_piece_pairs, straight_segments
from planner.scale.cluster import Progress, each_chunk
from planner.settings import Settings
from planner.surface import people_on_grid
from planner.threat import KERNEL_REACH, Report, threat_context, threat_density

if TYPE_CHECKING:
    from distributed import Client

BANDS = ("people", "health_minutes", "threat_density", "people_near_attacks")
ATTACK_KINDS = {"attack_on_civilians", "sexual_violence"}
CHUNK_CELLS = 1024  # a chunk is at most 1024 x 1024 cells: 4 bands of float64 while computed, 32 MB
POINT_BATCH = 131_072  # cells made into points at once for the nearest-road search (about 30 MB of geometries)
MAX_CELLS = 2_000_000_000  # 40,000 x 50,000: a whole country at 100 m; beyond, a cell size in the wrong unit


@dataclass(frozen=True)
class Grid:
    """The surface's grid: north-up, in a metric CRS, whole cells."""

    crs: str  # WKT
    transform: Affine
    shape: tuple[int, int]
    centre: tuple[float, float] = (0.0, 0.0)  # lon, lat of the projection's centre

    @property
    def crs_text(self) -> str:
        lon, lat = self.centre
        return f"Lambert azimuthal equal-area centred on {lat:.2f}N {lon:.2f}E"

    @property
    def cell_m(self) -> float:
        return float(self.transform.a)


@dataclass(frozen=True)
class Reach:
    """The passable road pieces cut into their straight segments, the driving time to the nearest health
    facility from each piece's ends, and the facilities that stand by a piece (reached straight along it)."""

    segments: np.ndarray  # LineString of two points each, working CRS
    piece: np.ndarray  # the road piece each segment belongs to
    along_m: np.ndarray  # where each segment starts along its piece
    length_m: np.ndarray  # each piece's length
    time_s: np.ndarray  # driving time along each whole piece
    from_start_s: np.ndarray  # driving time to care from each piece's first vertex (inf: none by road)
    from_end_s: np.ndarray
    walk_mps: float
    max_snap_m: float
    # Facilities by a piece: the piece, where along it (share from its first vertex), and the walk to them (s)
    beside_piece: np.ndarray
    beside_share: np.ndarray
    beside_walk_s: np.ndarray

    @classmethod
    def of(cls, lines: np.ndarray, time_s: np.ndarray, from_start_s: np.ndarray, from_end_s: np.ndarray,
           beside: tuple[np.ndarray, ...], *, walk_mps: float, max_snap_m: float) -> Reach:  # fmt: skip
        segments, piece, along = straight_segments(lines)
        length = np.bincount(piece, weights=shapely.length(segments), minlength=lines.size)
        return cls(segments, piece, along, length, time_s, from_start_s, from_end_s, walk_mps, max_snap_m, *beside)

    @cached_property
    def tree(self) -> shapely.STRtree:  # built once per worker process, on its first chunk
        # Straight segments have small boxes: a nearest search over whole national roads (hundreds of km
        # each, their boxes overlapping everywhere) costs twenty times more
        return shapely.STRtree(self.segments)

    def minutes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Walk straight to the nearest passable road, then drive along it and on to care; NaN beyond
        ``max_snap_m`` of any road or where no road leads to care."""
        found = np.full(x.size, np.nan)
        if self.segments.size == 0:
            return found
        for part in range(0, x.size, POINT_BATCH):  # a geometry per cell costs memory: a batch at a time
            cut = slice(part, part + POINT_BATCH)
            found[cut] = self._minutes(x[cut], y[cut])
        return found

    def _minutes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        found = np.full(x.size, np.nan)
        points = shapely.points(x, y)
        (cell, segment), walk_m = self.tree.query_nearest(
            points, max_distance=self.max_snap_m, return_distance=True, all_matches=False
        )
        piece = self.piece[segment]
        along_m = self.along_m[segment] + shapely.line_locate_point(self.segments[segment], points[cell])
        share = np.clip(along_m / np.maximum(self.length_m[piece], 1e-9), 0.0, 1.0)
        drive = np.minimum(
            share * self.time_s[piece] + self.from_start_s[piece],
            (1 - share) * self.time_s[piece] + self.from_end_s[piece],
        )
        # No junction between a cell's road and a facility's on the same piece: straight along it
        at, by = same_piece_pairs(piece, self.beside_piece)
        straight = np.abs(share[at] - self.beside_share[by]) * self.time_s[piece[at]] + self.beside_walk_s[by]
        np.minimum.at(drive, at, straight)
        found[cell] = (walk_m / self.walk_mps + drive) / 60
        found[~np.isfinite(found)] = np.nan
        return found


@dataclass(frozen=True)
class Threats:
    """The reports of the threat window (working CRS), for the density and the people near attacks."""

    reports: tuple[Report, ...]
    bandwidth_m: float
    reach_m: float
    known: bool  # False: no threat-report layer holds reports; both bands are then unknown, not calm

    @cached_property
    def xy(self) -> np.ndarray:
        return np.array([[r.x, r.y] for r in self.reports]).reshape(-1, 2)

    @cached_property
    def attacks(self) -> cKDTree | None:
        points = [[r.x, r.y] for r in self.reports if r.kind in ATTACK_KINDS or r.civilian_targeting]
        return cKDTree(np.array(points)) if points else None


@dataclass(frozen=True)
class Inputs:
    """Everything a chunk needs besides its window; sent to each worker once."""

    grid: Grid
    population: PopulationLayer | None
    reach: Reach | None
    threats: Threats


@dataclass
class CountrySurface:
    """What ``country_surface`` wrote, with the totals a GIS cell checks first."""

    path: Path
    grid: Grid
    on: date
    chunks: int
    totals: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def mission_grid(layerset: LayerSet, cell_m: float) -> Grid:
    """A grid over the population raster (the mission's whole area), or over every layer when there is none,
    in a Lambert azimuthal equal-area projection centred on it: a cell's people are the people of its true
    area (a UTM zone stretches areas by up to 2.4 % across a country as wide as South Sudan), and distances
    stay within 0.2 % of the ground's up to 6 degrees from the centre."""
    if layerset.population is not None:
        bounds = layerset.population.bounds
    else:
        boxes = [b for layer in layerset if layer.kind != "backdrop" and (b := getattr(layer, "bounds", None))]
        if not boxes:
            raise InputError.single(layerset.path, "layers", "no layer says where the mission area is", "")
        bounds = shapely.union_all([shapely.box(*b) for b in boxes]).bounds
    crs = equal_area_crs(bounds)
    west, south, east, north = transformer(WGS84, crs).transform_bounds(*bounds, densify_pts=21)
    west, south = math.floor(west / cell_m) * cell_m, math.floor(south / cell_m) * cell_m
    east, north = math.ceil(east / cell_m) * cell_m, math.ceil(north / cell_m) * cell_m
    shape = (round((north - south) / cell_m), round((east - west) / cell_m))
    if shape[0] * shape[1] > MAX_CELLS:
        raise InputError.single(
            "--cell",
            f"{cell_m:g}",
            f"{shape[0]:,} x {shape[1]:,} cells: at most {MAX_CELLS:,} are computed in one surface",
            "give the cell size in metres (100 is the usual)",
        )
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    return Grid(crs.to_wkt(), Affine(cell_m, 0, west, 0, -cell_m, north), shape, centre)


def equal_area_crs(bounds: tuple[float, float, float, float]) -> CRS:
    west, south, east, north = bounds
    lat, lon = round((south + north) / 2, 2), round((west + east) / 2, 2)
    return CRS.from_proj4(f"+proj=laea +lat_0={lat} +lon_0={lon} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs")


def chunk_windows(grid: Grid, size: int = CHUNK_CELLS) -> list[Window]:
    rows, cols = grid.shape
    return [
        Window(c, r, min(size, cols - c), min(size, rows - r))
        for r in range(0, rows, size)
        for c in range(0, cols, size)
    ]


def prepare(layerset: LayerSet, grid: Grid, on: date, settings: Settings, season: str) -> tuple[Inputs, list[str]]:
    """The road network's times and the window's reports, once for the whole grid; and what weakens them."""
    crs = CRS.from_user_input(grid.crs)
    rows, cols = grid.shape
    west, north = grid.transform.c, grid.transform.f
    bounds = (west, north - rows * grid.cell_m, west + cols * grid.cell_m, north)
    flags: list[str] = []
    reach = None
    roads = layerset.of_kind("roads")
    if not roads:
        flags.append("no roads layer: travel time to care is unknown everywhere (band left empty, not zero)")
    else:
        graph = build_graph(roads[0], crs, bounds, settings.access, season)
        targets, far = essential_targets(layerset, crs, graph, "health", settings.access)
        flags += [flag.message for flag in far]
        if len(targets) == 0:
            flags.append("no functional health facility lies near a road: travel time to care is unknown")
        seconds = graph.times_from(*graph.starts(targets.landing, targets.walk_s))
        open_pieces = np.flatnonzero(graph.passable)
        lines = graph.geometry[open_pieces]
        u, v = graph.edges.u[open_pieces], graph.edges.v[open_pieces]
        u_first = graph.runs_from_u[open_pieces]
        first_node, last_node = np.where(u_first, u, v), np.where(u_first, v, u)
        by = targets.landing.edge  # every target landed on a passable piece, so on one of ``open_pieces``
        beside = (
            np.searchsorted(open_pieces, by),
            np.where(graph.runs_from_u[by], targets.landing.share, 1.0 - targets.landing.share),
            targets.walk_s,
        )
        reach = Reach.of(
            lines,
            graph.edges.time_s[open_pieces],
            seconds[first_node],
            seconds[last_node],
            beside,
            walk_mps=settings.access.offroad_kmh / 3.6,
            max_snap_m=settings.access.max_snap_m,
        )
    area = shapely.box(*bounds)
    whole = Zone("mission area", "", area, area, area, 0.0, 0.0, "linear", "")
    start = datetime.combine(on, time(0), tzinfo=UTC)
    context = threat_context([whole], layerset, start, crs, settings.threat)
    flags += [flag.message for flag in context.flags]
    known = not any(flag.code == "no_data" for flag in context.flags)
    threats = Threats(tuple(context.reports), settings.threat.bandwidth_m, settings.threat.distance_m, known)
    return Inputs(grid, layerset.population, reach, threats), flags


def chunk_bands(window: Window, *, inputs: Inputs) -> np.ndarray:
    """The four bands over one window of the grid (runs on a worker)."""
    grid = inputs.grid
    rows, cols = int(window.height), int(window.width)
    cell = grid.cell_m
    transform = grid.transform @ Affine.translation(window.col_off, window.row_off)
    crs = CRS.from_user_input(grid.crs)
    bands = np.full((len(BANDS), rows, cols), np.nan)
    people = people_on_grid(inputs.population, crs, transform, (rows, cols))
    bands[0] = people
    xs = transform.c + cell * (np.arange(cols) + 0.5)
    ys = transform.f - cell * (np.arange(rows) + 0.5)
    x, y = (a.ravel() for a in np.meshgrid(xs, ys))
    if inputs.reach is not None:
        bands[1] = inputs.reach.minutes(x, y).reshape(rows, cols)
    threats = inputs.threats
    if not threats.known:
        return bands.astype("float32")  # no reports to count: unknown, never zero
    margin = KERNEL_REACH * threats.bandwidth_m  # beyond it a report adds nothing to the density
    if threats.reports:
        near = np.flatnonzero(
            (threats.xy[:, 0] >= xs[0] - margin)
            & (threats.xy[:, 0] <= xs[-1] + margin)
            & (threats.xy[:, 1] >= ys[-1] - margin)
            & (threats.xy[:, 1] <= ys[0] + margin)
        )
        bands[2] = threat_density([threats.reports[i] for i in near], transform, (rows, cols), threats.bandwidth_m)
    else:
        bands[2] = 0.0
    if threats.attacks is not None:
        distance, _ = threats.attacks.query(np.column_stack([x, y]), distance_upper_bound=threats.reach_m)
        within = np.isfinite(distance).reshape(rows, cols)
        bands[3] = np.where(within, people, np.where(np.isnan(people), np.nan, 0.0))
    else:
        bands[3] = np.where(np.isnan(people), np.nan, 0.0)
    return bands.astype("float32")


def country_surface(
    layerset: LayerSet,
    out: str | Path,
    *,
    cell_m: float = 100.0,
    on: date | None = None,
    settings: Settings | None = None,
    season: str = "dry",
    client: Client | None = None,
    progress: Progress | None = None,
    chunk_cells: int = CHUNK_CELLS,
) -> CountrySurface:
    """Compute the four bands over the mission area of ``layerset`` and write them to ``out`` (a COG)."""
    settings = settings or Settings()
    on = on or date.today()
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError.single(out, "", "its folder does not exist", "create the folder or name another path")
    grid = mission_grid(layerset, cell_m)
    inputs, flags = prepare(layerset, grid, on, settings, season)
    windows = chunk_windows(grid, chunk_cells)
    totals = dict.fromkeys(BANDS, 0.0)
    tags = {
        "primum_version": __version__,
        "layerset": str(layerset.path),
        "area": layerset.area,
        "fictional": str(layerset.fictional),
        "on": on.isoformat(),
        "season": season,
        "settings_sha256": settings.sha256,
        "layers": "; ".join(f"{layer.id}={layer.sha256}" for layer in layerset),
    }
    tiled = out.with_name(f".{out.name}.tiles.tmp")
    final = out.with_name(f".{out.name}.tmp")
    try:
        profile = {
            "driver": "GTiff",
            "dtype": "float32",
            "count": len(BANDS),
            "height": grid.shape[0],
            "width": grid.shape[1],
            "crs": grid.crs,
            "transform": grid.transform,
            "nodata": float("nan"),
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "deflate",
            "predictor": 3,
            "BIGTIFF": "IF_SAFER",
        }
        with rasterio.open(tiled, "w", **profile) as dst:
            for band, (name, text) in enumerate(_descriptions(settings, on, season).items(), start=1):
                dst.set_band_description(band, name)
                dst.update_tags(band, meaning=text)
            dst.update_tags(**tags)
            for i, bands in each_chunk(chunk_bands, windows, client=client, progress=progress, inputs=inputs):
                dst.write(bands, window=windows[i])
                for band, name in enumerate(BANDS):
                    if name in ("people", "people_near_attacks"):
                        totals[name] += float(np.nansum(bands[band], dtype="float64"))
        with rasterio.Env(GDAL_NUM_THREADS=str(os.cpu_count() or 1)):
            rasterio.shutil.copy(
                tiled, final, driver="COG", COMPRESS="DEFLATE", PREDICTOR="3", BLOCKSIZE="512", RESAMPLING="AVERAGE"
            )
        final.replace(out)
    finally:
        for leftover in (tiled, final):
            leftover.unlink(missing_ok=True)
    del totals["health_minutes"], totals["threat_density"]
    if not inputs.threats.known:
        totals["people_near_attacks"] = math.nan
    return CountrySurface(out, grid, on, len(windows), totals, flags)


def _descriptions(settings: Settings, on: date, season: str) -> dict[str, str]:
    access, threat = settings.access, settings.threat
    window = f"in the {threat.window_days} days before {on.isoformat()}"
    return {
        "people": "people per cell (population raster resampled as a density so totals hold); NaN: no data",
        "health_minutes": (
            f"minutes to the nearest functional or possibly functional health facility: walk straight to the "
            f"nearest passable road at {access.offroad_kmh:g} km/h, then drive ({season} season); NaN: farther "
            f"than {access.max_snap_m:g} m from any road, or no road reaches a facility"
        ),
        "threat_density": (
            f"weighted threat reports per km2 {window} (age, precision and kind weights; Gaussian kernel of "
            f"{threat.bandwidth_m:g} m)"
        ),
        "people_near_attacks": (
            f"people of the cells within {threat.distance_m:g} m of an attack on civilians or sexual violence "
            f"{window}; NaN: no population data"
        ),
    }


def read_band_names(path: str | Path) -> dict[str, Any]:
    """A surface's bands, meanings and tags, as the dashboard and a GIS cell read them back."""
    with rasterio.open(path, driver="GTiff") as src:
        return {
            "bands": {src.descriptions[i]: src.tags(i + 1).get("meaning", "") for i in range(src.count)},
            "tags": src.tags(),
            "crs": src.crs.to_string(),
            "shape": (src.height, src.width),
            "overviews": src.overviews(1),
        }
