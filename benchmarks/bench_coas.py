"""How an assessment's cost grows with the number of courses of action, and how much of it is access.

    python benchmarks/bench_coas.py            # 3 and 50 COAs of 5 elements over the real Juba layers

Generates plans (into benchmarks/.data/, never committed) of N courses of action spread over Juba, each with
a convoy route, a patrol route, a cordon, a landing zone and an assembly area, and assesses each warm (the
layers read once), printing the median of 5 runs, the share spent in access on the road network, and the
ratio of 50 COAs to 3 (linear is 50/3 = 16.7; the target is at most 17), and the 50 COAs assessed together
against each assessed in a plan of its own (at most 1x: a plan's COAs cost no more for being together).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import planner.access
import planner.assess
import planner.network
from planner.assess import assess
from planner.layers.manifest import load_layerset
from planner.plan import open_plan

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
MANIFEST = ROOT / "tests" / "manifests" / "juba.yaml"
WEST, SOUTH, EAST, NORTH = 31.45, 4.75, 31.70, 4.95


def plan(coas: int, seed: int = 5, only: int | None = None) -> Path:
    """A plan of ``coas`` courses of action (the first ones of every plan with the same seed are the same),
    or of the one numbered ``only`` among them."""
    rng = np.random.default_rng(seed)
    found = []
    for c in range(coas):
        x, y = float(rng.uniform(WEST + 0.02, EAST - 0.02)), float(rng.uniform(SOUTH + 0.02, NORTH - 0.02))
        angle = float(rng.uniform(0, np.pi))
        dx, dy = 0.015 * math.cos(angle), 0.015 * math.sin(angle)
        box = [[x - 0.002, y - 0.002], [x + 0.002, y - 0.002], [x + 0.002, y + 0.002], [x - 0.002, y + 0.002]]
        found.append(
            {
                "id": f"C{c}",
                "name": f"Course {c}",
                "elements": [
                    {
                        "id": f"convoy-{c}",
                        "activity": "convoy",
                        "geometry": {"type": "LineString", "coordinates": [[x - dx, y - dy], [x + dx, y + dy]]},
                    },
                    {
                        "id": f"patrol-{c}",
                        "activity": "patrol",
                        "geometry": {"type": "LineString", "coordinates": [[x, y], [x + dy, y - dx]]},
                    },
                    {
                        "id": f"cordon-{c}",
                        "activity": "cordon_search",
                        "geometry": {"type": "Polygon", "coordinates": [[*box, box[0]]]},
                    },
                    {"id": f"lz-{c}", "activity": "helicopter_lz", "position": [x + 0.01, y + 0.01]},
                    {"id": f"aa-{c}", "activity": "assembly_area", "position": [x - 0.01, y + 0.005]},
                ],
            }
        )
    if only is not None:
        found = [found[only]]
    document = {
        "name": f"{coas} courses of action over Juba (benchmark)",
        "layers": str(MANIFEST),
        "window": {"start": "2026-12-01T06:00:00+03:00", "end": "2026-12-01T12:00:00+03:00"},
        "coas": found,
    }
    DATA.mkdir(exist_ok=True)
    path = DATA / (f"juba_{coas}_coas.yaml" if only is None else f"juba_{coas}_coas_{only}.yaml")
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def alone(coas: int, runs: int) -> float:
    """Median seconds of assessing each of the ``coas`` courses of action in a plan of its own, summed."""
    layerset = load_layerset(MANIFEST)
    plans = [open_plan(plan(coas, only=i))[0] for i in range(coas)]
    for each in plans:
        assess(each, layerset)
    totals = []
    for _ in range(runs):
        start = time.perf_counter()
        for each in plans:
            assess(each, layerset)
        totals.append(time.perf_counter() - start)
    return statistics.median(totals)


def measure(coas: int, runs: int) -> tuple[float, float, float]:
    """Median seconds of a warm assessment, of the access part of it, and of scipy's Dijkstra within access."""
    the_plan, _ = open_plan(plan(coas))
    layerset = load_layerset(MANIFEST)
    spent = {"access": 0.0, "dijkstra": 0.0}
    originals = (planner.access.access, planner.network.dijkstra, planner.access.dijkstra)

    def timed(name: str, func: Any) -> Any:
        def wrapper(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    planner.assess.access = timed("access", originals[0])  # type: ignore[assignment]
    planner.network.dijkstra = timed("dijkstra", originals[1])
    planner.access.dijkstra = timed("dijkstra", originals[2])
    totals, accesses, searches = [], [], []
    try:
        assess(the_plan, layerset)  # warm: indexes and graphs built once, as the dashboard keeps them
        for _ in range(runs):
            spent.update(access=0.0, dijkstra=0.0)
            start = time.perf_counter()
            assess(the_plan, layerset)
            totals.append(time.perf_counter() - start)
            accesses.append(spent["access"])
            searches.append(spent["dijkstra"])
    finally:
        planner.assess.access, planner.network.dijkstra, planner.access.dijkstra = originals
    return statistics.median(totals), statistics.median(accesses), statistics.median(searches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    results = {n: measure(n, runs) for n in (3, 50)}
    print(f"{'COAs':>5} {'assessment':>11} {'access':>9} {'access share':>13} {'per COA':>9} {'access/Dijkstra':>16}")
    for n, (total, part, searching) in results.items():
        print(
            f"{n:>5} {total:10.2f}s {part:8.2f}s {part / total:12.0%} {total / n:8.3f}s "
            f"{part / searching if searching else float('inf'):15.1f}x"
        )
    print("(access/Dijkstra: access's time against the scipy Dijkstra calls it makes; the target is at most 5x)")
    ratio = results[50][0] / results[3][0]
    print(f"50 COAs cost {ratio:.1f}x what 3 do (linear: 16.7x; target at most 17x): {'ok' if ratio <= 17 else 'OVER'}")
    separately = alone(50, runs)
    print(
        f"the same 50 COAs assessed one plan each: {separately:.2f}s; together they cost "
        f"{results[50][0] / separately:.2f}x that (the COAs differ in what lies around them, so 3 is a sample)"
    )


if __name__ == "__main__":
    main()
