"""Roads: a class from a declared column, blanks made explicit, lines only."""

from __future__ import annotations

import pytest
from conftest import feature_collection, point

from planner.errors import InputError
from planner.layers import load_layerset


def line(*coords: tuple[float, float]) -> dict[str, object]:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def test_logistics_cluster_columns(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection(
        [
            (
                {"CLASS": "Primary", "SURFACE": "Asphault", "RAINYSTAT": "All Season", "OBJECTID": 1},
                line((31.6, 4.8), (31.7, 4.8)),
            ),
            (
                {"CLASS": " ", "SURFACE": " ", "RAINYSTAT": "Dry Season Only", "OBJECTID": 2},
                line((31.7, 4.8), (31.7, 4.9)),
            ),
        ]
    )
    manifest = make_manifest(
        {
            "r": {
                "kind": "roads",
                "path": "r.geojson",
                "class": "CLASS",
                "surface": "SURFACE",
                "rainy": "RAINYSTAT",
                "id": "OBJECTID",
            }
        },
        {"r.geojson": content},
    )
    layer = load_layerset(manifest).layers["r"]
    assert list(layer.frame["road_class"]) == ["Primary", "unknown"]
    assert list(layer.frame["surface"]) == ["Asphault", None]  # blank is unknown, not a surface
    assert list(layer.frame["rainy_season"]) == ["All Season", "Dry Season Only"]
    assert [f.code for f in layer.flags] == ["unclassified_roads"]


def test_zero_length_lines_are_dropped_and_said(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection(
        [({"highway": "track"}, line((31.6, 4.8), (31.7, 4.8))), ({"highway": "track"}, line((31.6, 4.8), (31.6, 4.8)))]
    )
    layer = load_layerset(make_manifest({"r": {"kind": "roads", "path": "r.geojson"}}, {"r.geojson": content})).layers[
        "r"
    ]
    assert len(layer.frame) == 1
    assert layer.dropped[0].rows == (2,) and "zero-length" in layer.dropped[0].reason


def test_points_in_a_roads_layer_are_refused(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection([({"highway": "track"}, point(31.6, 4.8))])
    with pytest.raises(InputError, match=r"feature 1: not a line \(Point\)"):
        load_layerset(make_manifest({"r": {"kind": "roads", "path": "r.geojson"}}, {"r.geojson": content}))


def test_a_declared_class_column_that_is_missing_is_refused(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection([({"type": "track"}, line((31.6, 4.8), (31.7, 4.8)))])
    with pytest.raises(InputError, match=r"class: column 'CLASS' is not in the file.*columns are: type"):
        load_layerset(
            make_manifest({"r": {"kind": "roads", "path": "r.geojson", "class": "CLASS"}}, {"r.geojson": content})
        )


@pytest.mark.parametrize("spec", [{}, {"class": "none"}])
def test_roads_without_a_class_read_at_the_slowest_speed_with_a_flag(make_manifest, spec) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection(
        [({"type": "track"}, line((31.6, 4.8), (31.7, 4.8))), ({"type": "x"}, line((31.7, 4.8), (31.8, 4.8)))]
    )
    layer = load_layerset(
        make_manifest({"r": {"kind": "roads", "path": "r.geojson", **spec}}, {"r.geojson": content})
    ).layers["r"]
    assert layer.frame["road_class"].tolist() == ["unknown", "unknown"]
    [flag] = [f for f in layer.flags if f.code == "unclassified_roads"]
    assert flag.rows == (1, 2) and "slowest speed" in flag.message
