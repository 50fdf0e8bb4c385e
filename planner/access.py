"""Access on the road network during the operation: health reach, places cut off, routes, CASEVAC.

For one COA, over the study area:

- **closures**: road pieces that cross a cordon, the core of an element that ``closes_roads``, or every
  core when the plan says ``close_core_roads``; they are closed for the operation's window.
- **health reach**: travel time from each displacement site and each populated cell to the nearest
  functioning health facility, before and during the operation (walk to the nearest junction at
  ``offroad_kmh``, then drive). Places farther than ``max_snap_m`` from any junction are "not on the network":
  flagged, never counted as reachable. (A place beside a long piece of road far from its junctions is then
  counted as far from the network; ``scale.country`` walks to the nearest point of a road instead.)
- **cut off**: places that could reach health, water or a market before and cannot during, with the closed
  roads that cause it; and essential sites no community can reach any more.
- **routes**: for route elements, the people along the corridor, the markets passed and whether they are
  open in the window, and the alternatives the network offers (k shortest paths by exposure-weighted time).
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
from planner.network import RoadGraph, build_graph
from planner.places import Gazetteer
from planner.plan import COA, Plan
from planner.settings import AccessSettings
from planner.surface import RiskSurface

T = TypeVar("T")

ESSENTIAL = ("health", "water", "market")


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
    snap_m: float


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
    """Points of one kind of destination, snapped: junction, walking delay (s), and a label each."""

    nodes: np.ndarray
    offsets_s: np.ndarray
    labels: list[str]


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
    searches = _shared(surface, ("searches", id(graph)), lambda: _Searches(graph))
    result.health = _health(searches, closed, targets["health"], places, settings=settings)
    result.cut_off = _cut_off(searches, closed, targets, places, gazetteer=gazetteer)
    earth = _shared(surface, ("earth", id(graph)), lambda: _earth(graph, roads[0], settings))
    routes = [zone for zone in zones if _is_route(coa, zone)]
    result.routes = [
        _route(
            graph,
            closed,
            surface=surface,
            zone=zone,
            ends=ends,
            hits=hits,
            plan=plan,
            crs=crs,
            settings=settings,
            earth=earth,
        )
        for zone, ends in zip(routes, _route_ends(graph, routes), strict=True)
    ]
    care = _shared(surface, ("care", id(graph)), lambda: _care_facilities(graph, layerset, plan, crs))
    result.casevac = _casevac(graph, zones, care, crs=crs, settings=settings, result=result)
    if places.off_network_people > 0:
        result.flags.append(
            Flag(
                "off_network",
                roads[0].id,
                f"about {places.off_network_people:,.0f} people live farther than {settings.max_snap_m:,.0f} m "
                "from any junction of the road network: their health reach is unknown, not counted as reachable",
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
) -> tuple[np.ndarray, list[Closure]]:
    """Which edges the COA closes during its window, and for each closed piece its road, the element that
    closes it and the piece's own line (a road runs on for kilometres beyond a cordon: only the piece is shut)."""
    elements = {e.id: e for e in coa.elements}
    marked_bridge = roads.column("bridge")[graph.road_row]
    closed = np.zeros(len(graph), dtype=bool)
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
        for edge in np.sort(graph.tree.query(area, predicate="intersects")):
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
    return closed, found


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
    """Sites of an essential category that work (or may work), snapped to the network; and the flag saying
    how many lie too far from any junction of the network."""
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
    nodes, distance = graph.snap(np.array(xs), np.array(ys))
    far = distance > settings.max_snap_m
    flags = []
    if far.any():
        flags.append(
            Flag(
                "far_from_road",
                category,
                f"{int(far.sum())} {category} site(s) lie more than {settings.max_snap_m:,.0f} m from any junction "
                f"of the road network (farthest {distance[far].max():,.0f} m): not counted as reachable by road",
            )
        )
    keep = ~far
    kept = [label for label, k in zip(labels, keep, strict=True) if k]
    return Targets(nodes[keep], distance[keep] / (settings.offroad_kmh / 3.6), kept), flags


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
    """Populated cells and displacement sites with the junction they reach the network at."""

    cell_people: np.ndarray
    cell_index: np.ndarray  # flat index of each populated cell in the surface's grid
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_node: np.ndarray
    cell_walk_m: np.ndarray
    cell_walk_s: np.ndarray  # seconds of that walk, off-road
    site_rows: list[tuple[str, str, str | None, float | None]]  # layer, id, name, people
    site_x: np.ndarray
    site_y: np.ndarray
    site_node: np.ndarray
    site_walk_m: np.ndarray
    site_walk_s: np.ndarray
    max_snap_m: float

    # Both asked by every COA of the assessment, the same each time
    @cached_property
    def cell_on(self) -> np.ndarray:
        return self.cell_walk_m <= self.max_snap_m

    @cached_property
    def off_network_people(self) -> float:
        return float(self.cell_people[~self.cell_on].sum())


