"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_of(func: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """The median wall time of ``repeat`` runs (at least 5), and the last result: what a user usually waits,
    not the luckiest run."""
    times, result = [], None
    for _ in range(max(repeat, 5)):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def line(name: str, ours: float, theirs: float, target: float | None) -> None:
    """One row: Primum's time, the library's, their ratio and whether it meets the target."""
    ratio = ours / theirs if theirs > 0 else float("inf")
    verdict = "" if target is None else ("  ok" if ratio <= target else f"  OVER target {target:g}x")
    print(f"{name:<34} primum {ours * 1000:9.1f} ms   library {theirs * 1000:9.1f} ms   ratio {ratio:5.2f}{verdict}")
