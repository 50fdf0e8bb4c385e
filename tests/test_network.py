"""The road graph and travel times on small hand-drawn networks, with exact expected numbers."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.access import Targets, _Searches
from planner.network import KEPT, MATRICES, Closed, fastest_edges, graph_from_lines
from planner.settings import AccessSettings


def network(
    roads: list[tuple[str, str, list[tuple[float, float]]]],
    season: str = "dry",
    rainy: dict[str, str] | None = None,
    **access: object,
):
    lines = np.array([shapely.LineString(v) for _, _, v in roads], dtype=object)
    frame = pd.DataFrame(
        {
            "road_id": [r for r, _, _ in roads],
            "road_class": [c for _, c, _ in roads],
            "surface": None,
            "condition": None,
            "rainy_season": [(rainy or {}).get(r) for r, _, _ in roads],
        }
    )
    return graph_from_lines(lines, frame, np.arange(len(roads)), AccessSettings(**access), season)


def node_at(graph, x: float, y: float) -> int:
    """The junction at (x, y)."""
    distance = np.hypot(graph.x - x, graph.y - y)
    assert distance.min() < 1
    return int(np.argmin(distance))


def shut(graph, road: str) -> Closed:
    """``road`` closed end to end."""
    mask = np.asarray(graph.road_ids == road)
    return Closed(mask, np.where(mask, 0.0, np.nan), np.where(mask, 1.0, np.nan))


def test_three_km_of_primary_road_take_three_minutes() -> None:
    graph = network([("a", "primary", [(0, 0), (1500, 0), (3000, 0)])])  # 60 km/h
    assert graph.nodes == 2  # a vertex no other road shares is not a junction
    times = graph.times_from(np.array([node_at(graph, 0, 0)]), np.array([0.0]))
    assert times[node_at(graph, 3000, 0)] == pytest.approx(180.0)


def test_roads_meet_at_shared_vertices_and_at_ends_within_the_snap_distance() -> None:
    roads = [
        ("main", "primary", [(0, 0), (1000, 0), (2000, 0)]),
        ("side", "track", [(1000, 0), (1000, 600)]),  # shares the vertex at 1 km: a junction
        ("near", "primary", [(2005, 0), (3000, 0)]),  # 5 m short of the main road's end: snapped (10 m)
        ("far", "primary", [(3030, 0), (4000, 0)]),  # 30 m gap: not joined
    ]
    graph = network(roads)
    start = np.array([node_at(graph, 0, 0)])
    times = graph.times_from(start, np.array([0.0]))
    assert times[node_at(graph, 1000, 600)] == pytest.approx(60 + 600 / (15 / 3.6))  # track at 15 km/h
    assert times[node_at(graph, 3000, 0)] == pytest.approx(60 * 2 + 995 / (60 / 3.6), rel=1e-4)
    assert np.isinf(times[node_at(graph, 4000, 0)])  # never a silent "reachable"


def test_a_road_ending_on_another_between_its_vertices_meets_it_and_a_crossing_road_does_not() -> None:
    """Field data often draw a T-junction without a shared vertex: the side road ends 3 m from the main road
    at x 1000 m, where the main road has no vertex. They meet there. The overpass crosses the main road
    without ending on it, and does not meet it."""
    roads = [
        ("main", "primary", [(0, 0), (2000, 0)]),
        ("side", "primary", [(1000, 3), (1000, 600)]),
        ("overpass", "primary", [(1500, -500), (1500, 500)]),
    ]
    graph = network(roads)
    times = graph.times_from(np.array([node_at(graph, 0, 0)]), np.zeros(1))
    assert times[node_at(graph, 1000, 600)] == pytest.approx((1000 + 597) / (60 / 3.6), abs=0.5)
    assert np.isinf(times[node_at(graph, 1500, 500)])
    assert graph.nodes == 6  # main's ends, the T-junction, the side road's far end, the overpass's ends


def test_the_lines_of_one_multi_line_road_meet_where_they_touch() -> None:
    """A road drawn as two lines, the second starting on a vertex in the middle of the first: one junction."""
    lines = np.array([shapely.MultiLineString([[(0, 0), (1000, 0), (2000, 0)], [(1000, 0), (1000, 800)]])])
    frame = pd.DataFrame({"road_id": ["r"], "road_class": ["primary"], "surface": None, "condition": None})
    graph = graph_from_lines(lines, frame, np.arange(1), AccessSettings(), "dry")
    times = graph.times_from(np.array([node_at(graph, 0, 0)]), np.zeros(1))
    assert times[node_at(graph, 1000, 800)] == pytest.approx(1800 / (60 / 3.6))


def test_parallel_roads_keep_the_fastest_and_the_slower_serves_when_it_closes() -> None:
    roads = [
        ("fast", "primary", [(0, 0), (1200, 0)]),  # 72 s
        ("slow", "track", [(0, 0), (600, 300), (1200, 0)]),  # 1341.6 m at 15 km/h
    ]
    graph = network(roads)
    a, b = node_at(graph, 0, 0), node_at(graph, 1200, 0)
    assert graph.parallel == 1
    assert graph.times_from(np.array([a]), np.array([0.0]))[b] == pytest.approx(72.0)
    closed = graph.road_ids == "fast"
    slow = 2 * np.hypot(600, 300) / (15 / 3.6)
    assert graph.times_from(np.array([a]), np.array([0.0]), closed)[b] == pytest.approx(slow)
    # What goes wrong without care: a plain sparse matrix sums the two, a plain Graph keeps the last one.
    summed = csr_matrix((graph.edges.time_s, (graph.edges.u, graph.edges.v)), shape=(2, 2))  # sums duplicates
    assert dijkstra(summed, directed=False, indices=a)[b] == pytest.approx(72.0 + slow)
    assert nx.multi_source_dijkstra_path_length(graph.to_networkx(), {a}, weight="time_s")[b] == pytest.approx(72.0)


def test_rainy_season_closes_dry_season_only_roads() -> None:
    roads = [("track", "track", [(0, 0), (1500, 0)]), ("spur", "track", [(1500, 0), (1500, 500)])]
    dry = network(roads, "dry", rainy={"track": "Dry Season Only"})
    rainy = network(roads, "rainy", rainy={"track": "Dry Season Only"})
    for graph, reachable in ((dry, True), (rainy, False)):
        times = graph.times_from(np.array([node_at(graph, 0, 0)]), np.array([0.0]))
        assert bool(np.isfinite(times[node_at(graph, 1500, 500)])) is reachable


def test_earth_roads_are_slower_in_the_rainy_season() -> None:
    lines = np.array([shapely.LineString([(0, 0), (1000, 0)])], dtype=object)
    frame = pd.DataFrame(
        {
            "road_id": ["r"],
            "road_class": ["primary"],
            "surface": ["Dirt/Sand"],
            "condition": [None],
            "rainy_season": [None],
        }
    )
    dry = graph_from_lines(lines, frame, np.arange(1), AccessSettings(), "dry")
    rainy = graph_from_lines(lines, frame, np.arange(1), AccessSettings(), "rainy")
    assert dry.edges.time_s[0] == pytest.approx(1000 / (60 * 0.6 / 3.6))
    assert rainy.edges.time_s[0] == pytest.approx(dry.edges.time_s[0] * 2)


def test_an_unclassified_road_travels_at_the_slowest_speed() -> None:
    graph = network([("x", "unknown", [(0, 0), (500, 0)])])
    assert graph.edges.time_s[0] == pytest.approx(500 / (5 / 3.6))


def test_start_delays_are_added_before_the_search() -> None:
    graph = network([("a", "primary", [(0, 0), (1000, 0), (2000, 0)]), ("b", "primary", [(1000, 0), (1000, 1000)])])
    starts = np.array([node_at(graph, 0, 0), node_at(graph, 2000, 0)])
    times = graph.times_from(starts, np.array([0.0, 100.0]))
    assert times[node_at(graph, 2000, 0)] == pytest.approx(100.0)  # its own delay beats 120 s from the other
    assert times[node_at(graph, 1000, 1000)] == pytest.approx(120.0)
    # Two starts at one junction: the shorter delay counts, they are not added up.
    twice = graph.times_from(np.array([starts[1], starts[1]]), np.array([30.0, 50.0]))
    assert twice[starts[1]] == pytest.approx(30.0)


def test_fastest_edges_orients_and_deduplicates() -> None:
    edges, kept = fastest_edges(np.array([3, 1, 1, 2]), np.array([1, 3, 1, 0]), np.array([5.0, 2.0, 1.0, 4.0]))
    assert edges.u.tolist() == [0, 1] and edges.v.tolist() == [2, 3]
    assert edges.time_s.tolist() == [4.0, 2.0]
    assert kept.tolist() == [3, 1]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 7), st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_times_agree_with_networkx_on_random_grids(width: int, height: int, seed: int) -> None:
    """Law: the CSR search and networkx's multi-source Dijkstra give the same times on the same graph."""
    rng = np.random.default_rng(seed)
    classes = ["primary", "track", "residential"]
    roads = []
    for i in range(width):
        for j in range(height):
            if i + 1 < width:
                roads.append((f"h{i}-{j}", str(rng.choice(classes)), [(i * 500, j * 500), ((i + 1) * 500, j * 500)]))
            if j + 1 < height:
                roads.append((f"v{i}-{j}", str(rng.choice(classes)), [(i * 500, j * 500), (i * 500, (j + 1) * 500)]))
    graph = network(roads)
    sources = rng.choice(graph.nodes, size=min(3, graph.nodes), replace=False)
    ours = graph.times_from(sources, np.zeros(sources.size))
    theirs = nx.multi_source_dijkstra_path_length(graph.to_networkx(), set(sources.tolist()), weight="time_s")
    for node, seconds in theirs.items():
        assert ours[node] == pytest.approx(seconds)
    # With start delays (zero among them): networkx from an extra node joined to each start by its delay
    delays = rng.choice([0.0, 30.0, 400.0], size=sources.size)
    delayed = graph.times_from(sources, delays)
    reference = graph.to_networkx()
    reference.add_edges_from(("start", int(s), {"time_s": float(d)}) for s, d in zip(sources, delays, strict=True))
    theirs = nx.single_source_dijkstra_path_length(reference, "start", weight="time_s")
    for node, seconds in theirs.items():
        if node != "start":
            assert delayed[node] == pytest.approx(seconds)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 12), st.integers(0, 2**32 - 1))