def _places(surface: RiskSurface, layerset: LayerSet, crs: CRS, graph: RoadGraph, settings: AccessSettings) -> _Places:
    xs, ys = surface.centres()
    people = surface.people
    populated = np.isfinite(people) & (people > 0)
    cell_x, cell_y, cell_people = xs[populated], ys[populated], people[populated]
    # The junction nearest each cell depends on the grid and the graph alone: kept with the graph for the next
    # assessment of the same area (a plan edited and assessed again); who lives in the cells is this surface's
    key = ("junction of each cell", surface.transform.c, surface.transform.f, surface.cell_m, *surface.shape)
    every_node, every_walk = graph.kept(key, lambda: graph.snap(xs, ys))
    cell_node, cell_walk = every_node[populated], every_walk[populated]
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
    site_node, site_walk = graph.snap(np.array(sx), np.array(sy))
    walk = settings.offroad_kmh / 3.6
    return _Places(
        cell_people,
        np.flatnonzero(populated.ravel()),
        cell_x,
        cell_y,
        cell_node,
        cell_walk,
        cell_walk / walk,
        rows,
        np.array(sx),
        np.array(sy),
        site_node,
        site_walk,
        site_walk / walk,
        settings.max_snap_m,
    )


@dataclass
class _Searches:
    """The road graph's travel-time searches in one assessment, each made once: health reach and places cut
    off search from the same facilities, and every COA searches the network as it is before it acts."""

    graph: RoadGraph
    found: dict[bytes, np.ndarray] = field(default_factory=dict)
    figured: dict[object, Any] = field(default_factory=dict)  # what is figured from the searches as they are

    def times(self, targets: Targets, closed: np.ndarray | None = None) -> np.ndarray:
        """Seconds from the nearest of ``targets`` to every junction, with ``closed`` edges closed. Where the
        closures change no time (a COA that closes no road, or none on a way to the targets), it is the search
        without them, the very same array: what is figured from it can be figured once."""
        ident = b"|".join((targets.nodes.astype(np.int64).tobytes(), targets.offsets_s.astype(float).tobytes()))
        if ident not in self.found:
            self.found[ident] = self.graph.times_from(targets.nodes, targets.offsets_s)
        as_it_is = self.found[ident]
        if closed is None or not closed.any():
            return as_it_is
        key = ident + b"|" + np.packbits(closed).tobytes()
        if key not in self.found:
            during = self.graph.times_from(targets.nodes, targets.offsets_s, closed)
            self.found[key] = as_it_is if np.array_equal(during, as_it_is) else during
        return self.found[key]

    def as_it_is(self, key: object, make: Callable[[], T]) -> T:
        """``make()`` once: a figure of the network as it is, the same for every COA that changes nothing of it."""
        return _once(self.figured, key, make)


