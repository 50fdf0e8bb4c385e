"""Speed and memory of the assessment at country scale, measured side by side with the libraries underneath.

    python benchmarks/bench_assess.py                 # 20,000 x 20,000 raster (generated once, ~1-3 min)
    python benchmarks/bench_assess.py --size 5000     # a smaller country, for a quick look

Generates (once, into benchmarks/.data/, never committed) a tiled, compressed population raster, 100,000
sites, 50,000 threat reports and a plan of 3 COAs over about 30 x 20 km, then prints for each step the time
of Primum's code, the time of a direct call of the library on the same inputs, and their ratio:

- exposure (people in zones)  vs  exactextract over the file on the same zones (totals must agree to 0.1 %)
- sites and reports in zones  vs  bare shapely STRtree queries (`intersects`; `dwithin` for reports)
- risk surface                vs  the same zones and reports computed directly, pruned as a skilled user
                                  would (each zone over its box, each report over four bandwidths)

Times are medians of at least 5 runs.
- a whole assessment, warm (target under 2 s)
- peak memory of a whole assessment in a fresh process, for this raster and one a quarter of its side
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import yaml
from _timing import line, median_of
from affine import Affine
from exactextract import exact_extract
from rasterio.windows import Window

from planner.assess import assess, effects_zones, plan_crs
from planner.effects import load_effects_table
from planner.exposure import _people, coa_zones, locate_sites, sites_in_zones
from planner.harm import estimate_harm, people_present
from planner.plan import open_plan
from planner.settings import Settings
from planner.surface import footprint, risk_surface
from planner.threat import locate_near, threat_context

HERE = Path(__file__).resolve().parent
PIXEL_DEG = 0.0009  # about 100 m
WEST, NORTH = 28.0, 11.0  # the country's north-west corner (UTM zone 35/36 boundary region)


def op_centre(size: int) -> tuple[float, float]:
    """The operation sits in the middle of the country."""
    half = size * PIXEL_DEG / 2
    return WEST + half, NORTH - half


SEED = 7


def generate(size: int, root: Path) -> Path:
    """Write the country (if not there yet) and return the plan's path."""
    root.mkdir(parents=True, exist_ok=True)
    raster = root / "population.tif"
    if not raster.exists():
        _raster(raster, size)
    if not (root / "sites.gpkg").exists():
        _points(root, size)
    plan = root / "plan.yaml"
    _plan(plan, size)
    return plan


def _raster(path: Path, size: int) -> None:
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": size,
        "height": size,
        "crs": "EPSG:4326",
        "transform": Affine(PIXEL_DEG, 0, WEST, 0, -PIXEL_DEG, NORTH),
        "nodata": -9999.0,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "YES",
    }
    rng = np.random.default_rng(SEED)
    noise = rng.gamma(2.0, 1.0, size=(512, 512)).astype("float32")  # one tile of texture, reused
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, 512):
            for col in range(0, size, 512):
                h, w = min(512, size - row), min(512, size - col)
                ys = NORTH - PIXEL_DEG * (row + np.arange(h) + 0.5)
                xs = WEST + PIXEL_DEG * (col + np.arange(w) + 0.5)
                gx, gy = np.meshgrid(xs, ys)
                # Towns every half degree, denser near the operation, on scattered rural homesteads.
                towns = np.exp(-(((gx % 0.5) - 0.25) ** 2 + ((gy % 0.5) - 0.25) ** 2) / (2 * 0.02**2)) * 60
                block = (0.5 + towns) * noise[:h, :w]
                dst.write(np.round(block, 1).astype("float32"), 1, window=Window(col, row, w, h))


