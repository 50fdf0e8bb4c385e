"""Population rasters (WorldPop, GHSL, HRSL, LandScan): people per pixel or people per km².

The layer never reads the whole raster. Opening it reads only the header and a bounded, decimated sample
(to check the values are plausible); every figure comes from ``read_window``, whose cost grows with the
area asked for, not with the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS, Geod
from rasterio.errors import RasterioError, RasterioIOError
from rasterio.features import rasterize
from rasterio.io import DatasetReader
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry

from planner.errors import Collector, DataIOError, InputError
from planner.geo import WGS84
from planner.layers.model import Flag, LayerInfo
from planner.layers.specs import DEFAULT_MAX_AGE_DAYS, PopulationSpec
from planner.opening import RASTER_DRIVER

# Pixels coarser than this are flagged: people are then spread evenly over a pixel much larger than a zone.
COARSE_PIXEL_M = 250.0
# People per km² above which a raster declared as a count looks like a density raster.
IMPLAUSIBLE_DENSITY_KM2 = 60_000.0
SAMPLE_SIDE = 256
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class RasterWindow:
    """The pixels of a population raster that cover an area, with their georeferencing.

    ``values`` is masked where the raster has no data; ``people()`` turns them into people per pixel.
    """

    values: np.ma.MaskedArray
    transform: Affine
    crs: CRS
    units: str

    @cached_property
    def pixel_area_km2(self) -> np.ndarray:
        """One value per row: rows differ in a geographic CRS. Computed only when a density needs it."""
        return row_areas_km2(self.crs, self.transform, self.values.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def people(self) -> np.ma.MaskedArray:
        """People per pixel: counts as they are, densities times each pixel's area."""
        if self.units == "count":
            return self.values
        return self.values * self.pixel_area_km2[:, np.newaxis]