def _place_times(times: np.ndarray, node: np.ndarray, walk_s: np.ndarray) -> np.ndarray:
    """Seconds from each place to the nearest target: walk to the network, drive, walk from it."""
    if node.size == 0:
        return np.array([])
    return times[node] + walk_s


def _health(
    searches: _Searches,
    closed: np.ndarray,
    targets: Targets,
    places: _Places,
    *,
    settings: AccessSettings,
) -> HealthReach:
    times_before, times_during = searches.times(targets), searches.times(targets, closed)
    if times_during is times_before:  # the COA lengthens no way to care: the area's reach as it is
        return searches.as_it_is(
            ("health", id(targets)), lambda: _reach(times_before, times_before, targets, places, settings)
        )
    return _reach(times_before, times_during, targets, places, settings)


def _reach(
    times_before: np.ndarray, times_during: np.ndarray, targets: Targets, places: _Places, settings: AccessSettings
) -> HealthReach:
    limit = settings.reach_limit_min * 60
    on = places.cell_on
    before = _place_times(times_before, places.cell_node, places.cell_walk_s)
    during = _place_times(times_during, places.cell_node, places.cell_walk_s)
    people = places.cell_people
    worse = on & (during > before + 60)
    still = worse & np.isfinite(during)
    beyond_before = on & (before > limit)
    beyond_during = on & (during > limit)
    site_before = _place_times(times_before, places.site_node, places.site_walk_s)
    site_during = _place_times(times_during, places.site_node, places.site_walk_s)
    sites = []
    for i, (layer, site_id, name, population) in enumerate(places.site_rows):
        on_net = bool(places.site_walk_m[i] <= settings.max_snap_m)
        sites.append(
            PlaceReach(
                layer,
                site_id,
                name,
                population,
                _minutes(site_before[i]) if on_net else None,
                _minutes(site_during[i]) if on_net else None,
                on_net,
                float(places.site_walk_m[i]),
            )
        )
    return HealthReach(
        limit_min=settings.reach_limit_min,
        facilities=int(targets.nodes.size),
        people_worse=float(people[worse].sum()),
        worse_by_min=float((during[still] - before[still]).max() / 60) if still.any() else 0.0,
        people_beyond_before=float(people[beyond_before].sum()),
        people_beyond_during=float(people[beyond_during].sum()),
        people_newly_beyond=float(people[beyond_during & ~beyond_before].sum()),
        people_off_network=places.off_network_people,
        sites=sites,
        lost_cells=places.cell_index[beyond_during & ~beyond_before],
    )


def _minutes(seconds: float) -> float | None:
    return None if not np.isfinite(seconds) else round(float(seconds) / 60, 1)


def _cut_off(
    searches: _Searches,
    closed: np.ndarray,
    targets: dict[str, Targets],
    places: _Places,
    *,
    gazetteer: Gazetteer | None,
) -> list[CutOff]:
    """Places that reach an essential service before the operation and cannot during it."""
    if not closed.any():
        return []
    graph = searches.graph
    component = graph.components(closed)
    lost_cells: dict[int, set[str]] = {}
    lost_sites: dict[int, set[str]] = {}
    on = places.cell_on
    site_on = places.site_walk_m <= places.max_snap_m
    for category, target in targets.items():
        if target.nodes.size == 0:
            continue
        before, during = searches.times(target), searches.times(target, closed)
        if during is before:  # no junction loses the way to it
            continue
        lost_at = np.isfinite(before) & ~np.isfinite(during)  # per junction
        lost_nodes = places.cell_node[on & lost_at[places.cell_node]]
        for part in np.unique(component[lost_nodes]).tolist():  # the parts of the network those cells lie in
            lost_cells.setdefault(part, set()).add(category)
        for site in np.flatnonzero(site_on & lost_at[places.site_node]):
            lost_sites.setdefault(int(site), set()).add(category)
    found = []
    for part, lost in sorted(lost_cells.items()):
        in_part = on & (component[places.cell_node] == part)
        people = float(places.cell_people[in_part].sum())
        heaviest = int(np.argmax(np.where(in_part, places.cell_people, -1)))
        found.append(
            CutOff(
                "community",
                f"{int(in_part.sum())} populated cell(s) {_place_name(places, heaviest, gazetteer)}",
                people,
                tuple(sorted(lost)),
                _edge_roads(graph, closed, component, part),
                float(places.cell_x[heaviest]),
                float(places.cell_y[heaviest]),
            )
        )
    for i, lost in sorted(lost_sites.items()):
        layer, site_id, name, population = places.site_rows[i]
        site_part = int(component[places.site_node[i]])
        found.append(
            CutOff(
                "displacement",
                name or f"{layer}:{site_id}",
                population or 0.0,
                tuple(sorted(lost)),
                _edge_roads(graph, closed, component, site_part),
                float(places.site_x[i]),
                float(places.site_y[i]),
            )
        )
    found.extend(_isolated_sites(searches, closed, component, targets, places))
    return sorted(found, key=lambda c: -c.people)


