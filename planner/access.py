"""Access on the road network during the operation: health reach, places cut off, routes, CASEVAC.

For one COA, over the study area:

- **closures**: road pieces that cross a cordon, the core of an element that ``closes_roads``, or every
  core when the plan says ``close_core_roads``; they are closed for the operation's window.
- **health reach**: travel time from each displacement site and each populated cell to the nearest
  functioning health facility, before and during the operation: walk straight to the nearest passable road at
  ``offroad_kmh``, drive along it to either of its junctions and on, and walk from the road to the facility
  (or drive straight along the piece when the facility stands by the same one). Places farther than
  ``max_snap_m`` from any road are "not on the network": flagged, never counted as reachable. On a closed
  piece only the stretch the closure shuts is lost: a place beside the piece drives to the junction on its
  side.
- **cut off**: places that could reach health, water or a market before and cannot during, with the closed
  roads that cause it; and essential sites no community can reach any more.
- **routes**: for route elements, the people along the corridor, the markets passed and whether they are
  open in the window, and the alternatives the network offers between the points where the route meets the
  road at each end (k shortest paths by exposure-weighted time).
- **CASEVAC**: from each element, the fastest road to a functioning civilian hospital and to the UN medical
  facilities the plan names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache, partial
from typing import Any, TypeVar

import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from planner.effects import EffectsTable, Zone
from planner.exposure import SiteHit
from planner.geo import WGS84, transformer
from planner.layers.manifest import LayerSet
from planner.layers.model import Flag, VectorLayer
from planner.layers.sites import open_during
from planner.network import Closed, Landing, RoadGraph, build_graph
from planner.places import Gazetteer
from planner.plan import COA, Plan
from planner.settings import AccessSettings
from planner.surface import RiskSurface

T = TypeVar("T")

ESSENTIAL = ("health", "water", "market")
# A stretch of road shorter than this is no stretch (where a way starts or ends at a junction)
NOTHING_M = 0.01


@dataclass(frozen=True)
class Closure:
    road_id: str
    road_class: str
    element: str
    length_m: float
    sole_link: bool = False  # the only road link of what lies beyond it
    bridge: bool = False  # the roads layer marks it as a bridge
    geometry: BaseGeometry | None = None  # the closed piece itself (EPSG:4326), not its whole road


@dataclass(frozen=True)
class PlaceReach:
    """Health reach of one displacement site, before and during (minutes; None = cannot reach)."""

    layer: str
    id: str
    name: str | None
    people: float | None
    before_min: float | None
    during_min: float | None
    on_network: bool
    snap_m: float | None  # metres to the nearest passable road (None: no passable road in the network)


@dataclass(frozen=True)
class HealthReach:
    limit_min: float
    facilities: int  # functioning (or possibly functioning) facilities on the network
    people_worse: float  # residents whose reach gets longer by a minute or more
    worse_by_min: float  # the largest increase for residents who can still reach care
    people_beyond_before: float  # beyond the limit or unreachable
    people_beyond_during: float
    people_newly_beyond: float  # within the limit before, beyond it (or cut off) during
    people_off_network: float
    sites: list[PlaceReach]
    # Flat indices (into the risk surface's grid) of the cells counted in people_newly_beyond.
    lost_cells: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))


@dataclass(frozen=True)
class CutOff:
    """A group of places that loses every road to an essential service during the operation."""

    kind: str  # "community" (populated cells), "displacement" or "site"
    name: str
    people: float
    lost: tuple[str, ...]  # essential categories no longer reachable
    closed_roads: tuple[str, ...]  # closed road pieces on the edge of the group's part of the network
    x: float  # working CRS, a point of the group
    y: float


@dataclass(frozen=True)
class RouteOption:
    time_min: float
    length_km: float
    people_along: float
    roads: tuple[str, ...]
    geometry: BaseGeometry  # EPSG:4326


@dataclass(frozen=True)
class RouteFinding:
    element: str
    people_along: float
    sites: list[str]  # "name (category)"
    markets: list[dict[str, object]]  # name, hours, open_during
    window: str
    planned: RouteOption | None
    alternatives: list[RouteOption]
    sole_links: tuple[str, ...] = ()  # roads the planned route follows that are the only link of what lies beyond
    earth_roads: tuple[str, ...] = ()  # roads the planned route follows whose surface is earth-like


@dataclass(frozen=True)
class Casevac:
    element: str
    patients: str  # "civilian" or "UN"
    facility: str | None
    time_min: float | None
    geometry: BaseGeometry | None  # EPSG:4326
    reason: str = ""  # why no route was found


@dataclass
class Access:
    season: str
    network_edges: int
    closures: list[Closure] = field(default_factory=list)
    health: HealthReach | None = None
    cut_off: list[CutOff] = field(default_factory=list)
    routes: list[RouteFinding] = field(default_factory=list)
    casevac: list[Casevac] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    """Points of one kind of destination that lie near a road: where each joins the network, its walk from
    the road (s), its label and its position (working CRS)."""

    landing: Landing
    walk_s: np.ndarray
    labels: list[str]
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def access(
    plan: Plan,
    coa: COA,
    zones: list[Zone],
    *,
    layerset: LayerSet,
    crs: CRS,
    surface: RiskSurface,
    hits: list[SiteHit],
    effects: EffectsTable,
    settings: AccessSettings,
    gazetteer: Gazetteer | None = None,
) -> Access:
    """What ``coa`` does to travel: closures, health reach, places cut off, routes and CASEVAC. Communities cut
    off are named after the nearest named place of ``gazetteer`` and an MGRS reference (the grid's figures
    without one)."""
    roads = layerset.of_kind("roads")
    if not roads:
        result = Access(plan.season, 0)
        result.flags.append(
            Flag("no_data", "-", "no roads layer: health reach, cut-offs and CASEVAC are unknown, not fine")
        )
        return result
    graph = _shared(  # one graph per assessment: every COA's closures are made on the same roads
        surface,
        ("graph", id(roads[0]), plan.season),
        lambda: build_graph(roads[0], crs, surface.bounds, settings, plan.season),
    )
    result = Access(plan.season, len(graph))
    if len(graph) == 0:
        result.flags.append(
            Flag("no_roads", roads[0].id, f"no road of '{roads[0].id}' lies in the study area: access is unknown")
        )
        return result
    closed, result.closures = closures(graph, plan, coa, zones, effects=effects, roads=roads[0], crs=crs)
    # What depends on the study area and the roads only is found once per assessment, shared by every COA
    targets = {}
    for category in ESSENTIAL:
        targets[category], far = _shared(
            surface,
            ("essential", id(graph), category),
            partial(essential_targets, layerset, crs, graph, category, settings),
        )
        result.flags.extend(far)
    places = _shared(surface, ("places", id(graph)), lambda: _places(surface, layerset, crs, graph, settings))
    searches = _shared(surface, ("searches", id(graph)), lambda: _Searches(graph, settings))
    result.health = _health(searches, closed, targets["health"], places, settings=settings)
    result.cut_off = _cut_off(searches, closed, targets, places, gazetteer=gazetteer)
    earth = _shared(surface, ("earth", id(graph)), lambda: _earth(graph, roads[0], settings))
    routes = [zone for zone in zones if _is_route(coa, zone)]
    result.routes = [
        _route(
            graph,
            closed.mask,
            surface=surface,
            zone=zone,
            ends=ends,
            hits=hits,
            plan=plan,
            crs=crs,
            settings=settings,
            earth=earth,
        )
        for zone, ends in zip(routes, _route_ends(graph, routes, settings), strict=True)
    ]
    care = _shared(
        surface, ("care", id(graph)), lambda: _care_facilities(graph, layerset, plan, crs, settings.max_snap_m)
    )
    result.casevac = _casevac(searches, zones, care, crs=crs, result=result)
    if places.off_network_people > 0:
        result.flags.append(
            Flag(
                "off_network",
                roads[0].id,
                f"about {places.off_network_people:,.0f} people live farther than {settings.max_snap_m:,.0f} m "
                "from any passable road of the network: their health reach is unknown, not counted as reachable",
            )
        )
    parts = np.bincount(graph.components())
    if parts.size > 1:
        result.flags.append(
            Flag(
                "disconnected_roads",
                roads[0].id,
                f"the roads of '{roads[0].id}' around the study area fall into {parts.size} unconnected parts "
                f"(the largest has {parts.max()} of {graph.nodes} junctions): places in different parts cannot "
                "reach each other by road in this data, which may miss links (check CASEVAC and reach by hand)",
            )
        )
    if graph.parallel:
        result.flags.append(
            Flag(
                "parallel_roads",
                roads[0].id,
                f"{graph.parallel} road piece(s) run beside a faster one between the same junctions: "
                "the fastest open one is used",
            )
        )
    return result


def _earth(graph: RoadGraph, roads: VectorLayer, settings: AccessSettings) -> np.ndarray:
    """Edges whose road has an earth-like surface (heavy vehicles damage them, rain closes them)."""
    surfaces = roads.column("surface")[graph.road_row]
    earth = {s.lower() for s in settings.earth_surfaces}
    return np.array([isinstance(v, str) and v.strip().lower() in earth for v in surfaces], dtype=bool)


def closures(
    graph: RoadGraph,
    plan: Plan,
    coa: COA,
    zones: list[Zone],
    *,
    effects: EffectsTable,
    roads: VectorLayer,
    crs: CRS,
) -> tuple[Closed, list[Closure]]:
    """Which edges the COA closes during its window and the stretch of each it shuts (the part inside the
    closing area), and for each closed piece its road, the element that closes it and the piece's own line (a
    road runs on for kilometres beyond a cordon: only the piece is closed)."""
    elements = {e.id: e for e in coa.elements}
    marked_bridge = roads.column("bridge")[graph.road_row]
    closed = np.zeros(len(graph), dtype=bool)
    low, high = np.full(len(graph), np.nan), np.full(len(graph), np.nan)
    areas: list[BaseGeometry] = []
    found: list[Closure] = []
    pieces: list[int] = []
    for zone in zones:
        element = elements[zone.element]
        spec = effects[element.activity]
        if (spec.cordon and element.shape_kind == "area") or element.closes_roads or plan.close_core_roads:
            area = zone.core
        else:
            continue
        if area.is_empty:
            continue
        areas.append(area)
        crossing = np.sort(graph.tree.query(area, predicate="intersects"))
        start, end = _shut_stretch(graph, crossing, area)
        low[crossing] = np.fmin(low[crossing], start)
        high[crossing] = np.fmax(high[crossing], end)
        for edge in crossing:
            if not closed[edge]:
                found.append(
                    Closure(
                        str(graph.road_ids[edge]),
                        str(graph.road_classes[edge]),
                        zone.element,
                        float(graph.length_m[edge]),
                        sole_link=bool(graph.sole_links[edge]),
                        bridge=bool(marked_bridge[edge]),
                    )
                )
                pieces.append(int(edge))
            closed[edge] = True
    if pieces:  # one projection for every piece the COA closes
        lines = shapely.transform(graph.geometry[pieces], transformer(crs, WGS84).transform, interleaved=False)
        found = [replace(c, geometry=line) for c, line in zip(found, lines, strict=True)]
    return Closed(closed, low, high, shapely.union_all(areas) if areas else None), found


def _shut_stretch(graph: RoadGraph, edges: np.ndarray, area: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``edges`` enters and last leaves ``area``, as shares from its junction ``u`` (a road that
    leaves and enters again is shut from its first entry to its last exit)."""
    if edges.size == 0:
        return np.array([]), np.array([])
    lines = graph.geometry[edges]
    inside = shapely.intersection(lines, area)
    coords, which = shapely.get_coordinates(inside, return_index=True)
    drawn = shapely.line_locate_point(lines[which], shapely.points(coords), normalized=True)
    share = np.where(graph.runs_from_u[edges[which]], drawn, 1.0 - drawn)
    start, end = np.full(edges.size, np.nan), np.full(edges.size, np.nan)
    np.fmin.at(start, which, share)
    np.fmax.at(end, which, share)
    return start, end


