"""Displacement sites: DTM-like and HXL CSVs, polygons; unknown figures stay unknown, rough locations flagged."""

from __future__ import annotations

import math

import pytest
from conftest import feature_collection, point

from planner.errors import InputError
from planner.layers import load_layerset

HXL = (
    "Site name,Latitude,Longitude,IDPs,Reported\n"
    "#loc+name,#geo+lat,#geo+lon,#affected +ind +idps,#date+reported\n"
    'Camp A,4.85,31.60,"1,200",2025-05-01\n'
    "Camp B,4.86,31.61,300,2025-05-03\n"
)


def load(make_manifest, files: dict[str, str], **spec: object):  # type: ignore[no-untyped-def]
    name = next(iter(files))
    manifest = make_manifest({"idp": {"kind": "displacement", "path": name, **spec}}, files)
    return load_layerset(manifest).layers["idp"]


def test_hxl_tags_find_the_columns(make_manifest) -> None:  # type: ignore[no-untyped-def]
    layer = load(make_manifest, {"s.csv": HXL})
    frame = layer.frame
    assert list(frame["name"]) == ["Camp A", "Camp B"]
    assert list(frame["population"]) == [1200, 300]  # '1,200' is a thousands separator
    assert [d.date().isoformat() for d in frame["population_date"]] == ["2025-05-01", "2025-05-03"]
    assert list(frame["source_row"]) == [3, 4]  # the tag row is line 2
    assert layer.as_of.isoformat() == "2025-05-03"


def test_dtm_like_csv_with_declared_columns(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = (
        "site_id,site_name,latitude,longitude,households,individuals,assessment_date,site_type\n"
        "S1,Alpha,4.85,31.6,100,520,2025-04-01,camp\nS2,Beta,4.9,31.7,10,,2025-04-02,collective centre\n"
    )
    layer = load(
        make_manifest, {"dtm.csv": csv}, lat="latitude", lon="longitude", population="individuals", as_of="2025-04-02"
    )
    frame = layer.frame
    assert frame.loc[0, "population"] == 520
    assert math.isnan(frame.loc[1, "population"])  # unknown, not zero
    assert [f.code for f in layer.flags] == ["population_unknown"]
    assert layer.flags[0].rows == (3,)
    assert list(frame["site_type"]) == ["camp", "collective centre"]


def test_polygon_sites(make_manifest) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[31.6, 4.8], [31.61, 4.8], [31.61, 4.81], [31.6, 4.81], [31.6, 4.8]]]}
    layer = load(
        make_manifest,
        {"s.geojson": feature_collection([({"name": "PoC 1", "ind": 15000}, square)])},
        population="ind",
        as_of="2025-01-30",
    )
    assert layer.frame.geometry.iloc[0].geom_type == "Polygon"
    assert layer.frame["population_date"].iloc[0].date().isoformat() == "2025-01-30"


def test_sites_sharing_one_point_are_flagged_as_town_centroids(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection(
        [({"name": n, "ind": p}, point(31.6, 4.85)) for n, p in (("A", 10), ("B", 20))]
        + [({"name": "C", "ind": 30}, point(31.7, 4.9))]
    )
    layer = load(make_manifest, {"s.geojson": content}, population="ind")
    flag = next(f for f in layer.flags if f.code == "town_centroid")
    assert flag.rows == (1, 2)


def test_declared_town_precision_flags_every_site(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection([({"name": "A", "ind": 10}, point(31.6, 4.85))])
    layer = load(make_manifest, {"s.geojson": content}, population="ind", location_precision="town")
    assert [f.code for f in layer.flags] == ["town_centroid"]


def test_one_figure_repeated_over_sites_is_flagged(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection([({"name": n, "ind": 15380}, point(31.6 + i / 100, 4.85)) for i, n in enumerate("AB")])
    layer = load(make_manifest, {"s.geojson": content}, population="ind")
    assert [f.code for f in layer.flags] == ["shared_count"]


def test_unreadable_counts_and_dates_are_refused_with_their_lines(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = (
        "name,lat,lon,individuals,date\nA,4.85,31.6,many,2025-01-01\nB,4.85,31.6,-5,2025-01-01\n"
        "C,4.85,31.6,10,31/31/2025\n"
    )
    with pytest.raises(InputError) as caught:
        load(make_manifest, {"s.csv": csv}, population="individuals", date="date")
    text = str(caught.value)
    assert "line 2: 'individuals' is not a number" in text
    assert "line 3: 'individuals' is negative" in text
    assert "line 4: 'date' is not a date" in text


def test_no_population_column_asks_for_one(make_manifest) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"no column with the number of displaced people.*population: individuals"):
        load(make_manifest, {"s.csv": "name,lat,lon,households\nA,4.85,31.6,10\n"})
