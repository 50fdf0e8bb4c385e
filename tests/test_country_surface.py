"""Whole-country surfaces (``primum surface``): each band against figures worked out by hand on a tiny world,
the same file whatever the chunks or the workers, unknown data left unknown, and the real national layers."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Geod, Transformer
from typer.testing import CliRunner
from world import ORIGIN, lonlat, make_world

from planner.cli import app
from planner.layers.manifest import load_layerset
from planner.scale.country import BANDS, country_surface
from planner.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ON = date(2025, 6, 1)


def bands_of(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def centres_in_utm(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's centre in the tiny world's metres (east of its west edge, north of its south edge)."""
    with rasterio.open(path) as src:
        cols, rows = np.meshgrid(np.arange(src.width) + 0.5, np.arange(src.height) + 0.5)
        t = src.transform
        x, y = t.c + t.a * cols, t.f + t.e * rows
        to_utm = Transformer.from_crs(src.crs, "EPSG:32636", always_xy=True)
    east, north = to_utm.transform(x, y)
    return east - ORIGIN[0], north - (ORIGIN[1] - 1000)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A 1 km square of 10 people per 100 m pixel; one straight road along y = 500 with a clinic at its west
    end; one attack on civilians 30 days before the date, 1.8 km north of the square."""
    x, y = lonlat(450, 2800)
    events = f"date,lat,lon,type,precision_m\n2025-05-02,{y},{x},attack on civilians,500\n"
    make_world(
        tmp_path,
        sites=[("clinic", "Clinic", 10, 500)],
        roads=[("r1", "primary", "yes", [(0, 500), (1000, 500)])],
        threats=events,
    )
    return tmp_path / "layers.yaml"


def test_each_band_of_the_tiny_world_is_what_the_hand_works_out(world: Path, tmp_path: Path) -> None:
    out = tmp_path / "surface.tif"
    made = country_surface(load_layerset(world), out, cell_m=100, on=ON)
    bands = bands_of(out)
    x, y = centres_in_utm(out)
    inside = (x > 0) & (x < 1000) & (y > 0) & (y < 1000)
    access = Settings().access
    walk = access.offroad_kmh / 3.6
    drive = access.speeds_kmh["primary"] * access.surface_factors.get("asphalt", 1.0) / 3.6
    # people: 10 per 100 m pixel, so 10 per cell wholly inside, and the square's 1,000 in all
    assert made.totals["people"] == pytest.approx(1000, rel=0.002)
    core = (x > 100) & (x < 900) & (y > 100) & (y < 900)
    assert bands[0][core] == pytest.approx(10, rel=0.01)
    # minutes: walk straight to the road, drive west along it to the clinic, which stands on the road at x 10 m
    expected = (np.abs(y - 500) / walk + np.abs(x - 10) / drive) / 60
    assert bands[1][inside] == pytest.approx(expected[inside], rel=0.01, abs=0.05)
    # threat density: one report of weight 0.5 (30 days, one half-life) x 1 (precise) x 3 (attack on civilians)
    r_km = np.hypot(x - 450, y - 2800) / 1000
    density = 1.5 / (2 * math.pi) * np.exp(-(r_km**2) / 2)
    assert bands[2][inside] == pytest.approx(density[inside], rel=0.01)
    # people near attacks: the people of the cells within 2 km of it, and no one else's
    near = np.hypot(x - 450, y - 2800) <= 2000
    decided = inside & (np.abs(np.hypot(x - 450, y - 2800) - 2000) > 10)  # not on the edge of the 2 km
    assert np.array_equal(bands[3][decided] > 0, near[decided])
    assert bands[3][decided & near] == pytest.approx(bands[0][decided & near])
    assert made.totals["people_near_attacks"] == pytest.approx(float(np.nansum(bands[3])))


def test_the_file_is_a_cloud_optimised_geotiff_that_says_what_each_band_is(world: Path, tmp_path: Path) -> None:
    out = tmp_path / "surface.tif"
    country_surface(load_layerset(world), out, cell_m=1.5, on=ON)
    with rasterio.open(out) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.compression is not None and src.profile["tiled"]
        assert src.descriptions == BANDS
        assert "walk straight to the nearest passable road" in src.tags(2)["meaning"]
        assert src.tags()["on"] == "2025-06-01" and src.tags()["area"] == "Hand-made world"
        assert src.overviews(1), "a surface wider than a tile has overviews for the map"
        assert math.isnan(src.nodata)
    assert not list(tmp_path.glob(".surface.tif*")), "no temporary file is left"


def test_the_workers_never_change_a_cell_and_the_chunks_only_in_the_resamplings_last_digits(
    world: Path, tmp_path: Path, dask_scheduler: str
) -> None:
    whole, chunked, spread = tmp_path / "whole.tif", tmp_path / "chunked.tif", tmp_path / "spread.tif"
    common = ["surface", str(world), "--cell", "25", "--on", "2025-06-01"]
    for out, where in ((whole, ["--workers", "0"]), (chunked, ["--workers", "0", "--chunk", "16"])):
        assert CliRunner().invoke(app, [*common, "--out", str(out), *where], catch_exceptions=False).exit_code == 0
    # On a scheduler and two workers (processes of their own), in whatever order they finish: the same file
    there = ["--out", str(spread), "--chunk", "16", "--scheduler", dask_scheduler]
    result = CliRunner().invoke(app, [*common, *there], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "9 chunk(s)" in result.stdout  # 41 x 41 cells in chunks of 16: 3 x 3, ragged at the edges
    assert np.array_equal(bands_of(spread), bands_of(chunked), equal_nan=True)
    # Cut into other chunks: travel and threat exactly; people to GDAL's float arithmetic of each window
    reference, cut = bands_of(whole), bands_of(chunked)
    assert np.array_equal(cut[1:3], reference[1:3], equal_nan=True)
    assert np.array_equal(np.isnan(cut), np.isnan(reference))
    assert cut[[0, 3]] == pytest.approx(reference[[0, 3]], rel=1e-5, nan_ok=True)


def test_without_roads_or_reports_those_bands_are_unknown_not_zero(tmp_path: Path) -> None:
    make_world(tmp_path)  # no roads, no threat reports
    out = tmp_path / "surface.tif"
    made = country_surface(load_layerset(tmp_path / "layers.yaml"), out, cell_m=100, on=ON)
    bands = bands_of(out)
    assert np.isnan(bands[1]).all() and np.isnan(bands[2]).all() and np.isnan(bands[3]).all()
    assert np.nansum(bands[0]) == pytest.approx(1000, rel=0.002)
    assert math.isnan(made.totals["people_near_attacks"])
    assert any("no roads layer" in flag for flag in made.flags)
    assert any("unknown, not calm" in flag for flag in made.flags)


def test_the_command_line_writes_the_surface_and_says_what_it_holds(world: Path, tmp_path: Path) -> None:
    out = tmp_path / "overview.tif"
    args = ["surface", str(world), "--out", str(out), "--cell", "100", "--on", "2025-06-01", "--workers", "0"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "11 x 11 cells of 100 m" in result.stdout  # the 1 km square, snapped outward to whole cells
    assert re.search(r"people: 1,00[01];", result.stdout) and "health_minutes: minutes to the nearest" in result.stdout
    assert out.is_file()
    result = CliRunner().invoke(app, [*args[:3], str(tmp_path / "no" / "x.tif"), *args[4:]], catch_exceptions=False)
    assert result.exit_code == 2 and "its folder does not exist" in result.stderr
    result = CliRunner().invoke(app, [*args, "--season", "monsoon"], catch_exceptions=False)
    assert result.exit_code == 2 and "dry or rainy" in result.stderr


@pytest.mark.realdata
def test_south_sudan_at_5_km_keeps_the_rasters_people_and_reaches_care_from_juba(
    realdata: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ssd.tif"
    layerset = load_layerset(ROOT / "tests" / "manifests" / "ssd_national.yaml")
    made = country_surface(layerset, out, cell_m=5000, on=date(2020, 12, 1))
    # The raster's own total: each pixel's density times its area on the ellipsoid
    with rasterio.open(layerset.population.path) as src:  # type: ignore[union-attr]
        density = src.read(1, masked=True).astype(float)
        t = src.transform
        lats = t.f + t.e * (np.arange(src.height) + 0.5)
    geod = Geod(ellps="WGS84")
    areas = [
        abs(geod.polygon_area_perimeter([t.c, t.c + t.a, t.c + t.a, t.c], [la + t.e / 2] * 2 + [la - t.e / 2] * 2)[0])
        for la in lats
    ]
    raster_total = float((density * (np.array(areas)[:, None] / 1e6)).sum())
    assert made.totals["people"] == pytest.approx(raster_total, rel=0.001)
    assert 10e6 < made.totals["people"] < 13e6
    with rasterio.open(out) as src:
        juba_x, juba_y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(31.58, 4.85)
        row, col = src.index(juba_x, juba_y)
        minutes = src.read(2)[row, col]
        assert 0 < minutes < 60, "Juba's hospitals are minutes away by road"
        assert np.isnan(src.read(3)).all(), "no threat layer: unknown, not calm"
    assert any("health site(s) lie more than" in flag for flag in made.flags)