def _isolated_sites(
    searches: _Searches, closed: np.ndarray, component: np.ndarray, targets: dict[str, Targets], places: _Places
) -> list[CutOff]:
    """Essential sites that some community reached before and none can reach during the operation."""
    graph = searches.graph
    before_parts = graph.components()
    on = places.cell_on
    populated_before = searches.as_it_is(
        ("populated parts", id(places)), lambda: set(np.unique(before_parts[places.cell_node[on]]).tolist())
    )
    populated_during = set(np.unique(component[places.cell_node[on]]).tolist())
    found = []
    for category, target in targets.items():
        for node, label in zip(target.nodes, target.labels, strict=True):
            if int(before_parts[node]) in populated_before and int(component[node]) not in populated_during:
                found.append(
                    CutOff(
                        "site",
                        f"{label} ({category})",
                        0.0,
                        (category,),
                        _edge_roads(graph, closed, component, int(component[node])),
                        float(graph.x[node]),
                        float(graph.y[node]),
                    )
                )
    return found


def _edge_roads(graph: RoadGraph, closed: np.ndarray, component: np.ndarray, part: int) -> tuple[str, ...]:
    """Closed roads with one end in ``part`` of the network: the closures that cut it off."""
    u_in, v_in = component[graph.edges.u] == part, component[graph.edges.v] == part
    edge = closed & (u_in != v_in)
    return tuple(sorted({str(r) for r in graph.road_ids[edge]}))


def _place_name(places: _Places, i: int, gazetteer: Gazetteer | None) -> str:
    """'2.6 km S of Nyal (36N WM 6175 8595)', as field staff say a place; grid figures without a gazetteer."""
    if gazetteer is None:
        return f"around {places.cell_x[i]:.0f} E {places.cell_y[i]:.0f} N"
    return gazetteer.where(float(places.cell_x[i]), float(places.cell_y[i])).text


def _is_route(coa: COA, zone: Zone) -> bool:
    element = next(e for e in coa.elements if e.id == zone.element)
    return element.shape_kind == "route"


def _route_ends(graph: RoadGraph, routes: list[Zone]) -> list[tuple[int, int]]:
    """The junction nearest each end of each route, found in one query for all the routes of a COA."""
    if not routes:
        return []
    lines = [zone.geometry for zone in routes]
    starts, stops = shapely.get_point(lines, 0), shapely.get_point(lines, -1)
    nodes, _ = graph.snap(
        np.r_[shapely.get_x(starts), shapely.get_x(stops)], np.r_[shapely.get_y(starts), shapely.get_y(stops)]
    )
    return [(int(a), int(b)) for a, b in zip(nodes[: len(routes)], nodes[len(routes) :], strict=True)]


