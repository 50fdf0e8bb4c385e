"""How an assessment's cost grows with the size of the national layers it reads, not with its footprint.

    python benchmarks/bench_layers.py                      # 10,000, 100,000 and 500,000 reports and road pieces
    python benchmarks/bench_layers.py --sizes 10000 50000  # a quicker look

Generates (once, into benchmarks/.data/, never committed) a national layer set over South Sudan: the real
WorldPop 1 km population and health facility list of ``../shared/realdata/national_ssd``, N threat reports as
an ACLED-like CSV spread over the country (a third around the operation's towns), and N road pieces as a
GeoPackage (a national lattice of short roads). The plan is one operation near Bentiu: a cordon, a landing
zone, a mortar and a convoy.

For each N, a whole ``primum assess`` (open the plan, read the layers, assess) runs in a fresh process, as a
user runs it, at least 5 times; the table prints the median time and the peak memory, and the ratio of the
largest N to the smallest (target: under 2x; peak memory under 600 MB).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

HERE = Path(__file__).resolve().parent
NATIONAL = HERE.parent.parent / "shared" / "realdata" / "national_ssd"
WEST, SOUTH, EAST, NORTH = 24.2, 3.5, 35.8, 12.2  # South Sudan's frame
OPERATION = (29.79, 9.25)  # Bentiu
SEED = 21


def generate(n: int) -> Path:
    """The layer set with ``n`` reports and about ``n`` road pieces, and its plan (made once)."""
    root = HERE / ".data" / f"national-{n}"
    plan = root / "plan.yaml"
    if plan.exists():
        return plan
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    near = n // 3
    lon = np.concatenate([rng.normal(OPERATION[0], 0.5, near), rng.uniform(WEST, EAST, n - near)])
    lat = np.concatenate([rng.normal(OPERATION[1], 0.5, near), rng.uniform(SOUTH, NORTH, n - near)])
    dates = pd.Timestamp("2026-11-30") - pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    kinds = [
        ("Violence against civilians", "Attack"),
        ("Battles", "Armed clash"),
        ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
        ("Protests", "Peaceful protest"),
        ("Riots", "Mob violence"),
    ]
    chosen = rng.integers(0, len(kinds), n)
    pd.DataFrame(
        {
            "event_id_cnty": [f"SSD{i}" for i in range(n)],
            "event_date": dates.strftime("%Y-%m-%d"),
            "event_type": [kinds[k][0] for k in chosen],
            "sub_event_type": [kinds[k][1] for k in chosen],
            "actor1": rng.choice(["Militia (Nuer)", "SSPDF", "Unidentified armed group", "Rioters"], n),
            "actor2": rng.choice(["Civilians (South Sudan)", "", "SPLA-IO"], n),
            "civilian_targeting": np.where(chosen == 0, "Civilian targeting", ""),
            "geo_precision": rng.integers(1, 3, n),
            "fatalities": rng.integers(0, 6, n),
            "latitude": lat.round(4),
            "longitude": lon.round(4),
            "notes": "On this date, an armed group attacked a village.",
        }
    ).to_csv(root / "events.csv", index=False)
    # A lattice of roads: each piece joins two neighbouring junctions, so the network is connected
    side = max(int(np.sqrt(n / 2)), 2)
    xs, ys = np.linspace(WEST, EAST, side), np.linspace(SOUTH, NORTH, side)
    gx, gy = np.meshgrid(xs, ys)
    jitter = (EAST - WEST) / side / 5
    gx, gy = gx + rng.uniform(-jitter, jitter, gx.shape), gy + rng.uniform(-jitter, jitter, gy.shape)
    starts = np.concatenate([np.c_[gx[:, :-1].ravel(), gy[:, :-1].ravel()], np.c_[gx[:-1].ravel(), gy[:-1].ravel()]])
    ends = np.concatenate([np.c_[gx[:, 1:].ravel(), gy[:, 1:].ravel()], np.c_[gx[1:].ravel(), gy[1:].ravel()]])
    lines = shapely.linestrings(np.stack([starts, ends], axis=1))
    classes = rng.choice(["Primary Route", "Secondary Route", "Tertiary Route", "Local/Urban"], len(lines))
    gpd.GeoDataFrame(
        {
            "OBJECTID": np.arange(len(lines)),
            "CLASS": classes,
            "SURFACE": rng.choice(["Paved", "Gravel", "Earth"], len(lines)),
            "RAINYSTAT": rng.choice(["All Season", "Dry Season Only"], len(lines)),
        },
        geometry=lines,
        crs="EPSG:4326",
    ).to_file(root / "roads.gpkg")
    manifest = {
        "area": f"South Sudan, {n:,} reports and road pieces (generated)",
        "layers": {
            "population": {
                "kind": "population",
                "path": str(NATIONAL / "population" / "ssd_worldpop2020_popdensity_1km_from8bit.tif"),
                "units": "density_km2",
                "as_of": "2020-07-01",
            },
            "health": {
                "kind": "sites",
                "path": str(NATIONAL / "health" / "hsf_master_facility_list.geojson"),
                "category": "health",
                "name": "Health Facility Name",
                "status": "Functional Status",
                "as_of": "2020-01-01",
            },
            "events": {"kind": "threats", "path": "events.csv", "schema": "acled"},
            "roads": {
                "kind": "roads",
                "path": "roads.gpkg",
                "class": "CLASS",
                "surface": "SURFACE",
                "rainy": "RAINYSTAT",
                "id": "OBJECTID",
                "as_of": "2026-06-01",
            },
        },
    }
    (root / "layers.yaml").write_text(yaml.safe_dump(manifest))
    x, y = OPERATION
    box = [[x - 0.01, y - 0.01], [x + 0.01, y - 0.01], [x + 0.01, y + 0.01], [x - 0.01, y + 0.01], [x - 0.01, y - 0.01]]
    document = {
        "name": "Operation near Bentiu (benchmark)",
        "layers": "layers.yaml",
        "window": {"start": "2026-12-01T05:00:00+03:00", "end": "2026-12-01T13:00:00+03:00"},
        "coas": [
            {
                "id": "A",
                "name": "Cordon by road",
                "elements": [
                    {
                        "id": "cordon-1",
                        "activity": "cordon_search",
                        "geometry": {"type": "Polygon", "coordinates": [box]},
                    },
                    {"id": "lz-1", "activity": "helicopter_lz", "position": [x + 0.03, y + 0.02]},
                    {"id": "mortar-1", "activity": "mortar_81mm", "position": [x - 0.03, y + 0.02]},
                    {
                        "id": "convoy-1",
                        "activity": "convoy",
                        "geometry": {"type": "LineString", "coordinates": [[x - 0.1, y - 0.06], [x, y - 0.01]]},
                    },
                ],
            }
        ],
    }
    plan.write_text(yaml.safe_dump(document))
    return plan


# One assessment as the command line runs it, in a fresh process: its wall time and its own peak memory
ONE_RUN = (
    "import sys, time; t = time.perf_counter(); "
    "from planner.plan import open_plan; from planner.assess import assess; "
    "p, l = open_plan(sys.argv[1]); assess(p, l); "
    "peak = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0] / 1024; "
    "print(time.perf_counter() - t, peak)"
)


def run(plan: Path) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", ONE_RUN, str(plan)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"the assessment of {plan} failed:\n{out.stderr[-3000:]}")
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    plans = {}
    for n in sizes:
        start = time.perf_counter()
        plans[n] = generate(n)
        print(f"data for {n:,}: {plans[n].parent} ({time.perf_counter() - start:.1f} s to make or find)")
    results: dict[int, tuple[float, float]] = {}
    print(f"\n{'reports and road pieces':>24} {'assess (median)':>16} {'peak memory':>12}")
    for n in sizes:
        runs = [run(plans[n]) for _ in range(max(args.runs, 5))]
        results[n] = statistics.median(r[0] for r in runs), max(r[1] for r in runs)
        print(f"{n:>24,} {results[n][0]:>14.2f} s {results[n][1]:>9.0f} MB", flush=True)
    small, large = sizes[0], sizes[-1]
    ratio = results[large][0] / results[small][0]
    verdict = "ok" if ratio < 2 else "OVER target 2x"
    print(f"\n{large:,} against {small:,}: ratio {ratio:.2f} {verdict}")
    memory = results[large][1]
    print(f"peak memory at {large:,}: {memory:.0f} MB {'ok' if memory < 600 else 'OVER target 600 MB'}")
    return 0 if ratio < 2 and memory < 600 else 1


if __name__ == "__main__":
    sys.exit(main())
