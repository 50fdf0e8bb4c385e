"""The layer set: manifest keys checked, every problem of every layer reported at once, cross-layer checks."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from conftest import feature_collection, point, write_raster

from planner.errors import InputError
from planner.layers import load_layerset

SCHOOLS = feature_collection([({"amenity": "school", "name": f"S{i}"}, point(31.60 + i / 100, 4.85)) for i in range(3)])


def test_missing_file_names_the_key_and_resolved_path(make_manifest) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest({"h": {"kind": "sites", "path": "nowhere.geojson"}})
    with pytest.raises(InputError, match=r"layers.h.path: file not found: .*nowhere.geojson.*relative to the manifest"):
        load_layerset(manifest)


@pytest.mark.parametrize(
    ("spec", "where", "says"),
    [
        ({"kind": "sites", "path": "s.geojson", "catgory": "health"}, "layers.h.catgory", "unknown key"),
        ({"kind": "hospitals", "path": "s.geojson"}, "layers.h", "unknown kind 'hospitals'"),
        ({"path": "s.geojson"}, "layers.h", "missing `kind`"),
        ({"kind": "sites", "path": "s.geojson", "category": "clinic"}, "layers.h.category", "must be 'health'"),
        ({"kind": "sites", "path": "s.geojson", "as_of": "last year"}, "layers.h.as_of", "date"),
        ({"kind": "population", "path": "s.geojson"}, "layers.h.units", "required key is missing"),
    ],
)
def test_manifest_keys_are_checked(make_manifest, spec: dict[str, object], where: str, says: str) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest({"h": spec}, {"s.geojson": SCHOOLS})
    with pytest.raises(InputError) as caught:
        load_layerset(manifest)
    problem = caught.value.problems[0]
    assert problem.where == where
    assert says in problem.message


def test_yaml_syntax_error_gives_the_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "m.yaml"
    manifest.write_text("area: X\nlayers:\n  h: {kind: sites, path: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"m.yaml: line \d+, column \d+: YAML syntax error"):
        load_layerset(manifest)


def test_problems_of_all_layers_come_together(make_manifest) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest(
        {"a": {"kind": "sites", "path": "a.csv", "category": "health"}, "b": {"kind": "displacement", "path": "b.csv"}},
        {"a.csv": "name,lat,lon\nA,95,31.6\n", "b.csv": "name,lat,lon\nB,4.8,31.6\n"},
    )
    with pytest.raises(InputError) as caught:
        load_layerset(manifest)
    sources = {p.source.split(" (layer ")[1] for p in caught.value.problems}
    assert sources == {"'a')", "'b')"}


def test_swapped_coordinates_are_caught_against_the_area(make_manifest) -> None:  # type: ignore[no-untyped-def]
    # Both columns are in range, so only the area tells: the points land 27° away unless x and y swap.
    csv = "name,lat,lon\n" + "".join(f"S{i},31.6{i},4.85\n" for i in range(3))
    manifest = make_manifest(
        {
            "pop": {"kind": "population", "path": "pop.tif", "units": "count"},
            "s": {"kind": "sites", "path": "s.csv", "category": "health"},
        },
        {"s.csv": csv},
    )
    write_raster(manifest.parent / "pop.tif", np.ones((10, 10)), crs="EPSG:4326", origin=(31.55, 4.9), pixel=0.02)
    with pytest.raises(InputError, match=r"latitude and longitude look swapped.*exchange `lat:` and `lon:`"):
        load_layerset(manifest)


def test_a_few_far_points_are_flagged_not_dropped(make_manifest) -> None:  # type: ignore[no-untyped-def]
    content = feature_collection(
        [
            ({"amenity": "school"}, point(31.6, 4.85)),
            ({"amenity": "school"}, point(31.61, 4.8)),
            ({"amenity": "school"}, point(3.2, 4.8)),
        ]
    )
    manifest = make_manifest(
        {
            "pop": {"kind": "population", "path": "pop.tif", "units": "count"},
            "s": {"kind": "sites", "path": "s.geojson"},
        },
        {"s.geojson": content},
    )
    write_raster(manifest.parent / "pop.tif", np.ones((10, 10)), crs="EPSG:4326", origin=(31.55, 4.9), pixel=0.02)
    layerset = load_layerset(manifest)
    assert len(layerset.layers["s"].frame) == 3
    assert [(f.code, f.rows) for f in layerset.flags] == [("outside_area", (3,))]


def test_stale_and_undated_layers_are_flagged_for_the_operation_date(make_manifest) -> None:  # type: ignore[no-untyped-def]
    manifest = make_manifest(
        {
            "old": {"kind": "sites", "path": "s.geojson", "as_of": "2020-01-01"},
            "fresh": {"kind": "sites", "path": "s.geojson", "as_of": "2025-05-01", "max_age_days": 60},
            "undated": {"kind": "sites", "path": "s.geojson"},
        },
        {"s.geojson": SCHOOLS},
    )
    layerset = load_layerset(manifest)
    flags = {(f.layer, f.code) for f in layerset.all_flags(date(2025, 6, 1))}
    assert flags == {("old", "stale"), ("undated", "no_date")}
    assert ("fresh", "stale") in {(f.layer, f.code) for f in layerset.all_flags(date(2025, 8, 1))}


def test_a_layer_given_twice_is_refused_naming_the_line(tmp_path: Path) -> None:
    text = (
        "area: Test\nlayers:\n"
        "  health: {kind: sites, path: a.geojson}\n"
        "  roads: {kind: roads, path: r.geojson}\n"
        "  health: {kind: sites, path: b.geojson}\n"
    )
    (tmp_path / "m.yaml").write_text(text)
    with pytest.raises(InputError, match=r"line 5, column 3: .*the key 'health' is given twice.*keep one of them"):
        load_layerset(tmp_path / "m.yaml")


def test_yaml_nested_beyond_reason_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("area: " + "[" * 50_000 + "]" * 50_000 + "\nlayers: {}\n")
    with pytest.raises(InputError, match=r"m\.yaml"):
        load_layerset(tmp_path / "m.yaml")


def test_reading_a_layer_set_reports_its_progress_layer_by_layer(make_manifest) -> None:  # type: ignore[no-untyped-def]
    layers = {
        "a": {"kind": "sites", "path": "a.geojson", "category": "health"},
        "b": {"kind": "sites", "path": "b.geojson", "category": "water"},
    }
    files = {name: feature_collection([({"id": "1"}, point(31.6, 4.85))]) for name in ("a.geojson", "b.geojson")}
    seen: list[tuple[str, int, int]] = []
    load_layerset(make_manifest(layers, files), lambda *step: seen.append(step))
    assert seen == [("a", 1, 2), ("b", 2, 2)]


def test_a_layers_hash_is_computed_once_per_version_of_its_file(make_manifest) -> None:  # type: ignore[no-untyped-def]
    from planner.layers.model import _version_sha256  # noqa: PLC0415

    csv = "name,lat,lon\nClinic,4.85,31.6\n"
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": csv})
    an_hour_ago = time.time_ns() - 3600 * 10**9  # a file just written may change again unseen: not yet kept
    os.utime(manifest.parent / "s.csv", ns=(an_hour_ago, an_hour_ago))
    first = load_layerset(manifest).layers["s"].sha256
    misses = _version_sha256.cache_info().misses
    assert load_layerset(manifest).layers["s"].sha256 == first  # a second reading of the same file: no new hash
    assert _version_sha256.cache_info().misses == misses
    (manifest.parent / "s.csv").write_text(csv + "School,4.86,31.61\n", encoding="utf-8")
    assert load_layerset(manifest).layers["s"].sha256 != first  # a changed file is hashed again
    # written again within one tick of the filesystem's clock: same size and time, and yet hashed again
    stamp = (manifest.parent / "s.csv").stat().st_mtime_ns
    second = load_layerset(manifest).layers["s"].sha256
    (manifest.parent / "s.csv").write_text(csv + "Scholl,4.86,31.61\n", encoding="utf-8")
    os.utime(manifest.parent / "s.csv", ns=(stamp, stamp))
    assert load_layerset(manifest).layers["s"].sha256 != second
