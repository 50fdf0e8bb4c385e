"""CRS discipline and the coordinates planners type.

Metric work happens only in a projected working CRS (the UTM zone of the footprint); display and exchange
use EPSG:4326 with longitude first, as GeoJSON does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

import mgrs
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)

# One coordinate: optional hemisphere letter before or after; degrees, optional minutes and seconds.
_COORD = re.compile(
    r"""^\s*(?P<pre>[NSEW])?\s*
        (?P<deg>[+-]?\d+(?:\.\d+)?)\s*(?:°|º|\s)?\s*
        (?:(?P<min>\d+(?:\.\d+)?)\s*(?:'|′|\s)?\s*)?
        (?:(?P<sec>\d+(?:\.\d+)?)\s*(?:"|″|'')?\s*)?
        (?P<post>[NSEW])?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_MGRS = re.compile(r"^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d*)$", re.IGNORECASE)


class CoordinateError(ValueError):
    """A typed coordinate that cannot be read; the message says which forms are accepted."""


def parse_position(value: object) -> tuple[float, float]:
    """Read a position as planners write it and return ``(lon, lat)`` in EPSG:4326.

    Accepted: a ``[lon, lat]`` pair (GeoJSON order); an MGRS reference (``36NUL4253536248``, spaces
    allowed, the centre of the referenced square is returned); two coordinates with hemisphere letters in
    decimal degrees or degrees-minutes-seconds (``4.86N 31.59E``, ``4°51'36"N 31°35'24"E``), in either order.
    A bare ``"4.86, 31.59"`` is refused: without letters it is not clear which number is the latitude.
    """
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise CoordinateError(f"a position list must be two numbers [lon, lat], got {value!r}")
        lon, lat = float(value[0]), float(value[1])
        _check_range(lon, lat, hint="the list order is [lon, lat]")
        return lon, lat
    if not isinstance(value, str):
        raise CoordinateError(f"a position must be [lon, lat], an MGRS reference or text with N/S/E/W, got {value!r}")
    text = value.strip()
    compact = re.sub(r"\s+", "", text)
    if _MGRS.match(compact):
        return parse_mgrs(compact)
    return _parse_lat_lon_text(text)


def parse_mgrs(text: str) -> tuple[float, float]:
    """Return ``(lon, lat)`` of the centre of the square an MGRS reference names.

    A reference names a square, not a point: ``36NUL4253536248`` is a 1 m square, ``36NUL425362`` a 100 m
    one. Its centre is the best single estimate (the mgrs package returns centres); a reference with no
    digits (a 100 km square) is refused.
    """
    compact = re.sub(r"\s+", "", text).upper()
    match = _MGRS.match(compact)
    if not match:
        raise CoordinateError(f"{text!r} is not an MGRS reference like 36NUL4253536248")
    digits = match.group(4)
    if not digits or len(digits) % 2 or len(digits) > 10:
        raise CoordinateError(
            f"MGRS reference {text!r} needs an even number of digits (2 to 10) after the 100 km square, "
            "e.g. 36NUL4253536248"
        )
    try:
        zone, hemisphere, easting, northing = mgrs.MGRS().MGRSToUTM(compact)
    except Exception as exc:  # the mgrs package raises a bare MGRSError(Exception)
        raise CoordinateError(f"MGRS reference {text!r} is not valid ({exc})") from exc
    utm = CRS.from_epsg((32600 if hemisphere == "N" else 32700) + int(zone))
    lon, lat = _transformer(utm, WGS84).transform(easting, northing)
    return float(lon), float(lat)


def to_mgrs(lon: float, lat: float, *, precision: int = 5) -> str:
    """MGRS reference of a point, ``precision`` digits per axis (5 = 1 m)."""
    return str(mgrs.MGRS().toMGRS(lat, lon, MGRSPrecision=precision))


def _parse_lat_lon_text(text: str) -> tuple[float, float]:
    letters = list(re.finditer(r"[NSEW]", text, re.IGNORECASE))
    if len(letters) != 2:
        raise CoordinateError(
            f"cannot read position {text!r}: write it as [lon, lat], an MGRS reference, "
            "or with one hemisphere letter per coordinate like 4.86N 31.59E"
        )
    # Letters either all lead ('N4.86 E31.59') or all follow ('4.86N 31.59E'): split at the second
    # coordinate's start.
    cut = letters[1].start() if text.strip()[0].upper() in "NSEW" else letters[0].end()
    parts = [p.strip(" ,;") for p in (text[:cut], text[cut:])]
    values: dict[str, float] = {}
    for part in parts:
        axis, number = _parse_coordinate(part, whole=text)
        if axis in values:
            raise CoordinateError(f"position {text!r} gives two {'latitudes' if axis == 'lat' else 'longitudes'}")
        values[axis] = number
    lon, lat = values["lon"], values["lat"]
    _check_range(lon, lat, hint="check the hemisphere letters")
    return lon, lat


def _parse_coordinate(part: str, *, whole: str) -> tuple[str, float]:
    m = _COORD.match(part)
    if not m:
        raise CoordinateError(f"cannot read {part!r} in position {whole!r}")
    pre, post = m.group("pre"), m.group("post")
    if bool(pre) == bool(post):
        raise CoordinateError(
            f"{part!r} in position {whole!r} needs one hemisphere letter (N, S, E or W) to say "
            "whether it is a latitude or a longitude"
        )
    hemisphere = (pre or post).upper()
    deg = float(m.group("deg"))
    minutes = float(m.group("min") or 0)
    seconds = float(m.group("sec") or 0)
    if minutes >= 60 or seconds >= 60 or deg < 0:
        raise CoordinateError(f"{part!r} in position {whole!r}: minutes and seconds must be below 60, degrees positive")
    if (m.group("min") or m.group("sec")) and deg != int(deg):
        raise CoordinateError(f"{part!r} in position {whole!r}: decimal degrees cannot carry minutes too")
    number = deg + minutes / 60 + seconds / 3600
    sign = -1 if hemisphere in "SW" else 1
    return ("lat" if hemisphere in "NS" else "lon"), sign * number


def _check_range(lon: float, lat: float, *, hint: str) -> None:
    if not (-180 <= lon <= 180) or not (-90 <= lat <= 90):
        raise CoordinateError(f"position lon={lon}, lat={lat} is out of range ({hint})")


def working_crs(bounds: tuple[float, float, float, float]) -> CRS:
    """The UTM CRS to do metric work in for a footprint given by its EPSG:4326 bounds."""
    west, south, east, north = bounds
    # A footprint straddling a zone edge is worked in the zone of its centre; the distortion a few
    # degrees beyond a zone edge stays well under the precision of the inputs.
    lon_c, lat_c = (west + east) / 2, (south + north) / 2
    zone = int((lon_c + 180) // 6) + 1
    epsg = (32600 if lat_c >= 0 else 32700) + min(max(zone, 1), 60)
    return CRS.from_epsg(epsg)


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def transformer(src: CRS, dst: CRS) -> Transformer:
    """A cached, always-xy transformer between two CRSs, found by each CRS's own text: hashing a CRS object
    writes its whole WKT each time, a cost paid on every call (hundreds in an assessment of many COAs)."""
    return _transformer(CRS.from_user_input(src).srs, CRS.from_user_input(dst).srs)


# Up to this many vertices, measuring segment by segment in numpy beats a GEOS call per point.
_SEGMENTS_BY_HAND = 24


def distance_xy(geometry: BaseGeometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Planar distance from many points (arrays of x and y) to a point, route or area, in CRS units.

    The same numbers as ``shapely.distance(shapely.points(x, y), geometry)`` without making a geometry per
    point, which costs more than the arithmetic when a raster's pixel centres are measured: areas are 0
    inside and the distance to their rings outside; routes and rings are measured segment by segment.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if geometry.is_empty:
        return np.full(x.shape, np.inf)
    if shapely.get_num_coordinates(geometry) > _SEGMENTS_BY_HAND:
        # Long routes and detailed areas: GEOS's per-point cost is then below a numpy pass per segment.
        return shapely.distance(shapely.points(x, y), geometry)
    parts = getattr(geometry, "geoms", [geometry])
    if all(p.geom_type == "Point" for p in parts):
        coords = shapely.get_coordinates(geometry)
        best = np.full(x.shape, np.inf)
        for px, py in coords:
            np.minimum(best, np.hypot(x - px, y - py), out=best)
        return best
    if any(p.geom_type == "Polygon" for p in parts):
        inside = shapely.contains_xy(geometry, x, y)  # points on a ring get 0 from the ring below
        lines = shapely.get_parts(geometry.boundary)
    else:
        inside = np.zeros(x.shape, dtype=bool)
        lines = np.array([p for p in parts if not p.is_empty], dtype=object)
    best = np.full(x.shape, np.inf)
    for line in lines:
        coords = shapely.get_coordinates(line)
        if len(coords) == 1:
            np.minimum(best, np.hypot(x - coords[0, 0], y - coords[0, 1]), out=best)
        for (ax, ay), (bx, by) in itertools.pairwise(coords):
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            t = np.clip(((x - ax) * dx + (y - ay) * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
            np.minimum(best, np.hypot(x - (ax + t * dx), y - (ay + t * dy)), out=best)
    best[inside] = 0.0
    return best


# Pixel grids are projected exactly every this many pixels and interpolated in between: over 8 pixels of
# any population raster the projections in use bend by far less than a millimetre.
GRID_STEP = 8


def project_grid(xs: np.ndarray, ys: np.ndarray, src: CRS, dst: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``dst`` of the grid ``xs`` x ``ys`` (1-D, in ``src``), as two (len(ys), len(xs)) arrays.

    Projecting every pixel centre costs more than everything else done with them; the grid is projected
    exactly at every ``GRID_STEP``-th row and column (and the last) and bilinearly interpolated between, as
    GDAL's approximate transformer does when warping.
    """
    if src == dst:
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy
    rows = np.unique(np.r_[np.arange(0, ys.size, GRID_STEP), ys.size - 1])
    cols = np.unique(np.r_[np.arange(0, xs.size, GRID_STEP), xs.size - 1])
    cx, cy = np.meshgrid(xs[cols], ys[rows])
    px, py = transformer(src, dst).transform(cx, cy)
    # Bilinear interpolation on a rectilinear grid is separable: fine = rows_weights @ coarse @ cols_weights.T
    row_weights, col_weights = _hat_weights(ys.size, rows), _hat_weights(xs.size, cols)
    return row_weights @ np.asarray(px) @ col_weights.T, row_weights @ np.asarray(py) @ col_weights.T


def _hat_weights(size: int, knots: np.ndarray) -> np.ndarray:
    """Linear-interpolation weights of positions 0..size-1 on the ``knots``: (size, len(knots))."""
    unit = np.eye(knots.size)
    return np.column_stack([np.interp(np.arange(size), knots, unit[k]) for k in range(knots.size)])


def box_text(box: tuple[float, float, float, float]) -> str:
    """A box in degrees as a user reads it: '31.500..31.620 E, 4.800..4.910 N'."""
    west, south, east, north = box
    return f"{west:.3f}..{east:.3f} E, {south:.3f}..{north:.3f} N"