def test_sole_links_are_networkx_bridges_of_the_passable_roads(junctions: int, seed: int) -> None:
    """Law: a road piece is a sole link exactly when networkx calls it a bridge of the passable network, and
    a road doubled by another between the same two junctions never is."""
    rng = np.random.default_rng(seed)
    spots = [(float(i * 700), float(rng.integers(0, 3) * 900)) for i in range(junctions)]
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, junctions, size=(junctions + 4, 2)) if a != b]
    pairs += [pairs[0]] if pairs else []  # one road doubled
    roads = [(f"r{k}", "primary", [spots[a], spots[b]]) for k, (a, b) in enumerate(pairs)]
    if not roads:
        return
    graph = network(roads)
    reference = nx.MultiGraph()
    reference.add_edges_from((int(u), int(v)) for u, v in zip(graph.edges.u, graph.edges.v, strict=True))
    doubled = {e for e in reference.edges() if reference.number_of_edges(*e) > 1}
    bridges = {(min(e), max(e)) for e in nx.bridges(nx.Graph(reference))} - {(min(e), max(e)) for e in doubled}
    ours = {(int(graph.edges.u[i]), int(graph.edges.v[i])) for i in np.flatnonzero(graph.sole_links)}
    assert ours == bridges


def test_a_graph_keeps_what_the_latest_areas_made_and_lets_the_oldest_go() -> None:
    graph = network([("a", "primary", [(0, 0), (1000, 0)])])
    made: list[int] = []

    def make(area: int):
        return lambda: made.append(area) or area

    assert [graph.kept(("area", a), make(a)) for a in (1, 2, 1)] == [1, 2, 1]
    assert made == [1, 2]  # the second ask of area 1 is answered from what was kept
    for a in range(3, KEPT + 2):  # one area more than are kept: 2, the least recently used, goes
        graph.kept(("area", a), make(a))
    made.clear()
    graph.kept(("area", 1), make(1))
    graph.kept(("area", 2), make(2))
    assert made == [2]


