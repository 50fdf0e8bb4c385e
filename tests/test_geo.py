"""Positions as planners type them: [lon, lat], MGRS, decimal or DMS degrees with hemisphere letters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from pyproj import Geod

from planner.geo import (
    WGS84,
    CoordinateError,
    distance_xy,
    parse_mgrs,
    parse_position,
    project_grid,
    to_mgrs,
    transformer,
    working_crs,
)

GEOD = Geod(ellps="WGS84")


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def test_list_is_lon_lat_in_geojson_order() -> None:
    assert parse_position([31.59, 4.86]) == (31.59, 4.86)


def test_mgrs_of_the_issue_example_lands_in_juba() -> None:
    lon, lat = parse_position("36NUL4253536248")
    assert 31.57 < lon < 31.59 and 4.84 < lat < 4.86


def test_mgrs_with_spaces_is_the_same_point() -> None:
    assert parse_position("36N UL 42535 36248") == parse_position("36NUL4253536248")


def test_mgrs_gives_the_centre_of_the_named_square() -> None:
    # A 6-digit reference names a 100 m square; its centre is 50 m east and north of its corner,
    # whose 1 m square (10 digits) is centred 0.5 m in.
    corner = parse_mgrs("36NUL4250036200")
    centre = parse_mgrs("36NUL425362")
    assert metres_between(corner, centre) == pytest.approx(math.hypot(49.5, 49.5), abs=0.5)


@pytest.mark.parametrize(
    "text",
    ["4.86N 31.59E", "31.59E 4.86N", "4.86N, 31.59E", "N4.86 E31.59", "4°51'36\"N 31°35'24\"E", "4 51 36N, 31 35 24E"],
)
def test_degrees_with_hemisphere_letters(text: str) -> None:
    lon, lat = parse_position(text)
    assert lon == pytest.approx(31.59) and lat == pytest.approx(4.86)


def test_southern_and_western_hemispheres_are_negative() -> None:
    assert parse_position("12°30'S 15°15'W") == pytest.approx((-15.25, -12.5))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("4.86, 31.59", "hemisphere letter"),  # which is the latitude?
        ("36NUL", "even number of digits"),  # a 100 km square is no position
        ("36NUL123", "even number of digits"),
        ("36NUL42535362481234", "even number of digits"),
        ("99ZZZ1234", "cannot read"),
        ("61NUL1234", "not valid"),
        ([31.59], "two numbers"),
        ([4.86, 95.0], "out of range"),
        ("4°61'N 31°35'E", "below 60"),
        ("4.86N 5.2N", "two latitudes"),
        (42, "MGRS"),
    ],
)
def test_malformed_positions_say_what_is_accepted(value: object, says: str) -> None:
    with pytest.raises(CoordinateError, match=says):
        parse_position(value)


@given(
    lon=st.floats(min_value=-179.9, max_value=179.9),
    lat=st.floats(min_value=-79.9, max_value=83.9),  # MGRS covers the UTM band of latitudes
)
def test_mgrs_round_trip_stays_within_its_1m_square(lon: float, lat: float) -> None:
    # Within a nanodegree of the equator the mgrs package cannot read back what it writes (its
    # southern-band northing rounds to 10,000 km); no planner types such a point.
    assume(abs(lat) > 1e-6)
    back = parse_position(to_mgrs(lon, lat))
    assert metres_between((lon, lat), back) < 1.5


@given(
    lat=st.floats(min_value=0, max_value=89.99),
    lon=st.floats(min_value=0, max_value=179.99),
    north=st.booleans(),
    east=st.booleans(),
)
def test_dms_round_trip(lat: float, lon: float, north: bool, east: bool) -> None:
    def dms(value: float) -> str:
        # Round once, in ten-thousandths of a second, so 59.99999" carries into the next minute.
        total = round(value * 36_000_000)
        d, rest = divmod(total, 36_000_000)
        m, s = divmod(rest, 600_000)
        return f"{d}°{m}'{s / 10_000:.4f}\""

    text = f"{dms(lat)}{'N' if north else 'S'} {dms(lon)}{'E' if east else 'W'}"
    got_lon, got_lat = parse_position(text)
    assert got_lat == pytest.approx(lat if north else -lat, abs=1e-6)
    assert got_lon == pytest.approx(lon if east else -lon, abs=1e-6)


def test_working_crs_is_the_utm_zone_of_the_footprint() -> None:
    assert working_crs((31.4, 4.7, 31.75, 5.0)).to_epsg() == 32636  # Juba
    assert working_crs((18.5, 4.3, 18.6, 4.4)).to_epsg() == 32634  # Bangui
    assert working_crs((-70.7, -33.5, -70.6, -33.4)).to_epsg() == 32719  # southern hemisphere


_coord = st.floats(-1000, 1000, allow_nan=False).map(lambda v: round(v, 2))  # centimetres, as plans are drawn
_vertices = st.lists(st.tuples(_coord, _coord), min_size=2, max_size=8)


@st.composite
def _element_geometry(draw: st.DrawFn) -> shapely.Geometry:
    """A point, a route, or an area (possibly with a hole), as plan elements are."""
    kind = draw(st.sampled_from(["point", "route", "area", "holed", "detailed"]))
    if kind == "point":
        return shapely.Point(draw(_coord), draw(_coord))
    if kind == "route":
        return shapely.LineString(draw(_vertices))
    cx, cy, r = draw(_coord), draw(_coord), draw(st.floats(10, 500))
    area = shapely.box(cx - r, cy - r, cx + r, cy + r)
    if kind == "holed":
        return area.difference(shapely.box(cx - r / 2, cy - r / 2, cx + r / 2, cy + r / 2))
    if kind == "detailed":  # more vertices than the hand-measured path takes
        return shapely.Point(cx, cy).buffer(r)
    return area


@given(_element_geometry(), st.lists(st.tuples(_coord, _coord), min_size=1, max_size=30))
def test_distance_from_pixel_centres_agrees_with_shapely(geometry: shapely.Geometry, points: list) -> None:
    x, y = np.array(points).T
    expected = shapely.distance(shapely.points(x, y), geometry)
    assert np.allclose(distance_xy(geometry, x, y), expected, rtol=1e-9, atol=1e-6)


def test_distance_to_an_area_is_zero_inside_and_to_its_edge_outside() -> None:
    square = shapely.box(0, 0, 10, 10)
    assert distance_xy(square, np.array([5.0, 13.0, 10.0]), np.array([5.0, 14.0, 3.0])).tolist() == [0.0, 5.0, 0.0]


@given(st.floats(-60, 60), st.floats(-170, 170), st.integers(1, 300), st.integers(1, 300))
def test_pixel_grids_project_to_within_a_centimetre(lat: float, lon: float, rows: int, cols: int) -> None:
    """A 100 m-pixel window anywhere: interpolated centres stay within 1 cm of exactly projected ones."""
    xs = lon + 0.0009 * (np.arange(cols) + 0.5)
    ys = lat - 0.0009 * (np.arange(rows) + 0.5)
    crs = working_crs((lon, lat - 0.3, lon + 0.3, lat))
    gx, gy = project_grid(xs, ys, WGS84, crs)
    ex, ey = transformer(WGS84, crs).transform(*np.meshgrid(xs, ys))
    assert gx.shape == (rows, cols)
    assert np.abs(gx - ex).max() < 0.01
    assert np.abs(gy - ey).max() < 0.01
