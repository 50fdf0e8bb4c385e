"""Bad input, case by case: each is refused naming the file and key, or read with a flag, never a crash.

Each case is a small layer file written here and read through the layer set, as ``primum validate`` does.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.errors import InputError
from planner.layers import load_layerset

OPERATION_DAY = date(2026, 12, 3)
EMPTY_FC = json.dumps({"type": "FeatureCollection", "features": []})


def point_fc(*rows: dict[str, Any]) -> str:
    features = [
        {"type": "Feature", "properties": row, "geometry": {"type": "Point", "coordinates": [31.6 + i / 100, 4.85]}}
        for i, row in enumerate(rows)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


# case: (file name, content, layer spec, what must happen). "refused: text" or "flag: code".
CASES: dict[str, tuple[str, str | bytes, dict[str, Any], str]] = {
    "empty feature collection": ("s.geojson", EMPTY_FC, {"kind": "sites"}, "flag: empty"),
    "csv with a header only": ("s.csv", "name,lat,lon\n", {"kind": "sites", "category": "health"}, "flag: empty"),
    "threats with a header only": (
        "t.csv",
        "date,lat,lon,type\n",
        {"kind": "threats", "schema": "generic"},
        "flag: empty",
    ),
    "layer dated after the operation": (
        "s.geojson",
        point_fc({"id": "a", "amenity": "school"}),
        {"kind": "sites", "as_of": "2099-01-01"},
        "flag: future",
    ),
    "report dated in the future": (
        "t.csv",
        "date,lat,lon,type\n2099-03-01,4.85,31.6,armed clash\n",
        {"kind": "threats", "schema": "generic"},
        "flag: future_dates",
    ),
    "two sites under one id": (
        "s.geojson",
        point_fc({"id": "a", "amenity": "school"}, {"id": "a", "amenity": "clinic"}),
        {"kind": "sites"},
        "flag: duplicate_id",
    ),
    "occupancy that is not a number": (
        "s.csv",
        "id,lat,lon,occupancy\n1,4.85,31.6,lots\n",
        {"kind": "sites", "category": "market"},
        "flag: occupancy_unreadable",
    ),
    "OGR VRT saved as GeoJSON": (
        "s.geojson",
        (
            "<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>/etc/hosts</SrcDataSource></OGRVRTLayer>"
            "</OGRVRTDataSource>"
        ),
        {"kind": "sites"},
        "refused: not a geojson file",
    ),
    "GDAL VRT saved as GeoTIFF": (
        "p.tif",
        "<VRTDataset rasterXSize='1' rasterYSize='1'></VRTDataset>",
        {"kind": "population", "units": "count"},
        "refused: not a tif file",
    ),
    "GeoPackage that is text": ("s.gpkg", "hello", {"kind": "sites"}, "refused: not a gpkg file"),
    "zip cut short": ("s.zip", b"PK\x03\x04", {"kind": "sites"}, "refused: the zip file is damaged or cut short"),
    "KML that is a WMS description": (
        "s.kml",
        "<GDAL_WMS><Service name='TMS'><ServerUrl>http://127.0.0.1/${z}</ServerUrl></Service></GDAL_WMS>",
        {"kind": "sites"},
        "refused: not a kml file",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    name, content, spec, expected = CASES[case]
    (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"area": "Bad input", "layers": {"x": {"path": name, **spec}}}))
    how, _, detail = expected.partition(":")
    if how == "refused":
        with pytest.raises(InputError) as refused:
            load_layerset(manifest)
        text = str(refused.value)
        assert "layers.x.path" in text and name in text and "Fix:" in text
        assert detail.strip() in text
        return
    layer = load_layerset(manifest).layers["x"]
    stale = layer.freshness_flag(OPERATION_DAY)
    flags = [*layer.flags, *([stale] if stale else [])]
    found = [f for f in flags if f.code == detail.strip()]
    assert found, [f.code for f in flags]
    assert "'x'" in found[0].message  # the message names the layer