def test_a_graph_keeps_a_bounded_number_of_search_matrices_and_searches_stay_right() -> None:
    """A dashboard assesses COA after COA over one graph: the matrices made per set of closures are bounded,
    and a set whose matrix was let go is searched as right as the first time."""
    graph = network([(f"r{i}", "primary", [(i * 1000, 0), ((i + 1) * 1000, 0)]) for i in range(8)])
    start = np.array([node_at(graph, 0, 0)])
    sets = [np.array([(k >> bit) & 1 for bit in range(len(graph))], dtype=bool) for k in range(MATRICES + 10)]
    first = [graph.times_from(start, np.zeros(1), closed).copy() for closed in sets]
    assert len(graph._matrices) == MATRICES
    again = [graph.times_from(start, np.zeros(1), closed) for closed in sets[:10]]  # let go, then made again
    assert all(np.array_equal(a, b) for a, b in zip(again, first[:10], strict=True))
    end = node_at(graph, 8000, 0)
    assert first[0][end] < np.inf and np.isinf(first[1][end])  # nothing closed; the first road closed


def test_a_closure_that_lengthens_no_way_is_the_search_without_it() -> None:
    """A COA that closes a road no fastest way uses gets the very search of the network as it is (its figures
    are then figured once for all such COAs); one that closes a road on the way gets its own."""
    graph = network(
        [
            ("main", "primary", [(0, 0), (1000, 0)]),
            ("spur", "track", [(1000, 0), (1000, 500)]),
            ("loop", "track", [(0, 0), (0, 800), (1000, 800), (1000, 500)]),
        ]
    )
    clinic = Targets(graph.land(np.zeros(1), np.zeros(1), 10), np.zeros(1), ["clinic"], np.zeros(1), np.zeros(1))
    searches = _Searches(graph, AccessSettings())
    as_it_is = searches.times(clinic)
    closing = {road: shut(graph, road) for road in ("main", "loop")}
    assert searches.times(clinic, Closed.none(len(graph))) is as_it_is  # nothing closed
    assert searches.times(clinic, closing["loop"]) is as_it_is  # the loop is nobody's fastest way
    during = searches.times(clinic, closing["main"])
    assert during is not as_it_is
    assert during[node_at(graph, 1000, 0)] > as_it_is[node_at(graph, 1000, 0)]  # round by the loop