@dataclass
class PopulationLayer(LayerInfo):
    """A population raster, opened and checked; read it with ``read_window``."""

    units: str = "count"
    nodata: float | None = None
    crs: CRS = field(default_factory=lambda: WGS84)
    transform: Affine = field(default_factory=Affine.identity)
    width: int = 0
    height: int = 0
    band: int = 1
    pixel_size_m: float = 0.0
    declared_nodata: bool = False
    # The most pixels one read may ask for ([limits] max_window_pixels): a zone that needs more is over a raster
    # far finer than people can be counted at, refused before the memory is asked for, never a crash.
    max_window_pixels: int = 100_000_000
    # Admin areas (in the raster's CRS) whose pixels are multiplied so the area's people match a population
    # table's figure (``kind: population_table``); empty when no table scales this raster.
    scales: tuple[tuple[BaseGeometry, float], ...] = ()
    scaled_by: str | None = None

    @cached_property
    def wkt(self) -> str:
        return self.crs.to_wkt()

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Bounds in EPSG:4326."""
        # North-up rasters only (rotated ones are refused at open): corners straight from the transform.
        left, top = self.transform.c, self.transform.f
        right, bottom = left + self.transform.a * self.width, top + self.transform.e * self.height
        return tuple(
            transform_bounds(
                self.crs,
                WGS84,
                min(left, right),
                min(top, bottom),
                max(left, right),
                max(top, bottom),
                densify_pts=21,
            )
        )

    def _details(self) -> dict[str, object]:
        return {
            "read": f"{self.width} x {self.height} pixels",
            "units": self.units,
            "source_crs": self.crs.to_string(),
            "pixel_size_m": round(self.pixel_size_m, 1),
            "nodata": self.nodata,
            "bounds": self.bounds,
        }

    def open(self) -> DatasetReader:
        """The raster, open for several ``read_window`` calls: tiles they share are then decoded once."""
        return rasterio.open(self.path, driver=RASTER_DRIVER)

    def read_window(
        self, bounds: tuple[float, float, float, float], crs: CRS | str = WGS84, src: DatasetReader | None = None
    ) -> RasterWindow:
        """Read the pixels that cover ``bounds`` (given in ``crs``), whole pixels, clipped to the raster.

        ``src`` is the raster from ``open()`` when the caller reads several windows; else it is opened here.
        A window outside the raster comes back with shape (0, 0): no coverage, which callers must flag,
        never count as zero people.
        """
        left, bottom, right, top = transform_bounds(CRS.from_user_input(crs), self.crs, *bounds, densify_pts=21)
        win = from_bounds(left, bottom, right, top, transform=self.transform)
        col0 = max(math.floor(win.col_off), 0)
        row0 = max(math.floor(win.row_off), 0)
        col1 = min(math.ceil(win.col_off + win.width), self.width)
        row1 = min(math.ceil(win.row_off + win.height), self.height)
        window = Window(col0, row0, max(col1 - col0, 0), max(row1 - row0, 0))
        return self._read(window, src)

    def _read(self, window: Window, src: DatasetReader | None = None) -> RasterWindow:
        height, width = int(window.height), int(window.width)
        # The window's own transform, built directly: rasterio 1.4's helper multiplies Affines with `*`,
        # which affine 3 deprecates.
        transform = self.transform @ Affine.translation(window.col_off, window.row_off)
        if height == 0 or width == 0:
            empty = np.ma.masked_array(np.zeros((0, 0)), mask=np.zeros((0, 0), dtype=bool))
            return RasterWindow(empty, transform, self.crs, self.units)
        if height * width > self.max_window_pixels:
            raise InputError.single(
                self.path,
                f"layer '{self.id}'",
                f"the area asked for covers {height:,} x {width:,} pixels of this raster (at most "
                f"{self.max_window_pixels:,} are read at once)",
                "use a coarser population raster (100 m is the usual), or smaller zones",
            )
        if src is None:
            with self.open() as own:
                data = own.read(self.band, window=window, out_dtype="float64")
        else:
            data = src.read(self.band, window=window, out_dtype="float64")
        mask = np.zeros(data.shape, dtype=bool)
        if self.nodata is not None:
            mask = data == self.nodata if not math.isnan(self.nodata) else np.isnan(data)
        mask |= ~np.isfinite(data)
        if self.scales:
            # Each pixel takes the factor of the area its centre lies in (1 outside every area)
            factors = rasterize(self.scales, out_shape=data.shape, transform=transform, fill=1.0, dtype="float64")
            data = data * factors
        values = np.ma.masked_array(data, mask=mask)
        return RasterWindow(values, transform, self.crs, self.units)


def row_areas_km2(crs: CRS, transform: Affine, rows: int) -> np.ndarray:
    """The area of one pixel in each of ``rows`` rows from the top of ``transform``, in km²."""
    if not crs.is_geographic:
        return np.full(rows, abs(transform.a * transform.e) / 1e6)
    # In degrees a pixel's area shrinks with the cosine of latitude: compute it for each row.
    x0 = transform.c
    x1 = x0 + transform.a
    areas = np.empty(rows)
    for i in range(rows):
        y0 = transform.f + transform.e * i
        y1 = y0 + transform.e
        area, _ = _GEOD.polygon_area_perimeter([x0, x1, x1, x0], [y0, y0, y1, y1])
        areas[i] = abs(area) / 1e6
    return areas


def read_population(layer_id: str, spec: PopulationSpec, path: Path, problems: Collector) -> PopulationLayer | None:
    """Open and check a population raster; problems go to ``problems``."""
    try:
        src = rasterio.open(path, driver=RASTER_DRIVER)
    except RasterioIOError as exc:
        raise DataIOError(f"{path}: cannot be opened as a raster ({exc})") from exc
    with src:
        crs = _check_crs(src.crs, spec.crs, problems)
        nodata = _check_nodata(src.nodata, spec.nodata, problems)
        if src.transform.b != 0 or src.transform.d != 0:
            problems.add(
                "", "the raster is rotated", "warp it north-up first (gdalwarp), then point the manifest at it"
            )
        if spec.band > src.count:
            problems.add(
                "band",
                f"the raster has {src.count} band(s), band {spec.band} was asked for",
                f"set `band:` between 1 and {src.count}",
            )
        if crs is None or problems.problems:
            return None
        layer = PopulationLayer(
            id=layer_id,
            kind="population",
            path=path,
            as_of=spec.as_of,
            max_age_days=spec.max_age_days or DEFAULT_MAX_AGE_DAYS["population"],
            description=spec.description,
            units=spec.units,
            nodata=nodata if isinstance(nodata, float) else None,
            crs=crs,
            transform=src.transform,
            width=src.width,
            height=src.height,
            band=spec.band,
            declared_nodata=src.nodata is None,
        )
        layer.pixel_size_m = _pixel_size_m(layer)
        try:
            _check_sample(layer, src, problems)
        except RasterioError as exc:
            raise DataIOError(f"{path}: pixels cannot be read ({exc})") from exc
    if layer.pixel_size_m > COARSE_PIXEL_M:
        layer.flags.append(
            Flag(
                "coarse_raster",
                layer_id,
                f"population raster '{layer_id}' is coarse (~{layer.pixel_size_m:,.0f} m pixels): "
                "people are spread evenly within each pixel, so counts in small zones are rough",
            )
        )
    return layer


def _check_crs(file_crs: object, declared: str | None, problems: Collector) -> CRS | None:
    declared_crs = None
    if declared is not None:
        try:
            declared_crs = CRS.from_user_input(declared)
        except Exception:
            problems.add("crs", f"unknown CRS '{declared}'", "write it as an EPSG code, e.g. `crs: EPSG:4326`")
            return None
    if file_crs is None:
        if declared_crs is None:
            problems.add("", "the raster has no CRS", "declare it in the manifest, e.g. `crs: EPSG:4326`")
        return declared_crs
    crs = CRS.from_user_input(file_crs)
    if declared_crs is not None and declared_crs != crs:
        problems.add(
            "crs",
            f"the raster's CRS is {crs.to_string()} but the manifest declares {declared_crs.to_string()}",
            "remove or correct `crs:`; a file's own CRS is never overridden",
        )
        return None
    return crs


def _check_nodata(file_nodata: float | None, declared: float | str | None, problems: Collector) -> float | str | None:
    if file_nodata is None:
        if declared is None:
            problems.add(
                "nodata",
                "the raster has no nodata value and the manifest declares none",
                "declare it, e.g. `nodata: -9999`, or `nodata: none` if every pixel holds a real value "
                "(otherwise empty areas would count as people or as zero)",
            )
        return declared
    if declared not in (None, "none") and not _same(float(declared), file_nodata):
        problems.add(
            "nodata",
            f"the raster's nodata is {file_nodata} but the manifest declares {declared}",
            "remove `nodata:` from the manifest, or correct it",
        )
        return None
    if declared == "none":
        problems.add(
            "nodata",
            f"the manifest says `nodata: none` but the raster has nodata {file_nodata}",
            "remove `nodata:` from the manifest",
        )
        return None
    return float(file_nodata)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _pixel_size_m(layer: PopulationLayer) -> float:
    if not layer.crs.is_geographic:
        return math.sqrt(abs(layer.transform.a * layer.transform.e))
    window = row_areas_km2(layer.crs, layer.transform @ Affine.translation(0, layer.height // 2), 1)
    return math.sqrt(float(window[0]) * 1e6)


def _check_sample(layer: PopulationLayer, src: rasterio.DatasetReader, problems: Collector) -> None:
    """Check a sample of at most 256 x 256 pixels: decimated from overviews where the file has them, else
    8 x 8 small windows spread over the raster. A decimated read without overviews would decode every tile
    of a country-sized raster (and fill memory with them) to keep one pixel in a thousand.
    """
    shape = (min(layer.height, SAMPLE_SIDE), min(layer.width, SAMPLE_SIDE))
    if src.overviews(layer.band) or (layer.height <= SAMPLE_SIDE and layer.width <= SAMPLE_SIDE):
        data = src.read(layer.band, out_shape=shape, out_dtype="float64")
    else:
        side = SAMPLE_SIDE // 8
        rows = np.linspace(0, max(layer.height - side, 0), 8).astype(int)
        cols = np.linspace(0, max(layer.width - side, 0), 8).astype(int)
        data = np.concatenate(
            [
                src.read(
                    layer.band,
                    window=Window(c, r, min(side, layer.width), min(side, layer.height)),
                    out_dtype="float64",
                ).ravel()
                for r in rows
                for c in cols
            ]
        )
    valid = np.isfinite(data)
    if layer.nodata is not None and not math.isnan(layer.nodata) and np.isnan(data).any():
        layer.flags.append(
            Flag(
                "nan_pixels",
                layer.id,
                f"raster '{layer.id}' has NaN pixels although its nodata value is {layer.nodata:g}: they are read "
                "as 'no data' (people unknown there, not zero); check how the raster was made",
            )
        )
    if layer.nodata is not None:
        valid &= data != layer.nodata
    values = data[valid]
    if values.size and values.min() < 0:
        problems.add(
            "",
            f"negative population values (lowest {values.min():g}) that are not the nodata value",
            "declare the real nodata value with `nodata:`, or correct the raster",
        )
        return
    if layer.units == "count" and values.size:
        area_km2 = layer.pixel_size_m**2 / 1e6
        implied = float(np.percentile(values, 99)) / area_km2
        if implied > IMPLAUSIBLE_DENSITY_KM2:
            layer.flags.append(
                Flag(
                    "density_as_count",
                    layer.id,
                    f"raster '{layer.id}' is declared as people per pixel, but its values would mean "
                    f"{implied:,.0f} people per km² in its densest pixels: it is probably people per km² "
                    "(set `units: density_km2`)",
                )
            )