def _points(root: Path, size: int) -> None:
    rng = np.random.default_rng(SEED + 1)
    op_lon, op_lat = op_centre(size)
    east, south = WEST + size * PIXEL_DEG, NORTH - size * PIXEL_DEG

    def scatter(n: int) -> tuple[np.ndarray, np.ndarray]:
        # A third near the operation (towns around it), the rest across the country.
        near = n // 3
        lon = np.concatenate([rng.normal(op_lon, 0.3, near), rng.uniform(WEST, east, n - near)])
        lat = np.concatenate([rng.normal(op_lat, 0.3, near), rng.uniform(south, NORTH, n - near)])
        keep = (lon > WEST) & (lon < east) & (lat > south) & (lat < NORTH)
        return lon[keep], lat[keep]

    lon, lat = scatter(100_000)
    amenities = rng.choice(
        ["hospital", "clinic", "school", "place_of_worship", "marketplace", "drinking_water", "townhall", "shop"],
        size=lon.size,
    )
    gpd.GeoDataFrame(
        {"id": np.arange(lon.size).astype(str), "amenity": amenities, "name": None},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    ).to_file(root / "sites.gpkg")
    lon, lat = scatter(50_000)
    dates = pd.Timestamp("2026-11-30") - pd.to_timedelta(rng.integers(0, 365, lon.size), unit="D")
    events = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "lat": lat.round(6),
            "lon": lon.round(6),
            "type": rng.choice(["attack on civilians", "armed clash", "shelling", "protest"], lon.size),
        }
    )
    events.to_csv(root / "events.csv", index=False)
    manifest = {
        "area": "Benchmark country (generated)",
        "layers": {
            "population": {"kind": "population", "path": "population.tif", "units": "count", "as_of": "2026-01-01"},
            "sites": {"kind": "sites", "path": "sites.gpkg", "as_of": "2026-06-01"},
            "events": {"kind": "threats", "path": "events.csv", "schema": "generic"},
        },
    }
    (root / "layers.yaml").write_text(yaml.safe_dump(manifest))


def _plan(path: Path, size: int) -> None:
    op_lon, op_lat = op_centre(size)

    def square(cx: float, cy: float, half: float) -> dict[str, Any]:
        ring = [
            [cx - half, cy - half],
            [cx + half, cy - half],
            [cx + half, cy + half],
            [cx - half, cy + half],
            [cx - half, cy - half],
        ]
        return {"type": "Polygon", "coordinates": [ring]}

    coas = []
    for i, (dx, dy) in enumerate([(-0.09, -0.05), (0.0, 0.04), (0.1, -0.02)]):  # about 30 x 20 km in all
        cx, cy = op_lon + dx, op_lat + dy
        coas.append(
            {
                "id": "ABC"[i],
                "name": f"COA {i}",
                "elements": [
                    {"id": f"cordon-{i}", "activity": "cordon_search", "geometry": square(cx, cy, 0.02)},
                    {"id": f"lz-{i}", "activity": "helicopter_lz", "position": [cx + 0.03, cy + 0.03]},
                    {"id": f"mortar-{i}", "activity": "mortar_81mm", "position": [cx - 0.03, cy + 0.02]},
                    {
                        "id": f"convoy-{i}",
                        "activity": "convoy",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[cx - 0.06, cy - 0.04], [cx, cy - 0.03], [cx + 0.05, cy - 0.01]],
                        },
                    },
                ],
            }
        )
    plan = {
        "name": "Benchmark operation",
        "layers": "layers.yaml",
        "window": {"start": "2026-12-01T05:00:00+03:00", "end": "2026-12-01T13:00:00+03:00"},
        "coas": coas,
    }
    path.write_text(yaml.safe_dump(plan))


