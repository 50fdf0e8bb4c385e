"""Sites from every format users bring, with categories from OSM tags or declared, and bad input refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import feature_collection, point
from shapely.geometry import Point, Polygon

from planner.errors import InputError
from planner.layers import load_layerset
from planner.layers.sites import functional_from_status, osm_category

OSM_FEATURES = [
    ({"id": "n1", "amenity": "hospital", "name": "Hospital"}, point(31.60, 4.85)),
    ({"id": "n2", "amenity": "school", "name": "School"}, point(31.61, 4.85)),
    ({"id": "n3", "amenity": "place_of_worship", "religion": "muslim", "name": "Mosque"}, point(31.62, 4.85)),
    ({"id": "n4", "amenity": "marketplace", "name": "Market"}, point(31.63, 4.85)),
    ({"id": "n5", "man_made": "water_well", "name": None}, point(31.64, 4.85)),
    ({"id": "n6", "power": "substation"}, point(31.65, 4.85)),
    ({"id": "n7", "bridge": "yes", "highway": "primary"}, point(31.66, 4.85)),
    ({"id": "n8", "amenity": "refugee_site", "name": "Camp"}, point(31.67, 4.85)),
    ({"id": "n9", "shop": "kiosk"}, point(31.68, 4.85)),
    ({"id": "n10", "healthcare": "centre", "name": "Health centre"}, point(31.69, 4.85)),
]


def sites(make_manifest, filename: str, content: str | bytes, **spec: object) -> gpd.GeoDataFrame:  # type: ignore[no-untyped-def]
    manifest = make_manifest({"s": {"kind": "sites", "path": filename, **spec}}, {filename: content})
    return load_layerset(manifest).layers["s"].frame


def test_categories_from_osm_tags(make_manifest) -> None:  # type: ignore[no-untyped-def]
    frame = sites(make_manifest, "osm.geojson", feature_collection(OSM_FEATURES))
    assert dict(zip(frame["site_id"], frame["category"], strict=True)) == {
        "n1": "health",
        "n2": "education",
        "n3": "worship",
        "n4": "market",
        "n5": "water",
        "n6": "power",
        "n7": "bridge",
        "n8": "humanitarian",
        "n9": "other",
        "n10": "health",
    }
    assert frame.loc[frame["site_id"] == "n5", "subtype"].item() == "water_well"
    assert frame.loc[frame["site_id"] == "n5", "name"].item() is None


def test_geofabrik_fclass_values_map_too() -> None:
    assert osm_category({"fclass": "christian_catholic"}) == ("worship", "christian_catholic")
    assert osm_category({"fclass": "comms_tower"}) == ("power", "comms_tower")
    assert osm_category({"fclass": "restaurant"}) == ("other", None)
    assert osm_category({"amenity": None, "fclass": "clinic"}) == ("health", "clinic")


def test_one_category_for_a_whole_layer(make_manifest) -> None:  # type: ignore[no-untyped-def]
    frame = sites(make_manifest, "h.geojson", feature_collection(OSM_FEATURES[:3]), category="health")
    assert set(frame["category"]) == {"health"}


def test_category_from_a_declared_column_and_mapping(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "name,type,lat,lon\nA,HOSP,4.85,31.6\nB,SCH,4.86,31.6\nC,KIOSK,4.87,31.6\n"
    frame = sites(
        make_manifest, "s.csv", csv, category_column="type", category_map={"HOSP": "health", "SCH": "education"}
    )
    assert list(frame["category"]) == ["health", "education", "other"]


def test_csv_with_lat_lon_columns(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "facility,latitude,longitude,status\nA,4.85,31.60,Functional\nB,4.86,31.61,Not functional\nC,4.87,31.62,\n"
    frame = sites(make_manifest, "h.csv", csv, category="health", name="facility", status="status")
    assert list(frame["functional"]) == [True, False, None]
    assert frame.geometry.iloc[0].equals(Point(31.60, 4.85))
    assert list(frame["source_row"]) == [2, 3, 4]  # CSV line numbers


def test_csv_with_wkt_geometry(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = 'name,wkt\nA,"POLYGON ((31.6 4.85, 31.61 4.85, 31.61 4.86, 31.6 4.85))"\nB,POINT (31.7 4.9)\n'
    frame = sites(make_manifest, "s.csv", csv, category="education")
    assert list(frame.geometry.geom_type) == ["Polygon", "Point"]


def test_geopackage_and_zipped_shapefile(make_manifest, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = gpd.GeoDataFrame(
        {"amenity": ["school", "clinic"], "name": ["S", "C"]},
        geometry=[Point(31.6, 4.85), Point(31.7, 4.9)],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "s.gpkg", layer="pois")
    (tmp_path / "shp").mkdir()
    frame.to_file(tmp_path / "shp" / "s.shp")
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as archive:
        for part in (tmp_path / "shp").iterdir():
            archive.write(part, part.name)
    manifest = make_manifest(
        {
            "gpkg": {"kind": "sites", "path": "s.gpkg", "layer": "pois"},
            "shp": {"kind": "sites", "path": "shp/s.shp"},
            "zip": {"kind": "sites", "path": "s.zip"},
        }
    )
    layerset = load_layerset(manifest)
    for layer_id in ("gpkg", "shp", "zip"):
        assert list(layerset.layers[layer_id].frame["category"]) == ["education", "health"], layer_id


def test_projected_file_is_read_into_wgs84(make_manifest, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = gpd.GeoDataFrame({"amenity": ["school"]}, geometry=[Point(342_550, 536_250)], crs="EPSG:32636")
    frame.to_file(tmp_path / "utm.gpkg")
    layer = load_layerset(make_manifest({"s": {"kind": "sites", "path": "utm.gpkg"}})).layers["s"]
    assert layer.source_crs == "EPSG:32636"
    assert layer.frame.crs.to_epsg() == 4326
    assert (layer.frame.geometry.iloc[0].x, layer.frame.geometry.iloc[0].y) == pytest.approx(
        (31.58013, 4.85001), abs=1e-5
    )


# --- bad input: every problem named with its row and its fix ---------------------------------------------


def test_missing_crs_is_refused_unless_declared(make_manifest, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = gpd.GeoDataFrame({"amenity": ["school"]}, geometry=[Point(31.6, 4.85)])
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # the user's GIS made such a file
        frame.to_file(tmp_path / "nocrs.shp")
    manifest = make_manifest({"s": {"kind": "sites", "path": "nocrs.shp"}})
    with pytest.raises(InputError, match=r"nocrs.shp \(layer 's'\).*has no CRS.*crs: EPSG:4326"):
        load_layerset(manifest)
    ok = make_manifest({"s": {"kind": "sites", "path": "nocrs.shp", "crs": "EPSG:4326"}})
    assert len(load_layerset(ok).layers["s"].frame) == 1


def test_crs_that_contradicts_the_declaration(make_manifest, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(342_550, 536_250)], crs="EPSG:32636").to_file(tmp_path / "u.gpkg")
    manifest = make_manifest({"s": {"kind": "sites", "path": "u.gpkg", "crs": "EPSG:4326"}})
    with pytest.raises(InputError, match=r"CRS is EPSG:32636 but the manifest declares EPSG:4326"):
        load_layerset(manifest)


def test_lat_lon_out_of_range_and_swapped(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "name,lat,lon\nA,31.60,4.85\nB,131.61,4.86\n"
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": csv})
    with pytest.raises(InputError, match=r"line 3.*latitude outside -90..90.*look swapped: exchange `lat:` and `lon:`"):
        load_layerset(manifest)


def test_non_numeric_coordinates_name_their_lines(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "name,lat,lon\nA,4.85,31.6\nB,,31.6\nC,north,31.6\n"
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": csv})
    with pytest.raises(InputError, match=r"lines 3, 4: empty or non-numeric 'lat'/'lon'"):
        load_layerset(manifest)


def test_invalid_and_empty_geometries_are_refused_not_repaired(make_manifest) -> None:  # type: ignore[no-untyped-def]
    bowtie = {"type": "Polygon", "coordinates": [[[31.6, 4.8], [31.7, 4.9], [31.7, 4.8], [31.6, 4.9], [31.6, 4.8]]]}
    content = feature_collection(
        [({"amenity": "school"}, point(31.6, 4.85)), ({"amenity": "school"}, bowtie), ({"amenity": "school"}, None)]
    )
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.geojson"}}, {"s.geojson": content})
    with pytest.raises(InputError) as caught:
        load_layerset(manifest)
    text = str(caught.value)
    assert "feature 3: empty or missing geometry" in text
    assert "feature 2: invalid geometry (first: Self-intersection" in text
    assert "Fix Geometries" in text
    assert len(caught.value.problems) == 2  # both reported at once


def test_a_western_csv_that_is_not_utf8_is_read_and_says_its_encoding(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = "name,lat,lon\nA,4.85,31.6\nCaf\xe9 \x93Amiti\xe9\x94,4.86,31.6\n".encode("latin-1")
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": content})
    layer = load_layerset(manifest).layers["s"]
    assert layer.frame["name"].tolist() == ["A", "Café “Amitié”"]  # 0x93/0x94 are cp1252's quotes
    assert layer.read_as["encoding"] == "cp1252"


def test_an_encoding_no_reader_can_tell_is_refused_with_the_key(make_manifest) -> None:  # type: ignore[no-untyped-def]
    # 0x81 and 0x90 are no character of cp1252 and control codes in latin-1: neither encoding wrote this
    content = b"name,lat,lon\nA\x81\x90,4.85,31.6\n"
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": content})
    with pytest.raises(InputError, match=r"line 2: the file is not UTF-8.*encoding: cp1252"):
        load_layerset(manifest)


def test_missing_columns_are_named_with_the_columns_there_are(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "nom,latitude,longitude\nA,4.85,31.6\n"
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health", "name": "name", "status": "etat"}},
        {"s.csv": csv},
    )
    with pytest.raises(InputError) as caught:
        load_layerset(manifest)
    assert {p.where for p in caught.value.problems} == {"name", "status"}
    assert "columns are: nom, latitude, longitude" in str(caught.value)


def test_csv_without_coordinates_asks_for_the_columns(make_manifest) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": "name,x_utm,y_utm\nA,1,2\n"}
    )
    with pytest.raises(InputError, match=r"no lat column found.*`lat: <column>`"):
        load_layerset(manifest)


def test_polygon_sites_are_kept_as_polygons(make_manifest) -> None:  # type: ignore[no-untyped-def]
    square = Polygon([(31.6, 4.8), (31.61, 4.8), (31.61, 4.81), (31.6, 4.81)])
    content = feature_collection([({"amenity": "hospital"}, square.__geo_interface__)])
    frame = sites(make_manifest, "s.geojson", content)
    assert frame.geometry.iloc[0].equals(square)


def test_unknown_declared_crs(make_manifest) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health", "crs": "EPSG:999999"}},
        {"s.csv": "name,lat,lon\nA,4.85,31.6\n"},
    )
    with pytest.raises(InputError, match=r"crs: unknown CRS 'EPSG:999999'.*EPSG code"):
        load_layerset(manifest)


def test_people_present_at_a_site_come_from_its_occupancy_column_and_a_bad_value_is_flagged(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "id,name,lat,lon,capacity\nm1,Market,4.85,31.60,650\nm2,School,4.86,31.61,many\nm3,Clinic,4.87,31.62,\n"
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "market"}}, {"s.csv": csv})
    layer = load_layerset(manifest).layers["s"]
    assert layer.frame["occupancy"].tolist()[0] == 650
    assert layer.frame["occupancy"].isna().tolist() == [False, True, True]
    [flag] = [f for f in layer.flags if f.code == "occupancy_unreadable"]
    assert flag.rows == (3,) and "'capacity'" in flag.message  # the file's line 3: "many" is not a number


@pytest.mark.parametrize(
    ("status", "works"),
    [
        ("Non fonctionnel", False),
        ("Fermé", False),
        ("Détruit", False),
        ("Hors service", False),
        ("Abandonnée", False),
        ("Fonctionnel", True),
        ("Partiellement fonctionnel", True),
        ("Functional", True),
        ("Not functional", False),
        ("Moderately Functional", True),
        ("needs repairs", True),
        ("operational", True),
        ("Inconnu", None),
        ("under the mango tree", None),  # unrecognised: unknown and flagged, never working
        ("", None),
    ],
)
def test_status_words_in_french_and_english(status: str, works: bool | None) -> None:
    assert functional_from_status(status) is works
