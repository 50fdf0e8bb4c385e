"""How fast a position sweep assesses candidates, against a single assessment of one candidate.

    python benchmarks/bench_sweep.py                       # 10,000 candidates on a local cluster
    python benchmarks/bench_sweep.py --candidates 2000 --workers 1 2

Sweeps the sample's landing zone lz-1 (COA A) over a grid sized to give about N candidates, on a local Dask
cluster of each number of workers, and prints candidates per second against the reference: what a skilled
user would write without the sweep, one ``assess()`` of the plan holding only that COA with the element
moved (median of 5, layers already read). A candidate costs what that assessment costs without its
checklist, so one worker should reach at least 1x; each worker added should add about as much again.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from _timing import median_of

from planner.assess import assess
from planner.plan import open_plan
from planner.scale.cluster import Cluster, dask_client
from planner.scale.sweep import sweep

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "scenarios" / "sample.yaml"


def reference_per_second() -> float:
    plan, layerset = open_plan(PLAN)
    one = dataclasses.replace(plan, coas=(plan.coas[0],))
    seconds, _ = median_of(lambda: assess(one, layerset))
    return 1 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    within = 3000.0
    step = within * math.sqrt(math.pi / args.candidates)  # pi (within / step)^2 candidates
    reference = reference_per_second()
    print(f"reference: one assess() of the one-COA plan, {reference:.1f} per second (median of 5)")
    for workers in args.workers:
        with dask_client(Cluster(workers=workers)) as client:
            start = time.perf_counter()
            found = sweep(PLAN, "A", "lz-1", within_m=within, step_m=step, client=client)
            seconds = time.perf_counter() - start
        rate = len(found.candidates) / seconds
        print(
            f"sweep of {len(found.candidates):,} candidates, {workers} worker(s): {seconds:.1f} s, "
            f"{rate:.1f} candidates per second, ratio {rate / reference:.2f} of the reference"
        )


if __name__ == "__main__":
    main()