def peak_rss_mb(plan: Path) -> float:
    """Peak resident memory of a whole assessment in a fresh process.

    Read from the child's own VmHWM: ``getrusage`` in a child started by fork and exec reports the
    parent's peak when that is higher, which would charge the data generator to the assessment.
    """
    code = (
        "import sys; from planner.plan import open_plan; from planner.assess import assess; "
        "p, l = open_plan(sys.argv[1]); assess(p, l); "
        "print([int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0] / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(plan)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20_000, help="raster side in pixels (default 20,000)")
    args = parser.parse_args()
    root = HERE / ".data" / f"country-{args.size}"
    start = time.perf_counter()
    plan_path = generate(args.size, root)
    print(f"data: {root} ({time.perf_counter() - start:.1f} s to make or find)")
    start = time.perf_counter()
    plan, layerset = open_plan(plan_path)
    print(
        f"layer set read in {time.perf_counter() - start:.1f} s "
        f"({len(layerset.layers['sites'])} sites, {len(layerset.layers['events'])} reports, "
        f"raster {layerset.population.width} x {layerset.population.height})\n"
    )
    settings, effects = Settings(), load_effects_table()
    crs = plan_crs(plan)
    zones = effects_zones(plan, effects, crs)
    population = layerset.population

    # 1. exposure: people in every COA's core and ring, read per COA as the assessment does, against
    # exactextract over the file on the same zones
    shapes = {}
    for coa_id, coa_zone_list in zones.items():
        core, ring = coa_zones(coa_zone_list)
        shapes[(coa_id, "core")], shapes[(coa_id, "outer")] = core, ring

    def ours_people() -> dict[tuple[str, str], Any]:
        out = {}
        with population.open() as raster:
            for coa_id, coa_zone_list in zones.items():
                mine = {k: v for k, v in shapes.items() if k[0] == coa_id}
                out.update(_people(mine, coa_zone_list, population, crs, raster))
        return out

    ours_t, ours = median_of(ours_people, repeat=10)
    frame = gpd.GeoDataFrame({"key": range(len(shapes))}, geometry=list(shapes.values()), crs=crs).to_crs(
        population.crs
    )

    def library() -> Any:
        with rasterio.open(population.path) as src:
            return exact_extract(src, frame, ["sum"], output="pandas")["sum"]

    theirs_t, theirs = median_of(library, repeat=10)
    ours_total = sum(v[0] for v in ours.values())
    theirs_total = float(theirs.sum())
    line("exposure (people in zones)", ours_t, theirs_t, 1.5)
    print(
        f"{'':34} totals {ours_total:,.1f} vs {theirs_total:,.1f} "
        f"({abs(ours_total - theirs_total) / theirs_total:.4%} apart; must be under 0.1 %)"
    )

    # 2. sites and reports in zones, against bare spatial-index queries on the same projected geometries.
    # "Counting" is finding which rows fall in each zone; listing them as records with their evidence
    # is timed too, for information (it costs in proportion to the rows found, not to the layer).
    sites_layer = layerset.layers["sites"]
    index = sites_layer.projected(crs)
    cores_outers = {c: coa_zones(zs) for c, zs in zones.items()}
    ours_t, _ = median_of(lambda: [locate_sites(index, zs) for zs in zones.values()], repeat=20)
    theirs_t, _ = median_of(
        lambda: [
            (index.tree.query(core, predicate="intersects"), index.tree.query(ring, predicate="intersects"))
            for core, ring in cores_outers.values()
        ],
        repeat=20,
    )
    line("sites in core and ring (count)", ours_t, theirs_t, 2.0)
    listed_t, _ = median_of(lambda: [sites_in_zones(zs, cores_outers[c][0], layerset, crs) for c, zs in zones.items()])
    print(f"{'':34} listing them as records with evidence: {listed_t * 1000:.1f} ms")

    events = layerset.layers["events"]
    reports = events.projected(crs)
    tree = shapely.STRtree(reports.geometries)  # the same points, indexed as a skilled user would
    distance = settings.threat.distance_m
    footprints = {c: footprint(zs) for c, zs in zones.items()}

    def bare_reports() -> list[np.ndarray]:
        # One query per footprint: every report within the distance of it, exactly.
        return [tree.query(shape, predicate="dwithin", distance=distance) for shape in footprints.values()]

    ours_t, ours_rows = median_of(lambda: [locate_near(reports, zs, distance)[0] for zs in zones.values()], repeat=20)
    theirs_t, theirs_rows = median_of(bare_reports, repeat=20)
    same = all(np.array_equal(np.sort(a), np.sort(b)) for a, b in zip(ours_rows, theirs_rows, strict=True))
    line("reports near the footprint (count)", ours_t, theirs_t, 2.0)
    print(f"{'':34} same reports found: {'yes' if same else 'NO'} ({sum(map(len, ours_rows))} in all)")
    listed_t, _ = median_of(
        lambda: [threat_context(zs, layerset, plan.window.start, crs, settings.threat) for zs in zones.values()]
    )
    print(f"{'':34} weighing and listing them: {listed_t * 1000:.1f} ms")

    # 3. risk surface with the same reports on both sides, against what a skilled user would write: each
    # zone's intensity over the cells in its box only, and each report's kernel over the cells within four
    # bandwidths of it only
    context = {c: threat_context(zs, layerset, plan.window.start, crs, settings.threat) for c, zs in zones.items()}
    found_reports = list({(r.layer, r.event_id): r for ctx in context.values() for r in ctx.reports}.values())
    surface = risk_surface(zones, found_reports, layerset, crs, settings)
    xs, ys = surface.centres()
    x, y = xs.ravel(), ys.ravel()
    bandwidth = settings.threat.bandwidth_m

    def pruned() -> Any:
        out = {}
        for coa_id, zs in zones.items():
            intensity = np.zeros(x.shape)
            for z in zs:
                west, south, east, north = z.outer.bounds
                near = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
                d = shapely.distance(shapely.points(x[near], y[near]), z.geometry)
                reach = np.clip(1 - (d - z.core_m) / (z.outer_m - z.core_m), 0, 1)
                intensity[near] = np.maximum(intensity[near], reach)
            out[coa_id] = intensity
        density = np.zeros(x.shape)
        norm = 1.0 / (2 * np.pi * (bandwidth / 1000) ** 2)
        for r in found_reports:
            near = np.flatnonzero(np.abs(x - r.x) <= 4 * bandwidth)
            near = near[np.abs(y[near] - r.y) <= 4 * bandwidth]
            density[near] += (
                r.weight * norm * np.exp(-((x[near] - r.x) ** 2 + (y[near] - r.y) ** 2) / (2 * bandwidth**2))
            )
        out["threat"] = density
        return out

    ours_t, _ = median_of(lambda: risk_surface(zones, found_reports, layerset, crs, settings))
    theirs_t, _ = median_of(pruned)
    line(
        f"risk surface ({surface.shape[0]} x {surface.shape[1]} cells, {len(found_reports)} reports)",
        ours_t,
        theirs_t,
        1.5,
    )

    # 4. the whole assessment, warm
    assess(plan, layerset)
    whole_t, found = median_of(lambda: assess(plan, layerset), repeat=3)
    print(f"{'whole assessment, warm':<34} {whole_t:.2f} s  (target under 2 s){'  ok' if whole_t < 2 else '  OVER'}")

    def harm() -> None:
        present = people_present(found.surface, layerset, plan.window, crs, settings.harm)
        for r in found.coas:
            estimate_harm(r.coa, r.zones, present, r.threats, r.access, found.effects, settings.harm)

    harm_t, _ = median_of(harm, repeat=3)
    print(
        f"{'  of which the harm estimate':<34} {harm_t * 1000:.0f} ms ({100 * harm_t / whole_t:.0f} %: people "
        f"present at {len(found.surface.people.ravel()):,} cells and every site, {len(found.coas)} COAs)"
    )

    # 5. memory, in fresh processes, for this raster and a smaller one
    this_mb = peak_rss_mb(plan_path)
    small = generate(max(args.size // 4, 1024), HERE / ".data" / f"country-{max(args.size // 4, 1024)}")
    small_mb = peak_rss_mb(small)
    print(
        f"{'peak memory (fresh process)':<34} {this_mb:,.0f} MB with {args.size:,}² pixels, {small_mb:,.0f} MB with "
        f"{max(args.size // 4, 1024):,}² (target under 1,024 MB, not growing with the raster)"
    )
    print(
        json.dumps(
            {
                "size": args.size,
                "whole_s": round(whole_t, 3),
                "peak_mb": round(this_mb),
                "peak_mb_small": round(small_mb),
            }
        )
    )


if __name__ == "__main__":
    main()
