"""Re-assessing after an edit in the dashboard: the targets are under a second on the sample, under two on Juba.

    python benchmarks/bench_dashboard.py

An edit in the dashboard writes a new plan and assesses it against the layer set already loaded (the layer
set, its spatial indexes and road graph are cached per process). This script times that path: moving a
landing zone, assessing every COA, redacting the result and building the map the browser receives. It
prints the time beside a direct call of the same library functions on a plan already in memory (assess,
bundle, map): the ratio is what the dashboard's path adds (writing and reading the edited plan, checks).
Times are medians of at least 5 runs. The sample, then the real-data test plan over Juba's layers (read from
``../shared/realdata``; said and passed over where they are not).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from _timing import line, median_of

from planner.assess import assess
from planner.dashboard.deck import build_deck
from planner.layers.manifest import load_layerset
from planner.outputs import bundle
from planner.plan import check_plan_in_layers, load_plan
from planner.redaction import Redaction
from planner.uploads import write_plan

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"
# name, plan, layer set, the landing zone that moves, target (seconds)
CASES = (
    ("Sample", ROOT / "scenarios" / "sample.yaml", ROOT / "layers" / "sample.yaml", "lz-1", 1.0),
    ("Juba", ROOT / "tests" / "scenarios" / "juba_poc.yaml", ROOT / "tests" / "manifests" / "juba.yaml", "lz-poc", 2.0),
)


def moved(position: Any, step: int) -> Any:
    """The landing zone's position moved east by about a metre a step (an MGRS reference or lon, lat)."""
    if isinstance(position, str):
        return f"{position[:7]}{700 + step % 50:03d}{position[10:]}"
    lon, lat = position
    return [round(lon + 1e-5 * (step % 50), 6), lat]


def measure(name: str, plan_path: Path, manifest: Path, element: str, target: float) -> bool:
    layerset = load_layerset(manifest)
    data = yaml.safe_load(plan_path.read_text())
    lz = next(e for coa in data["coas"] for e in coa["elements"] if e["id"] == element)
    start, first_coa = lz["position"], data["coas"][0]["id"]
    folder = Path(tempfile.mkdtemp(prefix="primum-bench-"))
    moves = iter(range(1000))

    def edit_and_reassess() -> int:
        lz["position"] = moved(start, next(moves))
        plan = load_plan(write_plan(data, plan_path, folder))
        check_plan_in_layers(plan, layerset)
        result = assess(plan, layerset)
        found = bundle(result, Redaction())
        return len(build_deck(result, found, first_coa).to_json())

    edit_and_reassess()  # the first assessment builds the indexes and the road graph, once per process

    fixed = load_plan(write_plan(data, plan_path, folder))

    def library_directly() -> int:
        result = assess(fixed, layerset)
        return len(build_deck(result, bundle(result, Redaction()), first_coa).to_json())

    ours, size = median_of(edit_and_reassess)
    theirs, _ = median_of(library_directly)
    print(f"{name}: {len(layerset.layers)} layers, {len(data['coas'])} COAs; map spec {size / 1e6:.2f} MB")
    line(f"edit, re-assess, redact, map ({name})", ours, theirs, 1.2)
    verdict = "ok" if ours < target else f"OVER the {target:g} s target"
    print(f"re-assessing {name} after an edit: {ours:.2f} s (target under {target:g} s): {verdict}")
    return ours < target


def main() -> int:
    met = []
    for name, plan_path, manifest, element, target in CASES:
        if name != "Sample" and not REALDATA.is_dir():
            print(f"{name}: the real layers are not in {REALDATA}: not measured")
            continue
        met.append(measure(name, plan_path, manifest, element, target))
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