def _route(
    graph: RoadGraph,
    closed: np.ndarray,
    *,
    surface: RiskSurface,
    zone: Zone,
    ends: tuple[int, int],
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


def _people_on_edges(cells: _Cells, graph: RoadGraph, edges: list[int] | np.ndarray) -> float:
    """People in the cells a path's road pieces touch (each cell once), from the pieces' shared cells."""
    if len(edges) == 0:
        return 0.0
    return float(cells.people[cells.of_pieces(graph).of(edges)].sum())


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
    ends: tuple[int, int],
    *,
    cells: _Cells,
    crs: CRS,
    settings: AccessSettings,
) -> list[RouteOption]:
    """Up to ``settings.alternatives`` different paths between the route's ends, cheapest first, where a
    piece's cost is its time x (1 + people along it / scale). Found on scipy's graph by penalised shortest
    paths: after each path its pieces cost double, so the next search finds the best way round them."""
    source, target = ends
    if source == target:
        return []
    # Only the edges near the straight line between the ends (and a margin) are worth a path search.
    corridor = shapely.LineString([(graph.x[source], graph.y[source]), (graph.x[target], graph.y[target])]).buffer(
        max(
            settings.margin_m,
            0.5 * float(np.hypot(graph.x[target] - graph.x[source], graph.y[target] - graph.y[source])),
        )
    )
    near = np.sort(graph.tree.query(corridor, predicate="intersects"))
    near = near[graph.passable[near] & ~closed[near]]
    if near.size == 0:
        return []
    along = cells.of_pieces(graph).people[near]
    cost = graph.edges.time_s[near].astype(float) * (1 + along / settings.route_people_scale)
    # Between two junctions only the cheapest of parallel pieces counts; a loop is never on a shortest path
    u, v = graph.edges.u[near], graph.edges.v[near]
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((cost, b, a))
    first = np.r_[True, (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])] & (a[order] != b[order])
    pieces, a, b, cost = near[order][first], a[order][first], b[order][first], cost[order][first]
    junctions, local = np.unique(np.concatenate([a, b]), return_inverse=True)
    la, lb = local[: a.size], local[a.size :]
    count = junctions.size
    start, goal = (int(i) for i in np.searchsorted(junctions, [source, target]))
    if count in (start, goal) or junctions[start] != source or junctions[goal] != target:
        return []
    # Each piece by the pair of junctions it joins, as one number: ascending, as the pieces are sorted by pair
    pair_key = la.astype(np.int64) * count + lb
    # The matrix is made once; each search only puts the pieces' current weights in it. Its entries are
    # numbered by piece first (1-based, so none is a zero scipy could drop), then given their weights.
    numbers = np.arange(1, a.size + 1, dtype=float)
    matrix = csr_matrix((np.r_[numbers, numbers], (np.r_[la, lb], np.r_[lb, la])), shape=(junctions.size,) * 2)
    entry_piece = matrix.data.astype(int) - 1
    weights = cost.copy()
    paths: list[list[int]] = []
    for _ in range(2 * settings.alternatives):  # a repeated path only raises penalties: bounded tries
        if len(paths) == settings.alternatives:
            break
        matrix.data = weights[entry_piece]
        _, previous = dijkstra(matrix, directed=False, indices=start, return_predecessors=True)
        if previous[goal] < 0:
            break
        walked, node = [goal], goal
        while node != start:
            node = int(previous[node])
            walked.append(node)
        along_path = np.array(walked[::-1], dtype=np.int64)
        low, high = np.minimum(along_path[:-1], along_path[1:]), np.maximum(along_path[:-1], along_path[1:])
        steps = np.searchsorted(pair_key, low * count + high).tolist()
        if steps not in paths:
            paths.append(steps)
        weights[steps] *= 2.0
    paths.sort(key=lambda p: float(cost[p].sum()))
    options = []
    for path in paths:
        edges = [int(pieces[i]) for i in path]
        options.append(
            _option(
                [graph.geometry[e] for e in edges],
                length_km=float(graph.length_m[edges].sum()) / 1000,
                time_s=float(graph.edges.time_s[edges].sum()),
                people=_people_on_edges(cells, graph, edges),
                roads=tuple(dict.fromkeys(str(graph.road_ids[e]) for e in edges)),
                crs=crs,
            )
        )
    return options