def _shared(surface: RiskSurface, key: tuple[object, ...], make: Callable[[], T]) -> T:
    """``make()``, once per surface (one assessment's study area) and ``key``."""
    return _once(surface.derived, key, make)


def _once(store: dict[Any, Any], key: object, make: Callable[[], T]) -> T:
    """``make()``, kept in ``store`` under ``key`` and made only the first time."""
    if key not in store:
        store[key] = make()
    found: T = store[key]
    return found


def essential_targets(
    layerset: LayerSet, crs: CRS, graph: RoadGraph, category: str, settings: AccessSettings
) -> tuple[Targets, list[Flag]]:
    """Sites of an essential category that work (or may work), where each joins the network; and the flag
    saying how many lie too far from any road of the network."""
    xs: list[float] = []
    ys: list[float] = []
    labels: list[str] = []
    key = ("essential sites", category, CRS.from_user_input(crs).to_string())
    for layer in layerset.of_kind("sites"):
        # the same for every assessment that reads this layer in this CRS
        x, y, named = _once(layer.derived, key, partial(_layer_sites, layer, crs, category))
        xs.extend(x)
        ys.extend(y)
        labels.extend(named)
    x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
    landing = graph.land(x, y, settings.max_snap_m)
    far = ~landing.on
    flags = []
    if far.any():
        farthest = graph.land(x[far], y[far], None).walk_m.max()  # inf: no passable road at all
        flags.append(
            Flag(
                "far_from_road",
                category,
                f"{int(far.sum())} {category} site(s) lie more than {settings.max_snap_m:,.0f} m from any passable "
                f"road of the network (farthest {farthest:,.0f} m): not counted as reachable by road",
            )
        )
    keep = np.flatnonzero(landing.on)
    kept = [labels[i] for i in keep]
    walk_s = landing.walk_m[keep] / (settings.offroad_kmh / 3.6)
    return Targets(landing.take(keep), walk_s, kept, x[keep], y[keep]), flags


