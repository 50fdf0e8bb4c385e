"""Population rasters: checked at open, read only window by window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from conftest import write_raster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.windows import Window

from planner.errors import Collector, InputError
from planner.layers import load_layerset
from planner.layers.population import PopulationLayer, read_population
from planner.layers.specs import PopulationSpec

ORIGIN = (500_000.0, 600_000.0)  # UTM 36N, metres


def open_raster(path: Path, **spec: object) -> PopulationLayer:
    problems = Collector(path)
    layer = read_population("pop", PopulationSpec(kind="population", path=str(path), **spec), path, problems)
    problems.raise_if_any()
    assert layer is not None
    return layer


def test_count_raster_people_per_pixel(tmp_path: Path) -> None:
    values = np.arange(100, dtype=float).reshape(10, 10)
    layer = open_raster(write_raster(tmp_path / "p.tif", values), units="count")
    # The whole raster: 0 + 1 + ... + 99 people.
    window = layer.read_window((ORIGIN[0], ORIGIN[1] - 1000, ORIGIN[0] + 1000, ORIGIN[1]), "EPSG:32636")
    assert window.shape == (10, 10)
    assert window.people().sum() == pytest.approx(4950)


def test_density_raster_is_multiplied_by_pixel_area(tmp_path: Path) -> None:
    # 100 m pixels are 0.01 km²: 5,000 people per km² is 50 people per pixel.
    layer = open_raster(write_raster(tmp_path / "d.tif", np.full((4, 4), 5000.0)), units="density_km2")
    window = layer.read_window((ORIGIN[0], ORIGIN[1] - 400, ORIGIN[0] + 400, ORIGIN[1]), "EPSG:32636")
    assert window.people().sum() == pytest.approx(16 * 50)


def test_density_in_degrees_uses_each_rows_true_area(tmp_path: Path) -> None:
    # 0.01° pixels at the equator are about 1.113 km by 1.106 km: about 1.23 km² each.
    path = write_raster(tmp_path / "g.tif", np.full((2, 2), 100.0), crs="EPSG:4326", origin=(30.0, 0.01), pixel=0.01)
    layer = open_raster(path, units="density_km2")
    window = layer.read_window((30.0, -0.01, 30.02, 0.01))
    assert window.people().sum() == pytest.approx(4 * 100 * 1.2308, rel=1e-3)


def test_nodata_pixels_are_masked_not_counted(tmp_path: Path) -> None:
    values = np.array([[10.0, -9999.0], [20.0, 30.0]])
    layer = open_raster(write_raster(tmp_path / "n.tif", values), units="count")
    window = layer.read_window((ORIGIN[0], ORIGIN[1] - 200, ORIGIN[0] + 200, ORIGIN[1]), "EPSG:32636")
    assert window.people().sum() == 60
    assert window.values.mask.sum() == 1


def test_raster_without_nodata_needs_a_declared_one(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.ones((2, 2)), nodata=None)
    with pytest.raises(InputError, match=r"no nodata value.*nodata: -9999"):
        open_raster(path, units="count")


def test_declared_nodata_is_honoured_when_the_file_has_none(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.array([[5.0, -1.0]]), nodata=None)
    layer = open_raster(path, units="count", nodata=-1)
    window = layer.read_window((ORIGIN[0], ORIGIN[1] - 100, ORIGIN[0] + 200, ORIGIN[1]), "EPSG:32636")
    assert window.people().sum() == 5


def test_nodata_none_declares_every_pixel_valid(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.array([[5.0, 0.0]]), nodata=None)
    layer = open_raster(path, units="count", nodata="none")
    assert layer.nodata is None


def test_declared_nodata_must_match_the_files(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.ones((2, 2)))
    with pytest.raises(InputError, match=r"nodata is -9999.0 but the manifest declares 0"):
        open_raster(path, units="count", nodata=0)


def test_raster_without_crs_is_refused_unless_declared(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.ones((2, 2)), crs=None)
    with pytest.raises(InputError, match=r"no CRS.*crs: EPSG:4326"):
        open_raster(path, units="count")
    assert open_raster(path, units="count", crs="EPSG:32636").crs.to_epsg() == 32636


def test_crs_that_contradicts_the_declaration_is_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.ones((2, 2)))
    with pytest.raises(InputError, match=r"EPSG:32636 but the manifest declares EPSG:4326"):
        open_raster(path, units="count", crs="EPSG:4326")


def test_negative_values_that_are_not_nodata_are_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "x.tif", np.array([[5.0, -3.0]]))
    with pytest.raises(InputError, match="negative population"):
        open_raster(path, units="count")


def test_density_declared_as_count_is_flagged(tmp_path: Path) -> None:
    # 100 m pixels holding 8,000 "people" each would mean 800,000 people per km².
    layer = open_raster(write_raster(tmp_path / "x.tif", np.full((5, 5), 8000.0)), units="count")
    assert [f.code for f in layer.flags] == ["density_as_count"]
    assert "units: density_km2" in layer.flags[0].message


def test_plausible_count_raster_is_not_flagged(tmp_path: Path) -> None:
    layer = open_raster(write_raster(tmp_path / "x.tif", np.full((5, 5), 80.0)), units="count")
    assert layer.flags == []


def test_coarse_raster_is_flagged(tmp_path: Path) -> None:
    layer = open_raster(write_raster(tmp_path / "x.tif", np.ones((3, 3)), pixel=1000.0), units="count")
    assert [f.code for f in layer.flags] == ["coarse_raster"]


def test_window_outside_the_raster_has_no_coverage(tmp_path: Path) -> None:
    layer = open_raster(write_raster(tmp_path / "x.tif", np.ones((3, 3))), units="count")
    window = layer.read_window((0.0, 0.0, 100.0, 100.0), "EPSG:32636")
    assert window.shape == (0, 0)


def test_window_read_in_another_crs_covers_the_same_pixels(tmp_path: Path) -> None:
    layer = open_raster(write_raster(tmp_path / "x.tif", np.ones((10, 10))), units="count")
    west, south, east, north = layer.bounds  # EPSG:4326
    assert layer.read_window((west, south, east, north)).shape == (10, 10)


def test_a_layer_never_reads_the_whole_raster_to_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Opening reads at most a 256 x 256 sample, whatever the raster's size.
    path = write_raster(tmp_path / "big.tif", np.ones((1200, 1000)))
    import rasterio.io  # noqa: PLC0415

    shapes: list[tuple[int, ...]] = []
    original = rasterio.io.DatasetReader.read

    def spy(self: rasterio.io.DatasetReader, *args: object, **kwargs: object) -> np.ndarray:
        result = original(self, *args, **kwargs)
        shapes.append(result.shape)
        return result

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    layer = open_raster(path, units="count")
    assert shapes and all(max(s) <= 256 for s in shapes)
    layer.read_window((ORIGIN[0], ORIGIN[1] - 500, ORIGIN[0] + 300, ORIGIN[1]), "EPSG:32636")
    assert shapes[-1] == (5, 3)


GRID = np.arange(20 * 30, dtype=float).reshape(20, 30) % 97


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    x0=st.floats(min_value=-500, max_value=3000),
    y0=st.floats(min_value=-500, max_value=2000),
    w=st.floats(min_value=1, max_value=3500),
    h=st.floats(min_value=1, max_value=2500),
)
def test_a_window_equals_the_full_read_sliced(
    tmp_path_factory: pytest.TempPathFactory, x0: float, y0: float, w: float, h: float
) -> None:
    path = tmp_path_factory.getbasetemp() / "grid.tif"
    if not path.exists():
        write_raster(path, GRID)
    layer = open_raster(path, units="count")
    left, bottom = ORIGIN[0] + x0, ORIGIN[1] - 2000 + y0
    window = layer.read_window((left, bottom, left + w, bottom + h), "EPSG:32636")
    if window.shape == (0, 0):
        outside_x = left >= ORIGIN[0] + 3000 or left + w <= ORIGIN[0]
        assert outside_x or bottom >= ORIGIN[1] or bottom + h <= ORIGIN[1] - 2000
        return
    col0 = round((window.transform.c - ORIGIN[0]) / 100)
    row0 = round((ORIGIN[1] - window.transform.f) / 100)
    rows, cols = window.shape
    np.testing.assert_array_equal(window.values.filled(np.nan), GRID[row0 : row0 + rows, col0 : col0 + cols])
    # The window holds every pixel the box touches, and no more.
    assert col0 <= max(x0 // 100, 0) and row0 <= max((2000 - (y0 + h)) // 100, 0)
    assert (col0 + cols) * 100 >= min(x0 + w, 3000) - 1e-6


def test_manifest_reads_population_through_the_layer_set(make_manifest) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest({"pop": {"kind": "population", "path": "pop.tif", "units": "count"}})
    write_raster(manifest.parent / "pop.tif", np.full((3, 3), 2.0))
    layerset = load_layerset(manifest)
    assert layerset.population is not None and layerset.population.units == "count"


def _sparse(path: Path, pixel_m: float) -> Path:
    """A small file that declares 20,000 x 20,000 pixels of ``pixel_m``."""
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": 20_000,
        "height": 20_000,
        "crs": "EPSG:32636",
        "transform": Affine(pixel_m, 0, 500_000, 0, -pixel_m, 600_000),
        "nodata": -9999.0,
        "tiled": True,
        "compress": "deflate",
        "sparse_ok": True,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((16, 16), "float32"), 1, window=Window(0, 0, 16, 16))
    assert path.stat().st_size < 1_000_000
    (path.parent / "m.yaml").write_text(
        f"area: T\nlayers:\n  p: {{kind: population, path: {path.name}, units: count}}\n"
    )
    return path.parent / "m.yaml"


def test_a_window_of_more_pixels_than_memory_allows_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # 1 m pixels: reading 12 km of them would take 1.2 GB.
    layer = load_layerset(_sparse(tmp_path / "fine.tif", 1.0)).population
    assert layer is not None
    with pytest.raises(InputError, match=r"12,000 x 12,000 pixels.*use a coarser population raster"):
        layer.read_window((500_000, 588_000, 512_000, 600_000), "EPSG:32636")


def test_a_raster_of_5_cm_pixels_is_refused_when_it_is_opened(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"pixels of 0.05 m \(20,000 x 20,000 of them\).*check the CRS and units"):
        load_layerset(_sparse(tmp_path / "tiny.tif", 0.05))