Facility = tuple[str, float, float]  # name, and position in the working CRS


@dataclass(frozen=True)
class _CareFacilities:
    """Where casualties are taken from every element of an assessment: functioning hospitals and the plan's UN
    medical care, and the junction each is reached at with the walk to it."""

    civilian: list[Facility]
    un: list[Facility]
    snapped: dict[str, tuple[np.ndarray, np.ndarray]]  # by patients: junctions, walks (m)


def _care_facilities(graph: RoadGraph, layerset: LayerSet, plan: Plan, crs: CRS) -> _CareFacilities:
    hospitals = _hospitals(layerset, crs)
    to_working = transformer(WGS84, crs).transform
    un = [(name, *to_working(lon, lat)) for name, lon, lat in plan.un_medical]
    snapped = {
        patients: graph.snap(np.array([f[1] for f in facilities]), np.array([f[2] for f in facilities]))
        for patients, facilities in (("civilian", hospitals), ("UN", un))
        if facilities
    }
    return _CareFacilities(hospitals, un, snapped)


def _casevac(
    graph: RoadGraph,
    zones: list[Zone],
    care: _CareFacilities,
    *,
    crs: CRS,
    settings: AccessSettings,
    result: Access,
) -> list[Casevac]:
    """From each element, the fastest road to a civilian hospital and to UN medical care, in the plan's season."""
    walk = settings.offroad_kmh / 3.6
    hospitals, un, snapped = care.civilian, care.un, care.snapped
    if not un:
        result.flags.append(
            Flag(
                "no_un_medical",
                "-",
                "the plan names no UN medical facility (`un_medical:`): CASEVAC times for UN patients are unknown",
            )
        )
    origins = shapely.point_on_surface([zone.geometry for zone in zones])
    nodes, walks = graph.snap(shapely.get_x(origins), shapely.get_y(origins))
    found = []
    for zone, node, walk_m in zip(zones, nodes, walks, strict=True):
        searched = None  # one search from the element serves its civilian and UN patients
        for patients, facilities in (("civilian", hospitals), ("UN", un)):
            if not facilities:
                what = "no functioning hospital in the sites layers" if patients == "civilian" else "no `un_medical:`"
                found.append(Casevac(zone.element, patients, None, None, None, what))
                continue
            fac_nodes, fac_walk = snapped[patients]
            usable = fac_walk <= settings.max_snap_m
            if walk_m > settings.max_snap_m or not usable.any():
                far = "the element" if walk_m > settings.max_snap_m else "every facility"
                reason = f"{far} lies more than {settings.max_snap_m:,.0f} m from any junction of the road network"
                found.append(Casevac(zone.element, patients, None, None, None, reason))
                continue
            # The force keeps its own cordons and closures open to its casualty evacuation.
            searched = searched or graph.fastest_from(int(node))
            target, seconds, edges = graph.path(int(node), fac_nodes[usable], searched=searched)
            if target < 0:
                reason = "no road in this data links the element to any facility (disconnected network)"
                found.append(Casevac(zone.element, patients, None, None, None, reason))
                continue
            which = int(np.flatnonzero(usable)[np.flatnonzero(fac_nodes[usable] == target)[0]])
            total = seconds + (walk_m + fac_walk[which]) / walk
            line = shapely.line_merge(shapely.union_all([graph.geometry[e] for e in edges])) if edges else None
            geometry = (
                shapely.transform(line, transformer(crs, WGS84).transform, interleaved=False)
                if line is not None
                else None
            )
            found.append(Casevac(zone.element, patients, facilities[which][0], round(float(total) / 60, 1), geometry))
    return found


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