def test_a_point_joins_the_nearest_road_not_the_nearest_junction() -> None:
    """A village 100 m north of the middle of a 4 km road joins the road there (share 0.5 from the junction at
    its west end), not the junction 2 km away; the drive to each end is half the road's time."""
    graph = network([("long", "primary", [(4000, 0), (0, 0)])])  # drawn east to west
    landing = graph.land(np.array([2000.0, 9000.0]), np.array([100.0, 0.0]), 2000)
    assert landing.walk_m[0] == pytest.approx(100) and landing.on.tolist() == [True, False]  # 5 km off: none
    west = node_at(graph, 0, 0)
    share_from_west = landing.share[0] if graph.edges.u[0] == west else 1 - landing.share[0]
    assert share_from_west == pytest.approx(0.5)
    to_u, to_v = graph.to_ends(landing)
    assert to_u[0] == pytest.approx(120) and to_v[0] == pytest.approx(120)  # 2 km at 60 km/h
    assert np.isinf(to_u[1]) and np.isinf(to_v[1])


def test_a_share_of_a_piece_is_counted_from_its_junction_u_whichever_way_the_road_is_drawn() -> None:
    """A bent road drawn from its east end: the point at a landing's share from ``u`` is where it landed, share
    0 is ``u`` itself, and the stretch between two shares runs between their points."""
    graph = network([("bent", "primary", [(3000, 1000), (3000, 0), (0, 0)])])  # 4 km, drawn from the east
    landing = graph.land(np.array([1000.0]), np.array([50.0]), 500)  # 1 km from the west end
    share = float(landing.share[0])
    assert graph.point_at(0, share) == pytest.approx([1000.0, 0.0])
    assert graph.point_at(0, 0.0) == pytest.approx([graph.x[graph.edges.u[0]], graph.y[graph.edges.u[0]]])
    stretch = graph.piece_between(0, share, 1.0 - share)
    ends = shapely.get_coordinates(stretch)[[0, -1]]
    assert ends.ravel() == pytest.approx(np.r_[graph.point_at(0, share), graph.point_at(0, 1.0 - share)])
    assert stretch.length == pytest.approx(abs(1.0 - 2 * share) * 4000)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_times_to_a_point_on_a_road_agree_with_networkx_with_the_road_split_there(
    width: int, height: int, seed: int
) -> None:
    """Law: the time from a junction to a point beside a road (walk left out) is networkx's shortest time with
    the road split at the point's landing; with a stretch of that road shut around or beside the point, it is
    networkx's with the shut stretch taken out."""
    rng = np.random.default_rng(seed)
    roads = []
    for i in range(width):
        for j in range(height):
            if i + 1 < width:
                roads.append((f"h{i}-{j}", "primary", [(i * 500, j * 500), ((i + 1) * 500, j * 500)]))
            if j + 1 < height:
                roads.append((f"v{i}-{j}", "track", [(i * 500, j * 500), (i * 500, (j + 1) * 500)]))
    graph = network(roads)
    edge = int(rng.integers(len(graph)))
    share = float(rng.uniform(0.05, 0.95))
    u, v, t = int(graph.edges.u[edge]), int(graph.edges.v[edge]), float(graph.edges.time_s[edge])
    x = graph.x[u] + share * (graph.x[v] - graph.x[u])
    y = graph.y[u] + share * (graph.y[v] - graph.y[u])
    landing = graph.land(np.array([x]), np.array([y]), 10)
    assert int(landing.edge[0]) == edge and landing.share[0] == pytest.approx(share)
    source = int(rng.integers(graph.nodes))
    low, high = sorted(rng.uniform(0, 1, size=2).tolist())
    closed = Closed(np.arange(len(graph)) == edge, np.full(len(graph), low), np.full(len(graph), high))
    for shut in (None, closed):
        ours = graph.arrival(
            graph.times_from(np.array([source]), np.zeros(1), None if shut is None else shut.mask), landing, shut
        )[0]
        reference = graph.to_networkx()
        reference.remove_edge(u, v)
        cuts = [(0.0, u), (share, "point"), (1.0, v)]
        if shut is not None:
            cuts += [(low, "low"), (high, "high")]
        cuts.sort(key=lambda c: c[0])
        for (a, first), (b, second) in itertools.pairwise(cuts):
            if shut is None or not (low <= a and b <= high):  # the shut stretch is no road
                reference.add_edge(first, second, time_s=(b - a) * t)
        try:
            theirs = nx.shortest_path_length(reference, source, "point", weight="time_s")
        except nx.NetworkXNoPath:
            theirs = np.inf
        assert ours == pytest.approx(theirs)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([1.0, 2.0, 3.0])), max_size=30))
def test_fastest_edges_keeps_the_first_fastest_road_of_each_pair_of_junctions(
    roads: list[tuple[int, int, float]],
) -> None:
    """Law: one edge per pair of distinct junctions, the fastest, the first given among equally fast ones,
    ordered by pair; the same as sorting every edge by pair and time."""
    u = np.array([r[0] for r in roads], dtype=int)
    v = np.array([r[1] for r in roads], dtype=int)
    t = np.array([r[2] for r in roads], dtype=float)
    edges, kept = fastest_edges(u, v, t)
    a, b = np.minimum(u, v), np.maximum(u, v)
    expected = {}
    for i in np.lexsort((t, b, a)):  # stable: the first given of equals comes first
        if a[i] != b[i]:
            expected.setdefault((int(a[i]), int(b[i])), int(i))
    assert kept.tolist() == [expected[pair] for pair in sorted(expected)]
    assert list(zip(edges.u.tolist(), edges.v.tolist(), strict=True)) == sorted(expected)
