"""The road graph: junctions, road pieces between them, and travel times, over the area an assessment needs.

Built from a roads layer in the working CRS:

- **junctions** are line ends and vertices shared by two or more lines, after snapping vertices that lie
  within ``snap_m`` of each other (digitised roads rarely meet exactly), and where a line ends within
  ``snap_m`` of another between its vertices (a T-junction drawn without a shared vertex). Roads that cross
  without a shared vertex do not meet, as in OpenStreetMap (bridges and overpasses).
- **edges** are the pieces of road between two junctions, with length, travel time from the speed table
  (class, surface, condition, season) and the road they come from.
- **landings**: where a place (a populated cell, a site, an element) joins the network: the nearest point of a
  passable road piece, walked to straight, then driven along the piece to either of its junctions. Road pieces
  between junctions run for kilometres in field data: the nearest junction can lie far beyond the road beside
  a place.
- **parallel edges** between the same two junctions are all kept (when the fastest is closed, the next one
  still serves), and every shortest-path search uses the fastest open one: a sparse matrix built naively
  sums them and a plain ``networkx.Graph`` keeps the last one, both wrong.

The graph is held as arrays with a CSR matrix holding each road both ways for shortest paths
(``scipy.sparse.csgraph``); its bridges (roads that are the only link of what lies beyond) come from
rustworkx, compiled and quick to load; places join it through a spatial index of its roads' straight
segments. It is available as a ``networkx`` graph (``to_networkx``) for users and tools such as OSMnx.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import rustworkx
import shapely
from pyproj import CRS
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry.base import BaseGeometry

from planner.geo import WGS84, box_text, transformer
from planner.layers.model import VectorLayer
from planner.settings import AccessSettings

SEASONS = ("dry", "rainy")
# What a graph keeps of the areas assessed over it (``RoadGraph.kept``): two things per area, for as many
# areas as a dashboard keeps layer sets
KEPT = 16
# Search matrices (and their edge lookups) a graph keeps, one per set of closures: a plan's COAs and more. A
# dashboard assesses COA after COA over one graph for as long as it runs: kept without a bound, they would grow.
MATRICES = 64
T = TypeVar("T")
# A place by a shut stretch looks this far for a road that stays open before looking as far as it may walk
REJOIN_FIRST_M = 300.0

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Landing:
    """Where points join the road network: the nearest point of a passable road piece, walked to straight.

    ``share`` is how far along its piece a point lands, from the piece's junction ``u`` (0) to ``v`` (1). A point
    farther than the distance asked from every passable piece has ``edge`` -1 and an infinite walk."""

    edge: np.ndarray
    share: np.ndarray
    walk_m: np.ndarray

    @property
    def on(self) -> np.ndarray:
        return self.edge >= 0

    def take(self, which: np.ndarray) -> Landing:
        return Landing(self.edge[which], self.share[which], self.walk_m[which])


@dataclass(frozen=True)
class Closed:
    """Road pieces closed during an operation, on each the stretch the closure shuts (shares from its junction
    ``u``, NaN where open), and the areas that close them. A place beside a closed piece drives to the junction
    on its side of the stretch; a place beside the stretch itself walks on to a road that stays open, unless
    it lies in a closing area (a cordon holds the people in it)."""

    mask: np.ndarray
    low: np.ndarray
    high: np.ndarray
    area: BaseGeometry | None = None

    @classmethod
    def none(cls, edges: int) -> Closed:
        return cls(np.zeros(edges, dtype=bool), np.full(edges, np.nan), np.full(edges, np.nan))

    def any(self) -> bool:
        return bool(self.mask.any())


@dataclass(frozen=True)
class Edges:
    """Undirected edges as arrays: junctions ``u < v`` and a travel time in seconds for each."""

    u: np.ndarray
    v: np.ndarray
    time_s: np.ndarray


def fastest_edges(u: np.ndarray, v: np.ndarray, time_s: np.ndarray) -> tuple[Edges, np.ndarray]:
    """Orient edges ``u < v``, drop loops, and keep the fastest of parallel edges (the first given of equals).

    Returns the edges, by junction pair, and for each kept edge its position in the input (to carry attributes
    along).
    """
    a, b = np.minimum(u, v), np.maximum(u, v)
    keep = np.flatnonzero(a != b)
    if keep.size == 0:
        return Edges(a[keep], b[keep], time_s[keep]), keep
    # One sort by junction pair (a number each), then the fastest of each run of one pair: a sort by pair and
    # time together costs seven times more on a national network
    pair = a[keep].astype(np.int64) * (int(b[keep].max()) + 1) + b[keep]
    by_pair = np.argsort(pair, kind="stable")
    order, sorted_pair = keep[by_pair], pair[by_pair]
    run = np.cumsum(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]]) - 1
    times = time_s[order]
    fastest = np.full(run[-1] + 1, np.inf)
    np.minimum.at(fastest, run, times)
    best = np.flatnonzero(times == fastest[run])
    kept = order[best[np.r_[True, run[best][1:] != run[best][:-1]]]]
    return Edges(a[kept], b[kept], time_s[kept]), kept


def search_matrix(edges: Edges, nodes: int) -> csr_matrix:
    """Travel times of edges without parallels (see ``fastest_edges``) as a CSR matrix, each road both ways.

    Searches run on it as a directed graph (``directed=True``): it holds both ways already, and scipy would
    otherwise transpose it on every search. Zero times stay edges.
    """
    both = (np.r_[edges.time_s, edges.time_s], (np.r_[edges.u, edges.v], np.r_[edges.v, edges.u]))
    return coo_matrix(both, shape=(nodes, nodes)).tocsr()


class _Latest:
    """Things made once and kept for the next asks, the ``limit`` least recently used let go. Safe across
    threads: dashboard sessions share a graph from theirs, and two could move or let go the same entry."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._found: OrderedDict[object, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._found)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()

    def get(self, key: object, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                found: T = self._found[key]
                return found
        made = make()
        with self._lock:
            self._found[key] = made
            while len(self._found) > self.limit:
                self._found.popitem(last=False)
        return made


@dataclass
class RoadGraph:
    """The road network of an area, in a working CRS: junctions, edges and their roads."""

    layer: str
    crs: str
    season: str
    x: np.ndarray  # junction coordinates
    y: np.ndarray
    edges: Edges
    length_m: np.ndarray
    road_row: np.ndarray  # row of the roads layer each edge comes from
    passable: np.ndarray  # False where the season closes the road
    geometry: np.ndarray  # LineString of each edge
    road_ids: np.ndarray
    road_classes: np.ndarray
    parallel: int = 0  # edges that run beside a faster one between the same junctions
    # Per set of closures: the search matrix and its open edges, and the open edge between each two junctions
    _matrices: _Latest = field(default_factory=lambda: _Latest(MATRICES), repr=False, compare=False)
    _lookups: _Latest = field(default_factory=lambda: _Latest(MATRICES), repr=False, compare=False)
    # Things made from the graph and an area's grid, reused by the next assessments of that area (see ``kept``)
    _kept: _Latest = field(default_factory=lambda: _Latest(KEPT), repr=False, compare=False)

    def kept(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """``make()``, kept with the graph under ``key`` (what else it depends on) for the next assessments of
        the same area: a plan edited and assessed again. The least recently used beyond ``KEPT`` are let go,
        as a dashboard may assess many areas over one national graph."""
        return self._kept.get(key, make)

    @property
    def nodes(self) -> int:
        return int(self.x.size)

    def __len__(self) -> int:
        return int(self.edges.u.size)

    def matrix(self, closed: np.ndarray | None = None) -> csr_matrix:
        """Travel times between junctions over passable edges, without the ``closed`` ones (a mask)."""
        return self._open(closed)[0]

    def _key(self, closed: np.ndarray | None) -> bytes:
        """Which edges are open, as a key of the things made from them."""
        return np.packbits(self.passable if closed is None else self.passable & ~closed).tobytes()

    def _open(self, closed: np.ndarray | None) -> tuple[csr_matrix, np.ndarray]:
        """The matrix of the fastest open edge between each pair of junctions, and those edges' positions."""

        def make() -> tuple[csr_matrix, np.ndarray]:
            positions = np.flatnonzero(self.passable if closed is None else self.passable & ~closed)
            u, v, t = self.edges.u[positions], self.edges.v[positions], self.edges.time_s[positions]
            if self.parallel:
                fastest, kept = fastest_edges(u, v, t)
                positions = positions[kept]
            else:  # no two roads join the same junctions: nothing to choose between
                fastest = Edges(u, v, t)
            return search_matrix(fastest, self.nodes), positions

        return self._matrices.get(self._key(closed), make)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """A spatial index of the road pieces (one per graph, shared by every COA's closures and routes)."""
        return shapely.STRtree(self.geometry)

    @cached_property
    def runs_from_u(self) -> np.ndarray:
        """Whether each edge's line is drawn from its junction ``u`` (edges keep their junctions in number order,
        their lines the order the roads layer drew them in)."""
        if len(self) == 0:
            return np.array([], dtype=bool)
        first = shapely.get_coordinates(shapely.get_point(self.geometry, 0))
        u, v = self.edges.u, self.edges.v
        return np.hypot(self.x[u] - first[:, 0], self.y[u] - first[:, 1]) <= np.hypot(
            self.x[v] - first[:, 0], self.y[v] - first[:, 1]
        )

    @cached_property
    def _segments(self) -> tuple[shapely.STRtree, np.ndarray, np.ndarray, np.ndarray]:
        """The passable pieces cut into their straight segments, indexed: (tree, segments, edge of each, metres
        along its edge's line where each starts)."""
        open_edges = np.flatnonzero(self.passable)
        segments, line, along = straight_segments(self.geometry[open_edges])
        return shapely.STRtree(segments), segments, open_edges[line], along

    def land(self, x: np.ndarray, y: np.ndarray, max_m: float | None) -> Landing:
        """Where each point joins the network: the nearest point of a passable piece within ``max_m`` (None:
        however far)."""
        x, y = np.ravel(x).astype(float), np.ravel(y).astype(float)
        edge, share, walk = np.full(x.size, -1), np.zeros(x.size), np.full(x.size, np.inf)
        tree, segments, _, _ = self._segments
        if segments.size == 0 or x.size == 0:
            return Landing(edge, share, walk)
        points = shapely.points(x, y)
        (point, segment), distance = tree.query_nearest(
            points, max_distance=max_m, return_distance=True, all_matches=False
        )
        edge[point], share[point], walk[point] = *self._on_segments(segment, points[point]), distance
        return Landing(edge, share, walk)

    def _on_segments(self, segment: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The edge and share from its ``u`` of each point's nearest point on its ``segment``."""
        _, segments, segment_edge, along = self._segments
        edge = segment_edge[segment]
        metres = along[segment] + shapely.line_locate_point(segments[segment], points)
        drawn = np.clip(metres / np.maximum(self.length_m[edge], 1e-9), 0.0, 1.0)
        return edge, np.where(self.runs_from_u[edge], drawn, 1.0 - drawn)

    def rejoin(self, landing: Landing, x: np.ndarray, y: np.ndarray, closed: Closed | None, max_m: float) -> Landing:
        """Where each point joins the network during ``closed``: a point beside a shut stretch and outside the
        closing areas walks on to the nearest road that stays open within ``max_m``; a point inside them, or
        with no open road within reach, stays by the stretch and drives nowhere."""
        if closed is None or not closed.any():
            return landing
        beside = np.flatnonzero(np.r_[closed.mask, False][landing.edge])  # by a closed piece (-1 reads False)
        to_u, to_v = self.to_ends(landing.take(beside), closed)
        which = beside[np.isinf(to_u) & np.isinf(to_v)]
        if closed.area is not None and which.size:
            which = which[~shapely.contains_xy(closed.area, np.asarray(x)[which], np.asarray(y)[which])]
        if which.size == 0:
            return landing
        tree, segments, segment_edge, _ = self._segments
        points = shapely.points(np.asarray(x)[which], np.asarray(y)[which])
        edge, share, walk = landing.edge.copy(), landing.share.copy(), landing.walk_m.copy()
        left = np.arange(which.size)
        for reach in dict.fromkeys((min(REJOIN_FIRST_M, max_m), max_m)):  # most find an open road near
            found, segment = tree.query(points[left], predicate="dwithin", distance=reach)
            point = left[found]
            open_ = ~closed.mask[segment_edge[segment]]
            point, segment = point[open_], segment[open_]
            distance = shapely.distance(points[point], segments[segment])
            order = np.lexsort((distance, point))  # nearest open segment first, point by point
            first = order[np.r_[True, point[order][1:] != point[order][:-1]]] if order.size else order
            rejoined = which[point[first]]
            edge[rejoined], share[rejoined] = self._on_segments(segment[first], points[point[first]])
            walk[rejoined] = distance[first]
            left = np.setdiff1d(left, point[first])
            if left.size == 0:
                break
        return Landing(edge, share, walk)

    def ends(self, landing: Landing) -> tuple[np.ndarray, np.ndarray]:
        """The junctions ``u`` and ``v`` of each landing's piece (-1 off the network)."""
        if len(self) == 0:
            return np.full(landing.edge.size, -1), np.full(landing.edge.size, -1)
        on = landing.on
        edge = np.where(on, landing.edge, 0)
        return np.where(on, self.edges.u[edge], -1), np.where(on, self.edges.v[edge], -1)

    def to_ends(self, landing: Landing, closed: Closed | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Seconds of driving from each landing to its piece's junctions ``u`` and ``v``: infinite where the
        piece's shut stretch lies between, and for points that landed nowhere."""
        on = landing.on
        edge = np.where(on, landing.edge, 0)
        time_s = self.edges.time_s[edge] if len(self) else np.zeros(edge.size)
        to_u = np.where(on, landing.share * time_s, np.inf)
        to_v = np.where(on, (1.0 - landing.share) * time_s, np.inf)
        if closed is not None and len(self):
            shut = on & closed.mask[edge]
            to_u[shut & ~(landing.share < closed.low[edge])] = np.inf
            to_v[shut & ~(landing.share > closed.high[edge])] = np.inf
        return to_u, to_v

    def starts(
        self, landing: Landing, delay_s: np.ndarray, closed: Closed | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The junctions a search from ``landing`` starts at and how late (``delay_s`` plus the drive to
        each), for ``times_from``."""
        to_u, to_v = self.to_ends(landing, closed)
        u, v = self.ends(landing)
        nodes, delays = np.r_[u, v], np.r_[delay_s + to_u, delay_s + to_v]
        keep = np.isfinite(delays)
        return nodes[keep], delays[keep]

    def arrival(self, times: np.ndarray, landing: Landing, closed: Closed | None = None) -> np.ndarray:
        """Seconds from a search's start to each landing (``times`` per junction), by either end of its piece."""
        to_u, to_v = self.to_ends(landing, closed)
        if len(self) == 0:
            return to_u
        u, v = self.ends(landing)  # off the network (-1) the drive is infinite whatever the junction's time
        return np.minimum(to_u + times[u], to_v + times[v])

    def along_piece(
        self, landing: Landing, targets: Landing, delay_s: np.ndarray, closed: Closed | None = None
    ) -> np.ndarray:
        """Seconds from each landing to the nearest of ``targets`` on its own piece, driving straight along it
        (``delay_s`` added per target): no junction lies between them. Infinite where none is, or the shut
        stretch lies between."""
        found = np.full(landing.edge.size, np.inf)
        landed = np.flatnonzero(targets.on)
        place, target = same_piece_pairs(landing.edge, targets.edge[landed])
        if place.size == 0:
            return found
        target = landed[target]
        edge = landing.edge[place]
        low = np.minimum(landing.share[place], targets.share[target])
        high = np.maximum(landing.share[place], targets.share[target])
        seconds = (high - low) * self.edges.time_s[edge] + delay_s[target]
        if closed is not None:  # blocked where the shut stretch overlaps the way
            seconds[closed.mask[edge] & (low <= closed.high[edge]) & (high >= closed.low[edge])] = np.inf
        np.minimum.at(found, place, seconds)
        return found

    def point_at(self, edge: int, share: float) -> np.ndarray:
        """The point ``share`` of the way along a piece from its junction ``u``, as x and y."""
        drawn = share if self.runs_from_u[edge] else 1.0 - share
        return shapely.get_coordinates(shapely.line_interpolate_point(self.geometry[edge], drawn, normalized=True))[0]

    def piece_between(self, edge: int, start: float, end: float) -> BaseGeometry:
        """The stretch of a piece's line between two shares from its junction ``u``, drawn from ``start``."""
        a, b = (start, end) if self.runs_from_u[edge] else (1.0 - start, 1.0 - end)
        coords = shapely.get_coordinates(self.geometry[edge])
        along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(coords, axis=0).T))]
        first, last = sorted((a * along[-1], b * along[-1]))
        inner = coords[(along > first) & (along < last)]
        ends = np.column_stack(
            [np.interp([first, last], along, coords[:, 0]), np.interp([first, last], along, coords[:, 1])]
        )
        line = np.vstack([ends[:1], inner, ends[1:]])
        return shapely.linestrings(line if a <= b else line[::-1])

    def times_from(self, nodes: np.ndarray, offsets_s: np.ndarray, closed: np.ndarray | None = None) -> np.ndarray:
        """Least travel time (s) from any of ``nodes`` (each starting ``offsets_s`` late) to every junction."""
        nodes, offsets_s = np.asarray(nodes), np.asarray(offsets_s, dtype=float)
        if nodes.size == 0 or self.nodes == 0:
            return np.full(self.nodes, np.inf)
        if not np.any(offsets_s):
            return np.asarray(dijkstra(self.matrix(closed), directed=True, indices=nodes, min_only=True))
        return self._from_delayed(nodes, offsets_s, closed)

    def fastest_from_ends(self, edge: int) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from each end of ``edge`` (``u``, then ``v``) to every junction, and the junction before each
        on its fastest way (-9999 at the end itself): one row per end, from one call."""
        ends = [int(self.edges.u[edge]), int(self.edges.v[edge])]
        rows, previous = dijkstra(self.matrix(), directed=True, indices=ends, return_predecessors=True)
        return np.asarray(rows), np.asarray(previous)

    def _from_delayed(self, nodes: np.ndarray, offsets_s: np.ndarray, closed: np.ndarray | None) -> np.ndarray:
        matrix = self.matrix(closed)
        # Different start delays: one extra junction with a one-way link to each start as long as its delay,
        # searched from there. Its row is added to the matrix as it stands, so zero delays stay edges (adding
        # sparse matrices would drop them). Several starts at one junction (two clinics by one crossroads) keep
        # the shortest delay.
        starts, _ = fastest_edges(nodes, np.full(nodes.size, self.nodes), offsets_s)
        size = self.nodes + 1
        grown = csr_matrix(
            (
                np.concatenate([matrix.data, starts.time_s]),
                np.concatenate([matrix.indices, starts.u]),
                np.r_[matrix.indptr, matrix.indptr[-1] + starts.u.size],
            ),
            shape=(size, size),
        )
        return np.asarray(dijkstra(grown, directed=True, indices=self.nodes))[: self.nodes]

    @cached_property
    def sole_links(self) -> np.ndarray:
        """Edges whose loss splits the passable network (graph bridges): the only road link of what lies beyond.

        A road with another passable one between the same two junctions is never the only link.
        """
        positions = np.flatnonzero(self.passable)
        a = np.minimum(self.edges.u[positions], self.edges.v[positions])
        b = np.maximum(self.edges.u[positions], self.edges.v[positions])
        pairs, counts = np.unique(np.column_stack([a, b]), axis=0, return_counts=True)
        # rustworkx rather than networkx: the same bridges, five times faster on a national network, and
        # loaded in a hundredth of a second where networkx takes a tenth of every assessment's start
        graph = rustworkx.PyGraph(multigraph=False)
        graph.add_nodes_from(range(self.nodes))
        graph.add_edges_from_no_data(list(map(tuple, pairs[pairs[:, 0] != pairs[:, 1]].tolist())))
        single = {tuple(p) for p in pairs[counts == 1].tolist()}
        bridges = {(min(pair), max(pair)) for pair in rustworkx.bridges(graph)} & single
        mask = np.zeros(len(self), dtype=bool)
        mask[positions] = [(int(u), int(v)) in bridges for u, v in zip(a, b, strict=True)]
        return mask

    def components(self, closed: np.ndarray | None = None) -> np.ndarray:
        """The connected part of the network each junction belongs to, with ``closed`` edges removed."""
        if closed is None:
            return self._parts
        return connected_components(self.matrix(closed), directed=False)[1]

    @cached_property
    def _parts(self) -> np.ndarray:
        """The parts of the network as it is, asked by every COA."""
        return connected_components(self.matrix(), directed=False)[1]

    def edges_along(self, previous: np.ndarray, target: int) -> list[int]:
        """The edges of the fastest way to ``target`` on the network as it is, from a search's ``previous``."""
        lookup = self._edge_lookup(None)
        edges, node = [], target
        while previous[node] >= 0:
            before = int(previous[node])
            edges.append(lookup[(min(before, node), max(before, node))])
            node = before
        return edges[::-1]

    def _edge_lookup(self, closed: np.ndarray | None) -> dict[tuple[int, int], int]:
        """The open edge between each pair of junctions, made once per set of open edges (every path of a
        COA's CASEVAC and reach asks it)."""

        def make() -> dict[tuple[int, int], int]:
            positions = self._open(closed)[1]
            return {
                (int(a), int(b)): int(i)
                for a, b, i in zip(self.edges.u[positions], self.edges.v[positions], positions, strict=True)
            }

        return self._lookups.get(self._key(closed), make)

    def to_networkx(self) -> nx.MultiGraph:
        """The graph as a networkx MultiGraph (parallel roads kept, as OSMnx does): junctions with x, y; edges
        with length, time (``time_s``, the weight to use), road id, class and passability."""
        import networkx as nx  # noqa: PLC0415

        graph = nx.MultiGraph(crs=self.crs, season=self.season, layer=self.layer)
        graph.add_nodes_from(
            (i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(zip(self.x, self.y, strict=True))
        )
        graph.add_edges_from(
            (
                int(a),
                int(b),
                {
                    "edge": i,
                    "length_m": float(length),
                    "time_s": float(t),
                    "road_id": str(road),
                    "road_class": str(cls),
                    "passable": bool(ok),
                },
            )
            for i, (a, b, t, length, road, cls, ok) in enumerate(
                zip(
                    self.edges.u,
                    self.edges.v,
                    self.edges.time_s,
                    self.length_m,
                    self.road_ids,
                    self.road_classes,
                    self.passable,
                    strict=True,
                )
            )
        )
        return graph


def road_speeds(frame: pd.DataFrame, settings: AccessSettings, season: str) -> tuple[np.ndarray, np.ndarray]:
    """Speed (km/h) of each road and whether it is passable in ``season``, from the speed table."""
    slowest = min(settings.speeds_kmh.values())
    classes = frame["road_class"].astype(str).str.strip().str.lower()
    speed = classes.map(settings.speeds_kmh).fillna(slowest).to_numpy(dtype=float).copy()
    surface = _lower(frame, "surface")
    speed *= surface.map(settings.surface_factors).fillna(1.0).to_numpy(dtype=float)
    speed *= _lower(frame, "condition").map(settings.condition_factors).fillna(1.0).to_numpy(dtype=float)
    passable = np.ones(len(frame), dtype=bool)
    if season == "rainy":
        passable = ~_lower(frame, "rainy_season").isin(settings.rainy_closed).to_numpy()
        earth = surface.isin(settings.earth_surfaces).to_numpy()
        speed = np.where(earth, speed * settings.rainy_earth_factor, speed)
    return speed, passable


def _lower(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index)
    return frame[column].astype(object).where(frame[column].notna(), "").astype(str).str.strip().str.lower()


def build_graph(
    layer: VectorLayer,
    crs: CRS,
    bounds: tuple[float, float, float, float],
    settings: AccessSettings,
    season: str = "dry",
) -> RoadGraph:
    """The road graph of ``layer`` over ``bounds`` (working CRS) plus the settings' margin, cached per layer."""
    west, south, east, north = bounds
    margin = settings.margin_m
    area = shapely.box(west - margin, south - margin, east + margin, north + margin)
    _check_read_area(layer, crs, area)
    key = ("road_graph", CRS.from_user_input(crs).to_string(), season, settings.model_dump_json(), area.wkb)
    cached = layer.derived.get(key)
    if cached is not None:
        return cached
    index = layer.projected(crs)
    rows = np.sort(index.tree.query(area, predicate="intersects"))
    graph = graph_from_lines(
        index.geometries[rows],
        layer.frame.iloc[rows],
        rows,
        settings,
        season,
        layer_id=layer.id,
        crs=CRS.from_user_input(crs).to_string(),
    )
    layer.derived[key] = graph
    return graph


def same_piece_pairs(pieces: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i, j)`` with ``pieces[i] == others[j]``: places and the targets on their own road piece,
    from ``others`` sorted once, with no loop over either (a country's cells by a thousand facilities)."""
    order = np.argsort(others, kind="stable")
    ordered = others[order]
    first = np.searchsorted(ordered, pieces, side="left")
    count = np.searchsorted(ordered, pieces, side="right") - first
    i = np.repeat(np.arange(pieces.size), count)
    j = order[np.repeat(first, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)]
    return i, j


def straight_segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``lines`` cut into their straight segments: the segments (two points each), the line each belongs to,
    and the metres along its line where each starts. Straight segments have small boxes: a nearest search
    over whole roads (kilometres each, their boxes overlapping) costs ten times more."""
    coords, line = shapely.get_coordinates(lines, return_index=True)
    same = line[1:] == line[:-1]
    starts, ends, of = coords[:-1][same], coords[1:][same], line[:-1][same]
    if of.size == 0:
        return np.array([], dtype=object), of, np.array([])
    step = np.hypot(*(ends - starts).T)
    before = np.cumsum(step) - step  # metres before each segment, counted over every line
    first = np.r_[True, of[1:] != of[:-1]]
    along = before - np.maximum.accumulate(np.where(first, before, 0.0))
    return shapely.linestrings(np.stack([starts, ends], axis=1)), of, along


def _check_read_area(layer: VectorLayer, crs: CRS, area: shapely.Polygon) -> None:
    """A layer read for one study area cannot answer for another: roads beyond it would be missing, and a
    network missing them would look cut off. Refused, never answered short."""
    if layer.area is None:
        return
    to_degrees = transformer(crs, WGS84)
    west, south, east, north = area.bounds
    needed = to_degrees.transform_bounds(west, south, east, north, densify_pts=21)
    if not shapely.box(*layer.area).contains(shapely.box(*needed)):
        raise ValueError(
            f"the roads of '{layer.id}' were read for another study area ({box_text(layer.area)}) than this "
            f"assessment needs ({box_text(needed)}): read the layer set again for this plan"
        )


def _close_pairs(coords: np.ndarray, within_m: float) -> np.ndarray:
    """Pairs of vertices (i < j) at most ``within_m`` apart."""
    points = shapely.points(coords)
    first, second = shapely.STRtree(points).query(points, predicate="dwithin", distance=within_m)
    keep = first < second
    return np.column_stack([first[keep], second[keep]])


def _end_on_road(coords: np.ndarray, vertex_part: np.ndarray, within_m: float) -> tuple[np.ndarray, np.ndarray]:
    """A road that ends on another between two of its vertices (a T-junction digitised without a shared
    vertex, common in field data), or on itself (a loop), meets it there: a vertex is added where the end lies
    within ``within_m`` of the road. Roads that cross without ending on each other still do not meet
    (bridges, overpasses)."""
    first = np.r_[True, vertex_part[1:] != vertex_part[:-1]]
    last = np.r_[vertex_part[1:] != vertex_part[:-1], True]
    # Straight segments (vertex i to i + 1 of one part), indexed: small boxes, and a road's own far stretches
    segment = np.flatnonzero(~last)
    lines = shapely.linestrings(np.stack([coords[segment], coords[segment + 1]], axis=1))
    end = np.flatnonzero(first | last)
    points = shapely.points(coords[end])
    # Candidates by box, then those that do not have the end as a vertex (a noded network's ends mostly are
    # other lines' vertices: counted out before measuring any distance), then those near enough
    x, y = coords[end, 0], coords[end, 1]
    found, near = shapely.STRtree(lines).query(shapely.box(x - within_m, y - within_m, x + within_m, y + within_m))
    at = coords[end[found]]
    is_vertex = np.all(coords[segment[near]] == at, axis=1) | np.all(coords[segment[near] + 1] == at, axis=1)
    found, near = found[~is_vertex], near[~is_vertex]
    close = shapely.distance(points[found], lines[near]) <= within_m
    found, near = found[close], near[close]
    if found.size == 0:
        return coords, vertex_part
    # Where the road has a vertex that near the end already, vertex snapping joins them: nothing to add
    gap = np.minimum(
        np.hypot(*(coords[segment[near]] - coords[end[found]]).T),
        np.hypot(*(coords[segment[near] + 1] - coords[end[found]]).T),
    )
    found, near = found[gap > within_m], near[gap > within_m]
    if found.size == 0:
        return coords, vertex_part
    at = shapely.get_coordinates(
        shapely.line_interpolate_point(lines[near], shapely.line_locate_point(lines[near], points[found]))
    )
    # Each new vertex goes between its segment's two vertices, in order along the segment
    after = segment[near]
    offset = np.hypot(*(at - coords[after]).T)
    position = np.r_[np.arange(coords.shape[0], dtype=float), after + 0.5]
    order = np.lexsort((np.r_[np.zeros(coords.shape[0]), offset], position))
    return np.vstack([coords, at])[order], np.r_[vertex_part, vertex_part[after]][order]


def graph_from_lines(
    lines: np.ndarray,
    frame: pd.DataFrame,
    rows: np.ndarray,
    settings: AccessSettings,
    season: str,
    *,
    layer_id: str = "roads",
    crs: str = "",
) -> RoadGraph:
    """Node road lines (metric CRS) into a graph; ``frame`` holds their attributes, ``rows`` their layer rows."""
    speed_kmh, passable_road = road_speeds(frame, settings, season)
    parts, part_of = shapely.get_parts(lines, return_index=True)
    coords, vertex_part = shapely.get_coordinates(parts, return_index=True)
    if coords.shape[0] < 2:
        return _empty_graph(layer_id, crs, season)
    if settings.snap_m > 0:
        coords, vertex_part = _end_on_road(coords, vertex_part, settings.snap_m)
    # Snap: vertices within snap_m of each other become one point (connected components of close pairs).
    pairs = _close_pairs(coords, settings.snap_m) if settings.snap_m > 0 else None
    n = coords.shape[0]
    if pairs is not None and len(pairs):
        link = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        cluster = connected_components(link, directed=False)[1]
    else:
        cluster = np.unique(coords, axis=0, return_inverse=True)[1].ravel()
    # Junctions: the ends of every line, and points shared by two or more lines.
    first = np.r_[True, vertex_part[1:] != vertex_part[:-1]]
    last = np.r_[vertex_part[1:] != vertex_part[:-1], True]
    # Counted by line, not by road: the lines of one multi-line road meet where they touch
    pair_keys = np.unique(np.column_stack([cluster, vertex_part]), axis=0)
    shared = np.bincount(pair_keys[:, 0], minlength=cluster.max() + 1) >= 2
    is_node = first | last | shared[cluster]
    positions = np.flatnonzero(is_node)
    same_part = vertex_part[positions[:-1]] == vertex_part[positions[1:]]
    start, end = positions[:-1][same_part], positions[1:][same_part]
    # Piece lengths from cumulative segment lengths along each part.
    step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    step[vertex_part[1:] != vertex_part[:-1]] = 0.0
    along = np.r_[0.0, np.cumsum(step)]
    length = along[end] - along[start]
    road = part_of[vertex_part[start]]
    time_s = length / (speed_kmh[road] / 3.6)
    # Junction ids: the snapped clusters that are junctions, numbered from 0, placed at their mean position.
    used, node_of = np.unique(cluster[np.r_[start, end]], return_inverse=True)
    u, v = node_of[: start.size], node_of[start.size :]
    counts = np.bincount(node_of, minlength=used.size)
    x = np.bincount(node_of, weights=coords[np.r_[start, end], 0], minlength=used.size) / counts
    y = np.bincount(node_of, weights=coords[np.r_[start, end], 1], minlength=used.size) / counts
    loops = u == v  # a piece that starts and ends at one junction leads nowhere
    kept = np.flatnonzero(~loops)
    edges = Edges(np.minimum(u, v)[kept], np.maximum(u, v)[kept], time_s[kept])
    piece_vertices = end[kept] - start[kept] + 1
    # The vertices of each kept piece, start to end, laid end to end without a Python loop.
    offsets = np.cumsum(piece_vertices) - piece_vertices
    vertex_index = np.arange(piece_vertices.sum()) - np.repeat(offsets - start[kept], piece_vertices)
    geometry = shapely.linestrings(coords[vertex_index], indices=np.repeat(np.arange(kept.size), piece_vertices))
    road_of_edge = road[kept]
    return RoadGraph(
        layer=layer_id,
        crs=crs,
        season=season,
        x=x,
        y=y,
        edges=edges,
        length_m=length[kept],
        road_row=np.asarray(rows)[road_of_edge],
        passable=passable_road[road_of_edge],
        geometry=np.asarray(geometry, dtype=object),
        road_ids=frame["road_id"].to_numpy(dtype=object)[road_of_edge],
        road_classes=frame["road_class"].to_numpy(dtype=object)[road_of_edge],
        parallel=int(kept.size - np.unique(np.column_stack([edges.u, edges.v]), axis=0).shape[0]) if kept.size else 0,
    )


def _empty_graph(layer_id: str, crs: str, season: str) -> RoadGraph:
    none = np.array([], dtype=int)
    return RoadGraph(
        layer_id,
        crs,
        season,
        np.array([]),
        np.array([]),
        Edges(none, none, np.array([])),
        np.array([]),
        none,
        np.array([], dtype=bool),
        np.array([], dtype=object),
        np.array([], dtype=object),
        np.array([], dtype=object),
    )
