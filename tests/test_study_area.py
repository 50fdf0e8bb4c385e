"""Roads read over the study area only: the same roads where the assessment looks, the same feature numbers,
the same figures as a whole reading, and a clear refusal when a layer read for one area is asked of another."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.assess import assess, reading_area
from planner.errors import InputError
from planner.layers import load_layerset
from planner.plan import load_plan, open_plan

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PLAN = ROOT / "scenarios" / "sample.yaml"
JUBA_PLAN = Path(__file__).resolve().parent / "scenarios" / "juba_poc.yaml"


def _lattice(n: int = 12) -> gpd.GeoDataFrame:
    """Short roads on a 0.1° lattice over 31.0-32.1 E, 4.0-5.1 N, numbered across the whole frame."""
    lines, ids = [], []
    for i in range(n):
        for j in range(n):
            x, y = 31.0 + 0.1 * i, 4.0 + 0.1 * j
            lines.append(shapely.LineString([(x, y), (x + 0.1, y)]))
            ids.append(f"r{i}-{j}")
    return gpd.GeoDataFrame({"road_id": ids, "highway": "primary"}, geometry=lines, crs="EPSG:4326")


AREA = (31.32, 4.32, 31.58, 4.61)


def _expected(manifest: Path, area: tuple[float, float, float, float]) -> list[tuple[int, str]]:
    """(feature number, id) of the roads of a whole reading whose extent meets ``area``, as a user would pick
    them in QGIS: what a reading over ``area`` must give."""
    whole = load_layerset(manifest).layers["roads"].frame
    west, south, east, north = area
    bounds = shapely.bounds(whole.geometry.to_numpy())
    meets = (bounds[:, 0] <= east) & (bounds[:, 2] >= west) & (bounds[:, 1] <= north) & (bounds[:, 3] >= south)
    return list(zip(whole["source_row"][meets].astype(int), whole["road_id"][meets], strict=True))


def _read(manifest: Path, area: tuple[float, float, float, float]) -> list[tuple[int, str]]:
    frame = load_layerset(manifest, area=area).layers["roads"].frame
    return list(zip(frame["source_row"].astype(int), frame["road_id"], strict=True))


@pytest.mark.parametrize("name", ["roads.gpkg", "roads.fgb", "roads.shp", "roads.geojson", "roads.kml"])
def test_roads_read_over_an_area_keep_their_feature_numbers(make_manifest, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    _lattice().to_file(tmp_path / name, driver="KML" if name.endswith(".kml") else None)
    manifest = make_manifest({"roads": {"kind": "roads", "path": name, "id": "road_id"}})
    got = _read(manifest, AREA)
    assert got == _expected(manifest, AREA)
    assert 0 < len(got) < len(_lattice()) / 4
    layer = load_layerset(manifest, area=AREA).layers["roads"]
    assert layer.area == AREA and layer.summary(date(2026, 12, 1))["read_within"] == list(AREA)
    assert load_layerset(manifest).layers["roads"].area is None


def test_a_geopackage_with_gaps_in_its_ids_numbers_features_as_the_file_holds_them(
    make_manifest,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    path = tmp_path / "roads.gpkg"
    _lattice().to_file(path)
    with sqlite3.connect(path) as db:  # a feature deleted in QGIS leaves a gap in the ids
        db.execute("DELETE FROM roads WHERE fid = 3")
    manifest = make_manifest({"roads": {"kind": "roads", "path": "roads.gpkg", "id": "road_id"}})
    area = (31.0, 4.0, 31.05, 4.35)
    got = _read(manifest, area)
    assert got == _expected(manifest, area)
    assert got[:3] == [(1, "r0-0"), (2, "r0-1"), (3, "r0-3")]  # r0-3 is the third feature now, as QGIS counts


def test_a_csv_of_wkt_roads_is_filtered_before_its_rows_are_checked(make_manifest) -> None:  # type: ignore[no-untyped-def]
    lines = [
        "road_id,highway,wkt",
        'far,primary,"LINESTRING (33 6, 33.1 6)"',
        'near,track,"LINESTRING (31.4 4.4, 31.5 4.4)"',
        'a-polygon-far-away,track,"POLYGON ((33 6, 33.1 6, 33.1 6.1, 33 6.1, 33 6))"',
    ]
    manifest = make_manifest(
        {"roads": {"kind": "roads", "path": "r.csv", "id": "road_id"}}, {"r.csv": "\n".join(lines)}
    )
    assert _read(manifest, AREA) == [(3, "near")]
    with pytest.raises(InputError, match="not a line"):  # read whole, the polygon is refused
        load_layerset(manifest)


@pytest.fixture(scope="module")
def lattice_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lattice")
    _lattice().to_file(folder / "roads.gpkg")
    (folder / "m.yaml").write_text("area: t\nlayers:\n  roads: {kind: roads, path: roads.gpkg, id: road_id}\n")
    return folder / "m.yaml"


@settings(max_examples=25, deadline=None)
@given(
    west=st.floats(30.8, 32.2),
    south=st.floats(3.8, 5.2),
    width=st.floats(0.01, 0.6),
    height=st.floats(0.01, 0.6),
)
def test_an_area_read_keeps_exactly_the_roads_of_a_whole_read_that_meet_it(
    lattice_manifest: Path, west: float, south: float, width: float, height: float
) -> None:
    area = (west, south, west + width, south + height)
    assert _read(lattice_manifest, area) == _expected(lattice_manifest, area)


def test_the_sample_assessed_from_its_study_area_gives_the_figures_of_a_whole_reading() -> None:
    plan, layerset = open_plan(SAMPLE_PLAN)
    assert layerset.layers["roads"].area == reading_area(plan)
    whole = assess(plan, load_layerset(plan.layers_path)).to_dict()
    area_read = assess(plan, layerset).to_dict()
    assert area_read["coas"] == whole["coas"]
    assert area_read["comparison"] == whole["comparison"]
    read_within = {e["kind"]: e.get("read_within") for e in area_read["provenance"]["layers"] if e.get("read_within")}
    assert read_within == {"roads": list(reading_area(plan)), "threats": list(reading_area(plan))}


def test_juba_assessed_from_its_study_area_gives_the_figures_of_a_whole_reading(realdata: Path) -> None:
    plan, layerset = open_plan(JUBA_PLAN)
    roads = layerset.layers["roads"]
    whole_roads = load_layerset(plan.layers_path).layers["roads"]
    assert 0 < len(roads) <= len(whole_roads)
    area_read = assess(plan, layerset).to_dict()
    whole = assess(plan, load_layerset(plan.layers_path)).to_dict()
    for mine, theirs in zip(area_read["coas"], whole["coas"], strict=True):
        assert mine["access"] == theirs["access"]
        assert mine["risk"] == theirs["risk"]


def test_a_layer_set_read_for_one_area_is_refused_for_a_plan_elsewhere(tmp_path: Path) -> None:
    plan = load_plan(SAMPLE_PLAN)
    west, south, east, north = reading_area(plan)
    small = (west + (east - west) * 0.45, south + (north - south) * 0.45, east, north)
    layerset = load_layerset(plan.layers_path, area=small)
    with pytest.raises(ValueError, match=r"roads of 'roads' were read for another study area"):
        assess(plan, layerset)


def test_a_geopackage_layer_named_with_quotes_is_read_over_the_area(make_manifest, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _lattice().to_file(tmp_path / "roads.gpkg", layer='main "roads"')
    manifest = make_manifest(
        {"roads": {"kind": "roads", "path": "roads.gpkg", "layer": 'main "roads"', "id": "road_id"}}
    )
    assert _read(manifest, AREA) == _expected(manifest, AREA) != []


@pytest.mark.parametrize("name", ["roads.gpkg", "roads.geojson", "roads.csv"])
def test_a_study_area_without_roads_is_not_an_empty_roads_file(make_manifest, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """Roads read for an area they do not reach: none there, and the file is not called empty (it holds 144
    roads elsewhere). A file with no roads at all still is."""
    roads = _lattice()
    if name.endswith(".csv"):
        (tmp_path / name).write_text(
            roads.assign(wkt=roads.geometry.to_wkt()).drop(columns="geometry").to_csv(index=False)
        )
    else:
        roads.to_file(tmp_path / name)
    manifest = make_manifest({"roads": {"kind": "roads", "path": name, "id": "road_id"}})
    far = (33.0, 6.0, 33.2, 6.2)
    layer = load_layerset(manifest, area=far).layers["roads"]
    assert len(layer) == 0 and layer.file_rows == len(roads)
    assert not [f for f in layer.flags if f.code == "empty"]
    roads.iloc[:0].to_file(tmp_path / "none.gpkg")
    manifest = make_manifest({"roads": {"kind": "roads", "path": "none.gpkg", "id": "road_id"}})
    assert [f.code for f in load_layerset(manifest, area=far).layers["roads"].flags if f.code == "empty"] == ["empty"]