def _layer_sites(layer: VectorLayer, crs: CRS, category: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The sites of ``category`` in ``layer`` that work (or may work): positions in ``crs``, and labels."""
    frame = layer.frame
    chosen = np.flatnonzero((frame["category"] == category).to_numpy() & (frame["functional"] != False).to_numpy())  # noqa: E712
    points = shapely.point_on_surface(layer.projected(crs).take(chosen))
    names = frame["name"].to_numpy(dtype=object)[chosen]
    ids = frame["site_id"].to_numpy(dtype=object)[chosen]
    labels = [str(n) if isinstance(n, str) and n else f"{layer.id}:{i}" for n, i in zip(names, ids, strict=True)]
    return shapely.get_x(points), shapely.get_y(points), labels


@dataclass(frozen=True)
class _Places:
    """Populated cells and displacement sites with where they join the road network."""

    cell_people: np.ndarray
    cell_index: np.ndarray  # flat index of each populated cell in the surface's grid
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_landing: Landing
    site_rows: list[tuple[str, str, str | None, float | None]]  # layer, id, name, people
    site_x: np.ndarray
    site_y: np.ndarray
    site_landing: Landing
    site_road_m: np.ndarray  # metres from each site to the nearest passable road, however far

    # Both asked by every COA of the assessment, the same each time
    @cached_property
    def cell_on(self) -> np.ndarray:
        return self.cell_landing.on

    @cached_property
    def off_network_people(self) -> float:
        return float(self.cell_people[~self.cell_on].sum())

    def joined(self, searches: _Searches, closed: Closed | None) -> tuple[Landing, Landing]:
        """Where the cells and the sites join the network during ``closed``."""
        return (
            searches.joined(self.cell_landing, self.cell_x, self.cell_y, closed),
            searches.joined(self.site_landing, self.site_x, self.site_y, closed),
        )

    def beside(self, closed: Closed | None) -> bool:
        """Whether any place joins the network on a piece ``closed`` closes."""
        if closed is None or not closed.any():
            return False
        return any(
            bool(closed.mask[landing.edge[landing.on]].any()) for landing in (self.cell_landing, self.site_landing)
        )


def _places(surface: RiskSurface, layerset: LayerSet, crs: CRS, graph: RoadGraph, settings: AccessSettings) -> _Places:
    xs, ys = surface.centres()
    people = surface.people
    populated = np.isfinite(people) & (people > 0)
    cell_x, cell_y, cell_people = xs[populated], ys[populated], people[populated]
    # Where each populated cell joins the network depends on the grid, the graph and who is populated (the
    # same raster for the assessments of an area): kept with the graph for the next assessment of the same
    # area (a plan edited and assessed again)
    key = (
        "landing of each cell",
        surface.transform.c,
        surface.transform.f,
        surface.cell_m,
        *surface.shape,
        settings.max_snap_m,
        hash(np.packbits(populated).tobytes()),
    )
    cell_landing = graph.kept(key, lambda: graph.land(cell_x, cell_y, settings.max_snap_m))
    rows: list[tuple[str, str, str | None, float | None]] = []
    sx, sy = [], []
    area = shapely.box(*surface.bounds)
    for layer in layerset.of_kind("displacement"):
        index = layer.projected(crs)
        found = np.sort(index.tree.query(area, predicate="intersects"))
        points = shapely.point_on_surface(index.take(found))
        columns = (layer.frame[c].to_numpy(dtype=object)[found] for c in ("site_id", "population", "name"))
        for site_id, population, name in zip(*columns, strict=True):
            rows.append(
                (
                    layer.id,
                    str(site_id),
                    name if isinstance(name, str) else None,
                    None if population is None or np.isnan(population) else float(population),
                )
            )
        sx.extend(shapely.get_x(points))
        sy.extend(shapely.get_y(points))
    site_x, site_y = np.array(sx, dtype=float), np.array(sy, dtype=float)
    site_landing = graph.land(site_x, site_y, settings.max_snap_m)
    road_m = site_landing.walk_m.copy()
    off = ~site_landing.on
    road_m[off] = graph.land(site_x[off], site_y[off], None).walk_m
    return _Places(
        cell_people,
        np.flatnonzero(populated.ravel()),
        cell_x,
        cell_y,
        cell_landing,
        rows,
        site_x,
        site_y,
        site_landing,
        road_m,
    )


@dataclass
class _Searches:
    """The road graph's travel-time searches in one assessment, each made once: health reach and places cut
    off search from the same facilities, and every COA searches the network as it is before it acts."""

    graph: RoadGraph
    settings: AccessSettings
    found: dict[bytes, np.ndarray] = field(default_factory=dict)
    figured: dict[object, Any] = field(default_factory=dict)  # what is figured from the searches as they are

    def walk_s(self, landing: Landing) -> np.ndarray:
        """Seconds of each landing's walk to or from its road, off-road."""
        return landing.walk_m / (self.settings.offroad_kmh / 3.6)

    def joined(self, landing: Landing, x: np.ndarray, y: np.ndarray, closed: Closed | None) -> Landing:
        """Where points join the network during ``closed`` (``RoadGraph.rejoin``), made once per COA."""
        if closed is None or not closed.any():
            return landing
        area = closed.area.wkb if closed.area is not None else b""
        key = ("joined", id(landing), np.packbits(closed.mask).tobytes(), area)
        return _once(self.figured, key, lambda: self.graph.rejoin(landing, x, y, closed, self.settings.max_snap_m))

    def times(self, targets: Targets, closed: Closed | None = None) -> np.ndarray:
        """Seconds from the nearest of ``targets`` to every junction, with ``closed`` edges closed. Where the
        closures change no time (a COA that closes no road, or none on a way to the targets), it is the search
        without them, the very same array: what is figured from it can be figured once."""
        nodes, delays, ident = self.as_it_is(("starts", id(targets)), lambda: self._starts(targets))
        if ident not in self.found:
            self.found[ident] = self.graph.times_from(nodes, delays)
        as_it_is = self.found[ident]
        if closed is None or not closed.any():
            return as_it_is
        landing = self.joined(targets.landing, targets.x, targets.y, closed)
        nodes, delays = self.graph.starts(landing, self.walk_s(landing), closed)
        key = b"|".join((nodes.astype(np.int64).tobytes(), delays.tobytes(), np.packbits(closed.mask).tobytes()))
        if key not in self.found:
            during = self.graph.times_from(nodes, delays, closed.mask)
            self.found[key] = as_it_is if np.array_equal(during, as_it_is) else during
        return self.found[key]

    def _starts(self, targets: Targets) -> tuple[np.ndarray, np.ndarray, bytes]:
        """Where a search from ``targets`` starts on the network as it is, and a key of it."""
        nodes, delays = self.graph.starts(targets.landing, targets.walk_s)
        return nodes, delays, b"|".join((nodes.astype(np.int64).tobytes(), delays.tobytes()))

    def at_places(
        self, targets: Targets, places: _Places, closed: Closed | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from each populated cell and each displacement site to the nearest of ``targets``."""
        times = self.times(targets, closed)
        if times is self.times(targets) and not places.beside(closed):  # the COA changes no place's way
            return self.as_it_is(("at places", id(targets), id(places)), lambda: self._at(times, targets, places, None))
        return self._at(times, targets, places, closed)

    def _at(
        self, times: np.ndarray, targets: Targets, places: _Places, closed: Closed | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from each cell and site to the nearest target: walk to the road, drive along it to a junction
        and on (``times``), or straight along the piece to a target beside it; the target's walk is in both."""
        graph = self.graph
        target = self.joined(targets.landing, targets.x, targets.y, closed)

        def seconds(landing: Landing) -> np.ndarray:
            if landing.edge.size == 0:
                return np.array([])
            driven = graph.arrival(times, landing, closed)
            beside = graph.along_piece(landing, target, self.walk_s(target), closed)
            return np.minimum(driven, beside) + self.walk_s(landing)

        cells, sites = places.joined(self, closed)
        if closed is None or not closed.any():
            return seconds(cells), seconds(sites)
        # During a COA only some places' ways change: those whose road's junctions are reached later, those by
        # a closed piece or walked on to another road, and those by a piece a target walked on to. The others
        # keep the figure of the network as it is (a study area holds tens of thousands of populated cells).
        before = self.at_places(targets, places)
        later = np.r_[times != self.times(targets), False]  # per junction; the last for places off the road
        touched = np.r_[closed.mask | _moved_pieces(graph, targets.landing, target), False]
        found = []
        for figure, base, now in zip(before, (places.cell_landing, places.site_landing), (cells, sites), strict=True):
            u, v = self.as_it_is(("ends", id(base)), partial(graph.ends, base))
            changed = np.flatnonzero(later[u] | later[v] | touched[base.edge] | (now.edge != base.edge))
            during = figure.copy()
            if changed.size:
                during[changed] = seconds(now.take(changed))
            found.append(during)
        return found[0], found[1]

    def from_place(self, origin: Landing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Seconds from one landing (on the network) to every junction, leaving its piece by either end;
        which end each junction is reached from soonest (0: ``u``, 1: ``v``); and the searches from the two
        ends, the junction before each junction (one row per end). A way is followed back in the row of the
        end it is reached from: mixing the two trees could go round over zero-time pieces. The searches are
        made once per piece (COAs often share a landing zone, a base or a road)."""
        edge = int(origin.edge[0])
        rows, previous = self.as_it_is(("from ends", edge), partial(self.graph.fastest_from_ends, edge))
        to_u, to_v = self.graph.to_ends(origin)
        via_u, via_v = rows[0] + to_u[0], rows[1] + to_v[0]
        by_v = via_v < via_u
        return np.where(by_v, via_v, via_u), by_v.astype(int), previous

    def as_it_is(self, key: object, make: Callable[[], T]) -> T:
        """``make()`` once: a figure of the network as it is, the same for every COA that changes nothing of it."""
        return _once(self.figured, key, make)


def _moved_pieces(graph: RoadGraph, before: Landing, now: Landing) -> np.ndarray:
    """The pieces that points walked on to during a COA (an edge mask)."""
    moved = np.zeros(len(graph), dtype=bool)
    moved[now.edge[(now.edge != before.edge) & now.on]] = True
    return moved


def _health(
    searches: _Searches,
    closed: Closed,
    targets: Targets,
    places: _Places,
    *,
    settings: AccessSettings,
) -> HealthReach:
    before, during = searches.at_places(targets, places), searches.at_places(targets, places, closed)
    if during is before:  # the COA lengthens no way to care: the area's reach as it is
        return searches.as_it_is(("health", id(targets)), lambda: _reach(before, before, targets, places, settings))
    return _reach(before, during, targets, places, settings)


def _reach(
    before: tuple[np.ndarray, np.ndarray],
    during: tuple[np.ndarray, np.ndarray],
    targets: Targets,
    places: _Places,
    settings: AccessSettings,
) -> HealthReach:
    """Health reach from the seconds each cell and site takes to care, before and during."""
    limit = settings.reach_limit_min * 60
    on = places.cell_on
    (cells_before, site_before), (cells_during, site_during) = before, during
    people = places.cell_people
    worse = on & (cells_during > cells_before + 60)
    still = worse & np.isfinite(cells_during)
    beyond_before = on & (cells_before > limit)
    beyond_during = on & (cells_during > limit)
    sites = []
    for i, (layer, site_id, name, population) in enumerate(places.site_rows):
        on_net = bool(places.site_landing.on[i])
        sites.append(
            PlaceReach(
                layer,
                site_id,
                name,
                population,
                _minutes(site_before[i]) if on_net else None,
                _minutes(site_during[i]) if on_net else None,
                on_net,
                float(places.site_road_m[i]) if np.isfinite(places.site_road_m[i]) else None,
            )
        )
    return HealthReach(
        limit_min=settings.reach_limit_min,
        facilities=len(targets),
        people_worse=float(people[worse].sum()),
        worse_by_min=float((cells_during[still] - cells_before[still]).max() / 60) if still.any() else 0.0,
        people_beyond_before=float(people[beyond_before].sum()),
        people_beyond_during=float(people[beyond_during].sum()),
        people_newly_beyond=float(people[beyond_during & ~beyond_before].sum()),
        people_off_network=places.off_network_people,
        sites=sites,
        lost_cells=places.cell_index[beyond_during & ~beyond_before],
    )


def _minutes(seconds: float) -> float | None:
    return None if not np.isfinite(seconds) else round(float(seconds) / 60, 1)


def _parts_of(graph: RoadGraph, landing: Landing, closed: Closed | None, component: np.ndarray) -> np.ndarray:
    """The part of the network each landing reaches (``component`` numbers the junctions' parts): its piece's
    junction on its side of a shut stretch; beside a shut stretch itself, one part for all such places (the
    number of parts: the people a closure holds, wherever it shuts a road); -1 off the network."""
    to_u, to_v = graph.to_ends(landing, closed)
    u, v = graph.ends(landing)
    u_part, v_part = component[u], component[v]
    shut = int(component.max()) + 1
    part = np.where(np.isfinite(to_u), u_part, np.where(np.isfinite(to_v), v_part, shut))
    return np.where(landing.on, part, -1)


def _cut_off(
    searches: _Searches,
    closed: Closed,
    targets: dict[str, Targets],
    places: _Places,
    *,
    gazetteer: Gazetteer | None,
) -> list[CutOff]:
    """Places that reach an essential service before the operation and cannot during it, grouped by the part
    of the network they are left in."""
    if not closed.any():
        return []
    graph = searches.graph
    component = graph.components(closed.mask)
    cells_lost: dict[str, np.ndarray] = {}
    sites_lost: dict[str, np.ndarray] = {}
    for category, target in targets.items():
        if len(target) == 0:
            continue
        (cells_before, sites_before), (cells_during, sites_during) = (
            searches.at_places(target, places),
            searches.at_places(target, places, closed),
        )
        if cells_during is cells_before:  # no place loses the way to it
            continue
        cells_lost[category] = np.isfinite(cells_before) & ~np.isfinite(cells_during)
        sites_lost[category] = np.isfinite(sites_before) & ~np.isfinite(sites_during)
    found = []
    cells_joined, sites_joined = places.joined(searches, closed)
    cell_part = _parts_of(graph, cells_joined, closed, component)
    any_lost = np.logical_or.reduce(list(cells_lost.values())) if cells_lost else np.zeros(cell_part.size, bool)
    for part in np.unique(cell_part[any_lost]).tolist():
        in_part = any_lost & (cell_part == part)
        heaviest = int(np.argmax(np.where(in_part, places.cell_people, -1)))
        found.append(
            CutOff(
                "community",
                f"{int(in_part.sum())} populated cell(s) {_place_name(places, heaviest, gazetteer)}",
                float(places.cell_people[in_part].sum()),
                tuple(sorted(c for c, lost in cells_lost.items() if lost[in_part].any())),
                _edge_roads(graph, closed, component, part, cells_joined.edge[in_part]),
                float(places.cell_x[heaviest]),
                float(places.cell_y[heaviest]),
            )
        )
    site_part = _parts_of(graph, sites_joined, closed, component)
    for i, (layer, site_id, name, population) in enumerate(places.site_rows):
        lost = tuple(sorted(c for c, gone in sites_lost.items() if gone[i]))
        if lost:
            found.append(
                CutOff(
                    "displacement",
                    name or f"{layer}:{site_id}",
                    population or 0.0,
                    lost,
                    _edge_roads(graph, closed, component, int(site_part[i]), sites_joined.edge[i : i + 1]),
                    float(places.site_x[i]),
                    float(places.site_y[i]),
                )
            )
    found.extend(_isolated_sites(searches, closed, component, targets, places, cell_part=cell_part))
    return sorted(found, key=lambda c: -c.people)


def _isolated_sites(
    searches: _Searches,
    closed: Closed,
    component: np.ndarray,
    targets: dict[str, Targets],
    places: _Places,
    *,
    cell_part: np.ndarray,
) -> list[CutOff]:
    """Essential sites that some community reached before and none can reach during the operation."""
    graph = searches.graph
    before_parts = graph.components()
    on = places.cell_on
    populated_before = searches.as_it_is(
        ("populated parts", id(places)),
        lambda: set(np.unique(_parts_of(graph, places.cell_landing, None, before_parts)[on]).tolist()),
    )
    populated_during = set(np.unique(cell_part[on]).tolist())
    found = []
    for category, target in targets.items():
        part_before = _parts_of(graph, target.landing, None, before_parts)
        joined = searches.joined(target.landing, target.x, target.y, closed)
        part_during = _parts_of(graph, joined, closed, component)
        for i, label in enumerate(target.labels):
            if int(part_before[i]) in populated_before and int(part_during[i]) not in populated_during:
                found.append(
                    CutOff(
                        "site",
                        f"{label} ({category})",
                        0.0,
                        (category,),
                        _edge_roads(graph, closed, component, int(part_during[i]), joined.edge[i : i + 1]),
                        float(target.x[i]),
                        float(target.y[i]),
                    )
                )
    return found


def _edge_roads(
    graph: RoadGraph, closed: Closed, component: np.ndarray, part: int, beside: np.ndarray
) -> tuple[str, ...]:
    """Closed roads with one end in ``part`` of the network: the closures that cut it off. For the places held
    beside shut stretches, the roads of the pieces they stand by (``beside``)."""
    if part > int(component.max()):
        return tuple(sorted({str(r) for r in graph.road_ids[beside]}))
    u_in, v_in = component[graph.edges.u] == part, component[graph.edges.v] == part
    edge = closed.mask & (u_in != v_in)
    return tuple(sorted({str(r) for r in graph.road_ids[edge]}))


def _place_name(places: _Places, i: int, gazetteer: Gazetteer | None) -> str:
    """'2.6 km S of Nyal (36N WM 6175 8595)', as field staff say a place; grid figures without a gazetteer."""
    if gazetteer is None:
        return f"around {places.cell_x[i]:.0f} E {places.cell_y[i]:.0f} N"
    return gazetteer.where(float(places.cell_x[i]), float(places.cell_y[i])).text


def _is_route(coa: COA, zone: Zone) -> bool:
    element = next(e for e in coa.elements if e.id == zone.element)
    return element.shape_kind == "route"


def _route_ends(graph: RoadGraph, routes: list[Zone], settings: AccessSettings) -> list[tuple[Landing, Landing]]:
    """Where each end of each route joins the road network, found in one query for all the routes of a COA."""
    if not routes:
        return []
    lines = [zone.geometry for zone in routes]
    starts, stops = shapely.get_point(lines, 0), shapely.get_point(lines, -1)
    landed = graph.land(
        np.r_[shapely.get_x(starts), shapely.get_x(stops)],
        np.r_[shapely.get_y(starts), shapely.get_y(stops)],
        settings.max_snap_m,
    )
    count = len(routes)
    return [(landed.take(np.array([i])), landed.take(np.array([count + i]))) for i in range(count)]


def _route(
    graph: RoadGraph,
    closed: np.ndarray,
    *,
    surface: RiskSurface,
    zone: Zone,
    ends: tuple[Landing, Landing],
    hits: list[SiteHit],
    plan: Plan,
    crs: CRS,
    settings: AccessSettings,
    earth: np.ndarray,
) -> RouteFinding:
    mine = [h for h in hits if h.element == zone.element]
    markets: list[dict[str, object]] = [
        {
            "name": h.name or h.id,
            "hours": h.hours,
            "open_during": open_during(h.hours, plan.window.start, plan.window.end),
            "distance_m": round(h.distance_m, 1),
        }
        for h in mine
        if h.category == "market"
    ]
    window = plan.window.text
    line = zone.geometry
    cells = _Cells.of(surface)
    followed = _followed(graph, line)
    planned = _option(
        [line],
        length_km=float(line.length) / 1000,
        time_s=_time_along(graph, followed, line),
        people=_people_along(cells, [line]),
        roads=(),
        crs=crs,
    )
    alternatives = _alternatives(
        graph,
        closed,
        ends,
        cells=cells,
        crs=crs,
        settings=settings,
    )
    return RouteFinding(
        element=zone.element,
        people_along=_people_along(cells, [zone.outer]),
        sites=[f"{h.name or h.id} ({h.category})" for h in mine if h.category != "displacement"],
        markets=markets,
        window=window,
        planned=planned,
        alternatives=alternatives,
        sole_links=_roads_of(graph, followed & graph.sole_links),
        earth_roads=_roads_of(graph, followed & earth),
    )


def _roads_of(graph: RoadGraph, edges: np.ndarray) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(r) for r in graph.road_ids[edges]))


def _followed(graph: RoadGraph, line: BaseGeometry, within_m: float = 30.0) -> np.ndarray:
    """The passable road pieces a planned route follows, as an edge mask: at least half of a piece lies within
    ``within_m`` of the route (a road that only meets the route at a junction is crossed, not followed)."""
    near = np.sort(graph.tree.query(line, predicate="dwithin", distance=within_m))
    near = near[graph.passable[near]]
    corridor = line.buffer(within_m)
    inside = shapely.length(shapely.intersection(graph.geometry[near], corridor))
    followed = np.zeros(len(graph), dtype=bool)
    followed[near[inside >= 0.5 * np.maximum(graph.length_m[near], 1e-9)]] = True
    return followed


def _time_along(graph: RoadGraph, followed: np.ndarray, line: BaseGeometry) -> float:
    """Seconds to drive ``line`` at the mean speed of the road pieces it follows (NaN off the network)."""
    near = np.flatnonzero(followed)
    if near.size == 0:
        return float("nan")
    speed = graph.length_m[near].sum() / graph.edges.time_s[near].sum()  # metres per second, length-weighted
    return float(line.length / speed)


@dataclass
class _Cells:
    """The surface's grid, for the people along a line: the cells a shape touches are found in a spatial
    index of the cells, and the cells of every road piece of the graph at once, in one query shared by every
    COA's routes."""

    west: float
    north: float
    cell_m: float
    rows: int
    cols: int
    people: np.ndarray  # flat, 0 where unknown
    pieces: _PieceCells | None = None

    @classmethod
    def of(cls, surface: RiskSurface) -> _Cells:
        found = surface.derived.get("cells")
        if not isinstance(found, _Cells):
            rows, cols = surface.shape
            found = cls(
                surface.transform.c,
                surface.transform.f,
                surface.cell_m,
                rows,
                cols,
                np.nan_to_num(surface.people).ravel(),
            )
            surface.derived["cells"] = found
        return found

    @property
    def tree(self) -> shapely.STRtree:
        """A spatial index of the cells as boxes, numbered as the flat grid: every shape asked about (routes,
        corridors, all road pieces) is one query of it. It depends on the grid alone, so the assessments of one
        area (a plan edited and assessed again) share it."""
        return _grid_index(self.west, self.north, self.cell_m, self.rows, self.cols)

    def touched(self, shape: BaseGeometry) -> np.ndarray:
        """Flat indices of the cells ``shape`` touches."""
        return np.sort(self.tree.query(shape, predicate="intersects"))

    def of_pieces(self, graph: RoadGraph) -> _PieceCells:
        """The cells under every road piece of ``graph``, found once per surface and graph."""
        if self.pieces is None or self.pieces.graph is not graph:
            count = len(graph)
            # Which cells lie under which piece depends on the grid alone: kept with the graph for the next
            # assessment of the same area; the people in them are this surface's
            key = ("cells under pieces", self.west, self.north, self.cell_m, self.rows, self.cols)
            piece, cell = graph.kept(key, lambda: self._under(graph))
            starts = np.searchsorted(piece, np.arange(count + 1))
            people = np.bincount(piece, weights=self.people[cell], minlength=count)
            self.pieces = _PieceCells(graph, starts, cell, people)
        return self.pieces

    def _under(self, graph: RoadGraph) -> tuple[np.ndarray, np.ndarray]:
        """(piece, cell) pairs of every cell under every piece of ``graph``, by piece."""
        piece, cell = self.tree.query(graph.geometry, predicate="intersects")
        order = np.lexsort((cell, piece))
        return piece[order], cell[order]


@lru_cache(maxsize=4)
def _grid_index(west: float, north: float, cell_m: float, rows: int, cols: int) -> shapely.STRtree:
    rr, cc = np.divmod(np.arange(rows * cols), cols)
    x0, y0 = west + cc * cell_m, north - rr * cell_m
    return shapely.STRtree(shapely.box(x0, y0 - cell_m, x0 + cell_m, y0))


@dataclass(frozen=True)
class _PieceCells:
    """The cells each road piece of a graph touches, as one flat array cut at ``starts`` (piece ``i`` has
    ``cells[starts[i]:starts[i + 1]]``), and the people in them."""

    graph: RoadGraph
    starts: np.ndarray
    cells: np.ndarray
    people: np.ndarray  # per piece

    def of(self, edges: list[int] | np.ndarray) -> np.ndarray:
        """The cells under any of ``edges`` (each once)."""
        found = [self.cells[self.starts[e] : self.starts[e + 1]] for e in edges]
        return np.unique(np.concatenate(found)) if found else np.array([], dtype=int)


def _people_along(cells: _Cells, shapes: list[BaseGeometry]) -> float:
    """People in the cells that ``shapes`` touch (each cell once)."""
    found = [cells.touched(shape) for shape in shapes]
    return float(cells.people[np.unique(np.concatenate(found))].sum()) if found else 0.0


def _option(
    lines: list[BaseGeometry], *, length_km: float, time_s: float, people: float, roads: tuple[str, ...], crs: CRS
) -> RouteOption:
    merged = shapely.line_merge(shapely.union_all(lines)) if len(lines) > 1 else lines[0]
    to_wgs84 = transformer(crs, WGS84).transform
    return RouteOption(
        time_min=round(time_s / 60, 1) if np.isfinite(time_s) else float("nan"),
        length_km=round(length_km, 2),
        people_along=people,
        roads=roads,
        geometry=shapely.transform(merged, to_wgs84, interleaved=False),
    )


def _alternatives(
    graph: RoadGraph,
    closed: np.ndarray,
    ends: tuple[Landing, Landing],
    *,
    cells: _Cells,
    crs: CRS,
    settings: AccessSettings,
) -> list[RouteOption]:
    """Up to ``settings.alternatives`` different ways between the points where the route's ends meet the
    road, cheapest first, where a piece's cost is its time x (1 + people along it / scale). Found on scipy's
    graph by penalised shortest paths: after each path its pieces cost double, so the next search finds the
    best way round them. A way starts and ends part way along a piece, where the route meets the road."""
    first, last = ends
    if not (first.on[0] and last.on[0]):
        return []
    s_edge, g_edge = int(first.edge[0]), int(last.edge[0])
    s_share, g_share = float(first.share[0]), float(last.share[0])
    if s_edge == g_edge and abs(s_share - g_share) * graph.length_m[s_edge] < 1.0:
        return []  # both ends meet the road at one point: no way between them
    a_xy, b_xy = graph.point_at(s_edge, s_share), graph.point_at(g_edge, g_share)
    # Only the edges near the straight line between the ends (and a margin) are worth a path search.
    corridor = shapely.LineString([a_xy, b_xy]).buffer(max(settings.margin_m, 0.5 * float(np.hypot(*(b_xy - a_xy)))))
    near = np.sort(graph.tree.query(corridor, predicate="intersects"))
    # The pieces the ends lie on are driven in part, from the ends: driven whole, they would pass an end again
    near = near[graph.passable[near] & ~closed[near] & (near != s_edge) & (near != g_edge)]
    scale = settings.route_people_scale
    cost = graph.edges.time_s[near].astype(float) * (1 + cells.of_pieces(graph).people[near] / scale)
    # Between two junctions only the cheapest of parallel pieces counts; a loop is never on a shortest path
    u, v = graph.edges.u[near], graph.edges.v[near]
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((cost, b, a))
    first_of_pair = np.r_[True, (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])]
    keep = first_of_pair & (a[order] != b[order])
    pieces, a, b, cost = near[order][keep], a[order][keep], b[order][keep], cost[order][keep]
    ends_of = [
        int(graph.edges.u[s_edge]),
        int(graph.edges.v[s_edge]),
        int(graph.edges.u[g_edge]),
        int(graph.edges.v[g_edge]),
    ]
    junctions, local = np.unique(np.r_[a, b, ends_of], return_inverse=True)
    la, lb = local[: a.size], local[a.size : 2 * a.size]
    su, sv, gu, gv = local[2 * a.size :].tolist()
    count = junctions.size
    start, goal = count, count + 1  # the points where the route meets the road
    # The legs from the start point to its piece's junctions, from the goal's piece's junctions to the goal
    # point, and straight along one piece when both lie on it: each costs its share of its own piece, and has
    # a weight of its own (after the pieces'), doubled when a way uses it like the pieces'
    own = [float(graph.edges.time_s[e] * (1 + cells.of_pieces(graph).people[e] / scale)) for e in (s_edge, g_edge)]
    if s_edge != g_edge:
        legs = [(start, su, own[0], s_share), (start, sv, own[0], 1 - s_share)]
        legs += [(gu, goal, own[1], g_share), (gv, goal, own[1], 1 - g_share)]
    else:  # one piece: u, then the nearer point, then the other, then v; no way turns back over it
        toward_u = s_share < g_share
        legs = [
            (start, su, own[0], s_share) if toward_u else (start, sv, own[0], 1 - s_share),
            (start, goal, own[0], abs(g_share - s_share)),
            (sv, goal, own[0], 1 - g_share) if toward_u else (su, goal, own[0], g_share),
        ]
    leg_of = {(leg[0], leg[1]): a.size + i for i, leg in enumerate(legs)}
    weights = np.r_[cost, [leg[2] for leg in legs]]
    # One entry per piece each way, then the legs; entries are numbered (1-based, so none is a zero scipy
    # could drop), then given their weights
    rows = np.r_[la, lb, [leg[0] for leg in legs]].astype(int)
    cols = np.r_[lb, la, [leg[1] for leg in legs]].astype(int)
    matrix = csr_matrix((np.arange(1, rows.size + 1, dtype=float), (rows, cols)), shape=(count + 2,) * 2)
    entry = matrix.data.astype(int) - 1
    entry_weight = np.r_[np.arange(a.size), np.arange(a.size), a.size + np.arange(len(legs))][entry]
    entry_share = np.r_[np.ones(2 * a.size), [leg[3] for leg in legs]][entry]
    share_of = np.r_[np.ones(a.size), [leg[3] for leg in legs]]
    base = weights.copy()
    # Each step between two junctions, as one number: ascending, as the pieces are sorted by pair
    pair_key = la.astype(np.int64) * (count + 2) + lb
    found: list[tuple[float, tuple[int, ...]]] = []  # unpenalised cost, (junction in, steps..., junction out)
    for _ in range(2 * settings.alternatives):  # a repeated path only raises penalties: bounded tries
        if len(found) == settings.alternatives:
            break
        matrix.data = weights[entry_weight] * entry_share
        _, previous = dijkstra(matrix, directed=True, indices=start, return_predecessors=True)
        if previous[goal] < 0:
            break
        walked, node = [goal], goal
        while node != start:
            node = int(previous[node])
            walked.append(node)
        inner = np.array(walked[::-1][1:-1], dtype=np.int64)  # the junctions passed
        if inner.size == 0:  # straight along the piece
            path: tuple[int, ...] = (-1, -1)
            used = [leg_of[(start, goal)]]
        else:
            low, high = np.minimum(inner[:-1], inner[1:]), np.maximum(inner[:-1], inner[1:])
            steps = np.searchsorted(pair_key, low * (count + 2) + high).tolist()
            path = (int(inner[0]), *steps, int(inner[-1]))
            used = [*steps, leg_of[(start, int(inner[0]))], leg_of[(int(inner[-1]), goal)]]
        if path not in [p for _, p in found]:
            found.append((float((base[used] * share_of[used]).sum()), path))
        weights[used] *= 2.0
    options = []
    for _, path in sorted(found):
        enter, *steps, leave = path
        middle = [int(pieces[i]) for i in steps]
        if enter < 0:  # straight along the one piece both ends lie on
            start_part, goal_part = graph.piece_between(s_edge, s_share, g_share), None
        else:
            start_part = graph.piece_between(s_edge, s_share, 0.0 if enter == su else 1.0)
            goal_part = graph.piece_between(g_edge, 0.0 if leave == gu else 1.0, g_share)
        drawn = [(s_edge, start_part), *((e, graph.geometry[e]) for e in middle), (g_edge, goal_part)]
        drawn = [(e, line) for e, line in drawn if line is not None and line.length > NOTHING_M]
        partly = [(e, line) for e, line in drawn if e in (s_edge, g_edge)]  # the middle holds neither end's piece
        options.append(
            _option(
                [line for _, line in drawn],
                length_km=(float(graph.length_m[middle].sum()) + sum(line.length for _, line in partly)) / 1000,
                time_s=float(
                    graph.edges.time_s[middle].sum()
                    + sum(line.length / graph.length_m[e] * graph.edges.time_s[e] for e, line in partly)
                ),
                people=_people_around(cells, graph, middle, [line for _, line in partly]),
                roads=tuple(dict.fromkeys(str(graph.road_ids[e]) for e, _ in drawn)),
                crs=crs,
            )
        )
    return options


def _people_around(cells: _Cells, graph: RoadGraph, edges: list[int], parts: list[BaseGeometry]) -> float:
    """People in the cells a way touches (each cell once): its whole pieces' cells, and the partial pieces'."""
    found = [cells.of_pieces(graph).of(edges), *(cells.touched(part) for part in parts)]
    if not any(f.size for f in found):
        return 0.0
    return float(cells.people[np.unique(np.concatenate(found))].sum())


Facility = tuple[str, float, float]  # name, and position in the working CRS


@dataclass(frozen=True)
class _CareFacilities:
    """Where casualties are taken from every element of an assessment: functioning hospitals and the plan's UN
    medical care, and where each joins the road network."""

    civilian: list[Facility]
    un: list[Facility]
    landed: dict[str, Landing]  # by patients


def _care_facilities(graph: RoadGraph, layerset: LayerSet, plan: Plan, crs: CRS, max_snap_m: float) -> _CareFacilities:
    hospitals = _hospitals(layerset, crs)
    to_working = transformer(WGS84, crs).transform
    un = [(name, *to_working(lon, lat)) for name, lon, lat in plan.un_medical]
    landed = {
        patients: graph.land(np.array([f[1] for f in facilities]), np.array([f[2] for f in facilities]), max_snap_m)
        for patients, facilities in (("civilian", hospitals), ("UN", un))
        if facilities
    }
    return _CareFacilities(hospitals, un, landed)


def _casevac(
    searches: _Searches,
    zones: list[Zone],
    care: _CareFacilities,
    *,
    crs: CRS,
    result: Access,
) -> list[Casevac]:
    """From each element, the fastest road to a civilian hospital and to UN medical care, in the plan's season:
    walk to the nearest road, drive, walk to the facility."""
    graph, settings = searches.graph, searches.settings
    walk = settings.offroad_kmh / 3.6
    hospitals, un = care.civilian, care.un
    if not un:
        result.flags.append(
            Flag(
                "no_un_medical",
                "-",
                "the plan names no UN medical facility (`un_medical:`): CASEVAC times for UN patients are unknown",
            )
        )
    origins = shapely.point_on_surface([zone.geometry for zone in zones])
    landed = graph.land(shapely.get_x(origins), shapely.get_y(origins), settings.max_snap_m)
    found = []
    for i, zone in enumerate(zones):
        origin = landed.take(np.array([i]))
        for patients, facilities in (("civilian", hospitals), ("UN", un)):
            if not facilities:
                what = "no functioning hospital in the sites layers" if patients == "civilian" else "no `un_medical:`"
                found.append(Casevac(zone.element, patients, None, None, None, what))
                continue
            where = care.landed[patients]
            if not origin.on[0] or not where.on.any():
                far = "the element" if not origin.on[0] else "every facility"
                reason = f"{far} lies more than {settings.max_snap_m:,.0f} m from any passable road of the network"
                found.append(Casevac(zone.element, patients, None, None, None, reason))
                continue
            # The force keeps its own cordons and closures open to its casualty evacuation.
            way = _fastest_way(graph, origin, where, searches.from_place(origin), walk)
            if way is None:
                reason = "no road in this data links the element to any facility (disconnected network)"
                found.append(Casevac(zone.element, patients, None, None, None, reason))
                continue
            which, drive_s, lines = way
            total = drive_s + (origin.walk_m[0] + where.walk_m[which]) / walk
            line = shapely.line_merge(shapely.union_all(lines)) if lines else None
            geometry = (
                shapely.transform(line, transformer(crs, WGS84).transform, interleaved=False)
                if line is not None
                else None
            )
            found.append(Casevac(zone.element, patients, facilities[which][0], round(float(total) / 60, 1), geometry))
    return found


def _fastest_way(
    graph: RoadGraph,
    origin: Landing,
    facilities: Landing,
    searched: tuple[np.ndarray, np.ndarray, np.ndarray],
    walk_mps: float,
) -> tuple[int, float, list[BaseGeometry]] | None:
    """The facility reached soonest from ``origin`` (its walk from the road counted), the seconds driven, and
    the lines driven: along the origin's piece to a junction, the pieces between, along the facility's piece;
    or straight along the piece both stand by. None when no road links them."""
    times, end_of, previous = searched
    to_u, to_v = graph.to_ends(facilities)
    u, v = graph.ends(facilities)
    via_u, via_v = to_u + times[u], to_v + times[v]
    beside = graph.along_piece(facilities, origin, np.zeros(1))
    drive = np.minimum(np.minimum(via_u, via_v), beside)
    trip = drive + facilities.walk_m / walk_mps
    if not np.isfinite(trip).any():
        return None
    which = int(np.argmin(trip))
    start_edge, start_share = int(origin.edge[0]), float(origin.share[0])
    end_edge, end_share = int(facilities.edge[which]), float(facilities.share[which])
    if beside[which] <= min(via_u[which], via_v[which]):
        return which, float(drive[which]), [graph.piece_between(end_edge, start_share, end_share)]
    entry = int(u[which] if via_u[which] <= via_v[which] else v[which])
    start_end = int(end_of[entry])  # the end of the origin's piece the way leaves by
    pieces = graph.edges_along(previous[start_end], entry)
    lines = [
        graph.piece_between(start_edge, start_share, float(start_end)),
        *(graph.geometry[e] for e in pieces),
        graph.piece_between(end_edge, 0.0 if entry == graph.edges.u[end_edge] else 1.0, end_share),
    ]
    return which, float(drive[which]), [line for line in lines if line.length > NOTHING_M]


def _hospitals(layerset: LayerSet, crs: CRS) -> list[tuple[str, float, float]]:
    """Functioning (or possibly functioning) hospitals: name and position in the working CRS (found once per
    layer and CRS: every COA asks)."""
    found: list[tuple[str, float, float]] = []
    key = ("hospitals", CRS.from_user_input(crs).to_string())
    for layer in layerset.of_kind("sites"):
        found.extend(_once(layer.derived, key, partial(_layer_hospitals, layer, crs)))
    return found


def _layer_hospitals(layer: VectorLayer, crs: CRS) -> list[tuple[str, float, float]]:
    frame = layer.frame
    subtype = frame["subtype"].astype(object).where(frame["subtype"].notna(), "").astype(str).str.lower()
    name = frame["name"].astype(object).where(frame["name"].notna(), "").astype(str).str.lower()
    chosen = np.flatnonzero(
        (frame["category"] == "health").to_numpy()
        & (frame["functional"] != False).to_numpy()  # noqa: E712
        & (subtype.str.contains("hospital") | name.str.contains("hospital")).to_numpy()
    )
    points = shapely.point_on_surface(layer.projected(crs).take(chosen))
    found = []
    for row, point in zip(chosen, points, strict=True):
        label = frame["name"].iloc[row]
        found.append((label if isinstance(label, str) and label else str(frame["site_id"].iloc[row]), point.x, point.y))
    return found
