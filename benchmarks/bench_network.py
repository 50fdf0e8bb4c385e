"""Speed of the road graph on a synthetic 500,000-edge network, side by side with scipy.sparse.csgraph.

    python benchmarks/bench_network.py              # 500 x 500 junctions, about 500,000 road pieces
    python benchmarks/bench_network.py --side 200   # a quick look

Prints, for the same graph:

- graph build: Primum's search matrix (fastest of parallel roads, symmetric) from the edge arrays
  vs a direct ``csr_matrix((time, (u, v)))`` (which would sum parallel roads: the lower bound, not a rival)
- nearest facility from many sources: ``RoadGraph.times_from`` vs a direct ``dijkstra(min_only=True)``
  call on the same matrix, and whether the times are identical
- for information: noding the road lines into a graph, and converting it to networkx
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
import shapely
from _timing import best_of, line
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.network import graph_from_lines
from planner.settings import AccessSettings

SEED = 11
CLASSES = np.array(["primary", "secondary", "tertiary", "residential", "track"])


def roads(side: int) -> tuple[np.ndarray, pd.DataFrame]:
    """A jittered grid of junctions 200 m apart, every neighbour joined by a two-point road."""
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
        return csr_matrix((t, (u, v)), shape=(graph.nodes, graph.nodes))

    ours_t, matrix = best_of(ours_build, repeat=3)
    theirs_t, _ = best_of(direct_build, repeat=3)
    line("graph build (search matrix)", ours_t, theirs_t, 2.0)

    rng = np.random.default_rng(SEED + 1)
    facilities = rng.choice(graph.nodes, size=max(graph.nodes // 250, 1), replace=False)
    zeros = np.zeros(facilities.size)
    ours_t, ours = best_of(lambda: graph.times_from(facilities, zeros), repeat=3)
    theirs_t, theirs = best_of(lambda: dijkstra(matrix, directed=False, indices=facilities, min_only=True), repeat=3)
    line(f"nearest of {facilities.size} facilities", ours_t, theirs_t, 1.5)
    print(f"{'':34} identical times: {'yes' if np.array_equal(ours, theirs) else 'NO'}")

    delays = rng.uniform(0, 600, facilities.size)
    delayed_t, _ = best_of(lambda: graph.times_from(facilities, delays), repeat=3)
    print(f"{'with walking delays per facility':<34} primum {delayed_t * 1000:9.1f} ms")
    start = time.perf_counter()
    network = graph.to_networkx()
    print(
        f"{'networkx MultiGraph on demand':<34} {time.perf_counter() - start:.2f} s "
        f"({network.number_of_nodes():,} nodes, {network.number_of_edges():,} edges)"
    )


if __name__ == "__main__":
    main()
