"""Whole-country surfaces: time from 1 to 2 workers, growth with the area, and peak memory per worker.

    python benchmarks/bench_surface.py                          # 40,000 x 40,000 cells of 100 m (hours)
    python benchmarks/bench_surface.py --sides 4000 8000 --workers 1 2

Generates (once per side, into benchmarks/.data/, never committed) a population raster of SIDE x SIDE
pixels of 100 m, centred on South Sudan, from the real WorldPop 1 km density of ``../shared/realdata/
national_ssd`` (each 100 m pixel takes the density of the 1 km pixel it lies in), and a layer set with the
real national roads and health facilities. Then computes the 100 m surface on a local Dask cluster of each
number of workers and prints the wall time, the peak resident memory of the busiest worker process (the
target is under 1 GB), the time ratio from 1 to 2 workers, and how the time grows with the number of cells.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import rasterio
import yaml
from affine import Affine
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window

from planner.layers.manifest import load_layerset
from planner.scale.cluster import Cluster, dask_client
from planner.scale.country import country_surface

HERE = Path(__file__).resolve().parent
NATIONAL = HERE.parent.parent / "shared" / "realdata" / "national_ssd"
CENTRE = (30.0, 7.5)  # lon, lat: South Sudan's middle
UTM35N = "EPSG:32635"


def generate(side: int) -> Path:
    root = HERE / ".data" / f"surface-{side}"
    manifest = root / "layers.yaml"
    if manifest.exists():
        return manifest
    root.mkdir(parents=True, exist_ok=True)
    source = NATIONAL / "population" / "ssd_worldpop2020_popdensity_1km_from8bit.tif"
    from pyproj import Transformer  # noqa: PLC0415

    x0, y0 = Transformer.from_crs("EPSG:4326", UTM35N, always_xy=True).transform(*CENTRE)
    west, north = x0 - side * 50.0, y0 + side * 50.0
    transform = Affine(100.0, 0, west, 0, -100.0, north)
    profile = {
        "driver": "GTiff", "dtype": "float32", "count": 1, "width": side, "height": side, "crs": UTM35N,
        "transform": transform, "nodata": -9999.0, "tiled": True, "blockxsize": 512, "blockysize": 512,
        "compress": "deflate", "BIGTIFF": "YES",
    }  # fmt: skip
    with rasterio.open(source) as src, rasterio.open(root / "population.tif", "w", **profile) as dst:
        block = 4096
        for r in range(0, side, block):
            for c in range(0, side, block):
                window = Window(c, r, min(block, side - c), min(block, side - r))
                out = np.full((int(window.height), int(window.width)), -9999.0, dtype="float32")
                reproject(
                    rasterio.band(src, 1), out, dst_transform=rasterio.windows.transform(window, transform),
                    dst_crs=UTM35N, dst_nodata=-9999.0, resampling=Resampling.nearest,
                )  # fmt: skip
                dst.write(out, 1, window=window)
    layers = {
        "population": {"kind": "population", "path": "population.tif", "units": "density_km2", "as_of": "2020-07-01"},
        "health": {
            "kind": "sites", "path": str(NATIONAL / "health" / "hsf_master_facility_list.geojson"),
            "category": "health", "name": "Health Facility Name", "status": "Functional Status", "as_of": "2020-01-01",
        },
        "roads": {
            "kind": "roads",
            "path": str(NATIONAL / "roads" / "wfp_logcluster_roads_accessconstraints_2016-11-04.gpkg"),
            "class": "CLASS", "surface": "SURFACE", "rainy": "RAINYSTAT", "as_of": "2016-11-04",
        },
    }  # fmt: skip
    manifest.write_text(
        yaml.safe_dump({"area": f"South Sudan, {side:,} x {side:,} cells (generated)", "layers": layers})
    )
    return manifest


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[40_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    times: dict[tuple[int, int], float] = {}
    print(f"{'side':>7} {'cells':>15} {'workers':>7} {'time s':>8} {'peak MB per worker':>19}")
    for side in args.sides:
        layerset = load_layerset(generate(side))
        for workers in args.workers:
            out = HERE / ".data" / f"surface-{side}" / f"surface-{workers}.tif"
            with dask_client(Cluster(workers=workers)) as client:
                start = time.perf_counter()
                country_surface(layerset, out, cell_m=100.0, client=client)
                times[(side, workers)] = time.perf_counter() - start
                assert client is not None
                peak = max(client.run(_peak_mb).values())
            print(f"{side:>7,} {side * side:>15,} {workers:>7} {times[(side, workers)]:>8.1f} {peak:>19.0f}")
    for side in args.sides:
        if (side, 1) in times and (side, 2) in times:
            print(f"{side:,}: 2 workers against 1, ratio {times[(side, 2)] / times[(side, 1)]:.2f} (ideal 0.50)")
    base = args.sides[0]
    for side in args.sides[1:]:
        for workers in args.workers:
            grown = times[(side, workers)] / times[(base, workers)]
            print(f"{side:,} against {base:,} ({(side / base) ** 2:.0f}x the cells), {workers} worker(s): {grown:.2f}x")


if __name__ == "__main__":
    main()
