"""Speed of the road graph on a synthetic 500,000-edge network, side by side with scipy.sparse.csgraph.

    python benchmarks/bench_network.py              # 500 x 500 junctions, about 500,000 road pieces
    python benchmarks/bench_network.py --side 200   # a quick look

Prints, for the same graph:

- graph build: Primum's search matrix (fastest of parallel roads, symmetric) from the edge arrays
  vs what a user would write: the fastest of each pair of junctions with pandas, then ``csr_matrix``
- nearest facility from many sources, the matrix built and searched: ``RoadGraph.times_from`` on a fresh
  graph vs that user's matrix and ``dijkstra(min_only=True)``, and whether the times are identical

Times are medians of at least 5 runs.
- for information: noding the road lines into a graph, and converting it to networkx
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
import shapely
from _timing import line, median_of
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.network import graph_from_lines
from planner.settings import AccessSettings

SEED = 11
CLASSES = np.array(["primary", "secondary", "tertiary", "residential", "track"])


def roads(side: int) -> tuple[np.ndarray, pd.DataFrame]:
    """A jittered grid of junctions 200 m apart, every neighbour joined by a two-point road, and one road in
    ten doubled by a parallel one of another class (a track beside a highway), as real networks have."""
    rng = np.random.default_rng(SEED)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = ii * 200.0 + rng.uniform(-40, 40, ii.shape)
    y = jj * 200.0 + rng.uniform(-40, 40, jj.shape)
    starts, ends = [], []
    for di, dj in ((1, 0), (0, 1)):
        a = np.column_stack([x[: side - di, : side - dj].ravel(), y[: side - di, : side - dj].ravel()])
        b = np.column_stack([x[di:, dj:].ravel(), y[di:, dj:].ravel()])
        starts.append(a)
        ends.append(b)
    a, b = np.concatenate(starts), np.concatenate(ends)
    doubled = rng.random(len(a)) < 0.1
    a, b = np.concatenate([a, a[doubled]]), np.concatenate([b, b[doubled]])
    coords = np.stack([a, b], axis=1).reshape(-1, 2)
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(a)), 2))
    frame = pd.DataFrame(
        {
            "road_id": np.arange(len(a)).astype(str),
            "road_class": rng.choice(CLASSES, len(a)),
            "surface": None,
            "condition": None,
            "rainy_season": None,
        }
    )
    return np.asarray(lines, dtype=object), frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=500, help="junctions per side of the grid (default 500)")
    args = parser.parse_args()
    lines, frame = roads(args.side)
    settings = AccessSettings(snap_m=1.0)
    start = time.perf_counter()
    graph = graph_from_lines(lines, frame, np.arange(len(lines)), settings, "dry")
    noding = time.perf_counter() - start
    print(f"network: {graph.nodes:,} junctions, {len(graph):,} road pieces (noded from lines in {noding:.2f} s)\n")

    u, v, t = graph.edges.u, graph.edges.v, graph.edges.time_s

    def ours_build() -> Any:
        graph._matrices.clear()
        return graph.matrix()

    def direct_build() -> Any:
        # The fastest road between each pair of junctions, both ways: the user's own deduplication
        pairs = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "t": t}).groupby(["a", "b"])["t"].min()
        a, b = pairs.index.get_level_values(0).to_numpy(), pairs.index.get_level_values(1).to_numpy()
        times = pairs.to_numpy()
        return csr_matrix((np.r_[times, times], (np.r_[a, b], np.r_[b, a])), shape=(graph.nodes, graph.nodes))

    ours_t, _ = median_of(ours_build)
    theirs_t, _ = median_of(direct_build)
    line(f"graph build ({graph.parallel:,} parallel roads)", ours_t, theirs_t, 2.0)

    rng = np.random.default_rng(SEED + 1)
    facilities = rng.choice(graph.nodes, size=max(graph.nodes // 250, 1), replace=False)
    zeros = np.zeros(facilities.size)

    def ours_nearest() -> Any:
        graph._matrices.clear()  # built and searched, as on a first assessment
        return graph.times_from(facilities, zeros)

    def theirs_nearest() -> Any:
        return dijkstra(direct_build(), directed=False, indices=facilities, min_only=True)

    ours_t, ours = median_of(ours_nearest)
    theirs_t, theirs = median_of(theirs_nearest)
    line(f"nearest of {facilities.size} facilities", ours_t, theirs_t, 1.5)
    print(f"{'':34} identical times: {'yes' if np.allclose(ours, theirs) else 'NO'}")

    delays = rng.uniform(0, 600, facilities.size)
    delayed_t, _ = median_of(lambda: graph.times_from(facilities, delays))
    print(f"{'with walking delays per facility':<34} primum {delayed_t * 1000:9.1f} ms")
    start = time.perf_counter()
    network = graph.to_networkx()
    print(
        f"{'networkx MultiGraph on demand':<34} {time.perf_counter() - start:.2f} s "
        f"({network.number_of_nodes():,} nodes, {network.number_of_edges():,} edges)"
    )


if __name__ == "__main__":
    main()
