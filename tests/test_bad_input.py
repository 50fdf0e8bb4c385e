"""The bad-input corpus: every kind of broken file users bring, each refused or flagged, never a crash.

Each case writes a small layer set (or plan) and runs ``primum validate`` on it in-process. A refused case
must exit 2 (1 for a file that cannot be opened at all) with a message that names the file and the row or
key and says how to fix it; a flagged case must exit 0 and carry the flag; no case may print a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import yaml
from affine import Affine
from typer.testing import CliRunner

from planner.cli import app

ON = "2025-06-01"  # the operation day the ages are judged on


# --- small files -------------------------------------------------------------------------------------------------


def fc(*features: tuple[dict[str, Any], dict[str, Any] | None]) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
        }
    )


def pt(lon: float = 31.6, lat: float = 4.85) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def line(*coords: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


COUNTY_AREA = {"type": "Polygon", "coordinates": [[[31.5, 4.8], [31.7, 4.8], [31.7, 4.9], [31.5, 4.9], [31.5, 4.8]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[31.6, 4.85], [31.61, 4.86], [31.61, 4.85], [31.6, 4.86], [31.6, 4.85]]]}
SITES = fc(({"id": "a", "amenity": "school", "name": "School"}, pt()), ({"id": "b", "amenity": "clinic"}, pt(31.61)))
CSV_SITES = "id,name,lat,lon\n1,Clinic,4.85,31.6\n2,School,4.86,31.61\n"
CAMPS = "name,lat,lon,individuals\nCamp A,4.85,31.6,1200\nCamp B,4.86,31.62,800\n"
EVENTS = "date,lat,lon,type\n2025-05-20,4.85,31.6,attack on civilians\n"
ROADS = fc(({"id": "r1", "highway": "primary"}, line((31.6, 4.85), (31.62, 4.85))))
VRT = (
    "<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>/etc/hosts</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"
)


def raster(path: Path, values: np.ndarray | None = None, **profile: Any) -> bytes:
    """A GeoTIFF's bytes (UTM 36N, 100 m pixels, nodata -9999 unless told)."""
    data = np.full((4, 4), 5.0, dtype="float32") if values is None else values.astype("float32")
    base = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "crs": "EPSG:32636",
        "transform": Affine(100, 0, 500_000, 0, -100, 600_000),
        "nodata": -9999.0,
    }
    base.update(profile)
    with rasterio.open(path, "w", **{k: v for k, v in base.items() if v is not None}) as dst:
        dst.write(data, 1)
    return path.read_bytes()


def layer(kind: str, path: str, **spec: Any) -> dict[str, Any]:
    return {"x": {"kind": kind, "path": path, "as_of": "2025-05-01", **spec}}


# --- the corpus ---------------------------------------------------------------------------------------------------
# name: (files, layers of the manifest or None for a raw manifest text in files["m.yaml"], expected)
# expected: "refused: <fragment>" (exit 2), "unreadable: <fragment>" (exit 1) or "flag: <code>" (exit 0)
Case = tuple[dict[str, Any], dict[str, Any] | None, str]

CASES: dict[str, Case] = {
    # manifests
    "manifest YAML syntax": ({"m.yaml": "area: x\nlayers: [\n"}, None, "refused: line"),
    "manifest key given twice": (
        {"m.yaml": "area: x\nlayers:\n  a: {kind: sites, path: s.geojson}\n  a: {kind: sites, path: s.geojson}\n"},
        None,
        "refused: given twice",
    ),
    "manifest nested too deep": ({"m.yaml": "area: " + "[" * 20_000 + "]" * 20_000 + "\n"}, None, "refused: m.yaml"),
    "manifest not UTF-8": ({"m.yaml": "area: caf\xe9\nlayers: {}\n".encode("cp1252")}, None, "refused: not UTF-8"),
    "manifest empty": ({"m.yaml": ""}, None, "refused: m.yaml"),
    "manifest without layers": ({"m.yaml": "area: x\n"}, None, "refused: layers"),
    "unknown layer kind": (
        {"s.geojson": SITES},
        {"x": {"kind": "hospitals", "path": "s.geojson"}},
        "refused: layers.x",
    ),
    "unknown layer key": ({"s.geojson": SITES}, layer("sites", "s.geojson", colour="red"), "refused: colour"),
    "layer file missing": ({}, layer("sites", "nowhere.geojson"), "refused: layers.x.path"),
    "layer path is a folder": ({"dir/keep.txt": "x"}, layer("sites", "dir"), "refused: not a regular file"),
    "layer path is a pipe": ({"pipe.geojson": "FIFO"}, layer("sites", "pipe.geojson"), "refused: not a regular file"),
    "unknown file type": ({"s.xyz": "a"}, layer("sites", "s.xyz"), "refused: unknown file type"),
    "unknown CRS declared": (
        {"s.csv": CSV_SITES},
        layer("sites", "s.csv", category="health", crs="EPSG:99999"),
        "refused: crs",
    ),
    "manifest as_of not a date": ({"s.geojson": SITES}, layer("sites", "s.geojson", as_of="soon"), "refused: as_of"),
    # files that are not what their name says
    "VRT saved as GeoJSON": ({"s.geojson": VRT}, layer("sites", "s.geojson"), "refused: not a geojson file"),
    "VRT saved as KML": ({"s.kml": VRT}, layer("sites", "s.kml"), "refused: not a kml file"),
    "WMS description as KML": (
        {"s.kml": "<GDAL_WMS><Service name='TMS'><ServerUrl>http://127.0.0.1/x</ServerUrl></Service></GDAL_WMS>"},
        layer("sites", "s.kml"),
        "refused: not a kml file",
    ),
    "text saved as GeoPackage": ({"s.gpkg": "hello"}, layer("sites", "s.gpkg"), "refused: not a gpkg file"),
    "text saved as shapefile": ({"s.shp": "hello"}, layer("sites", "s.shp"), "refused: not a shp file"),
    "zip cut short": ({"s.zip": b"PK\x03\x04"}, layer("sites", "s.zip"), "refused: damaged or cut short"),
    "zip holding a VRT": ({"s.zip": "ZIP:s.vrt"}, layer("sites", "s.zip"), "refused: shapefile's parts only"),
    "JSON that is not GeoJSON": ({"s.geojson": '{"hello": 1}'}, layer("sites", "s.geojson"), "unreadable: s.geojson"),
    "GeoJSON cut short": ({"s.geojson": SITES[:40]}, layer("sites", "s.geojson"), "unreadable: s.geojson"),
    "VRT saved as GeoTIFF": (
        {"p.tif": "<VRTDataset rasterXSize='1' rasterYSize='1'></VRTDataset>"},
        layer("population", "p.tif", units="count"),
        "refused: not a tif file",
    ),
    "text saved as GeoTIFF": (
        {"p.tif": "hello"},
        layer("population", "p.tif", units="count"),
        "refused: not a tif file",
    ),
    "GeoTIFF header only": (
        {"p.tif": b"II*\x00" + b"\x00" * 60},
        layer("population", "p.tif", units="count"),
        "unreadable: p.tif",
    ),
    # sites
    "CSV without coordinates": (
        {"s.csv": "id,name\n1,Clinic\n"},
        layer("sites", "s.csv", category="health"),
        "refused: s.csv",
    ),
    "CSV latitude out of range": (
        {"s.csv": "id,lat,lon\n1,95,31.6\n"},
        layer("sites", "s.csv", category="health"),
        "refused: line 2",
    ),
    "CSV coordinate not a number": (
        {"s.csv": "id,lat,lon\n1,north,31.6\n"},
        layer("sites", "s.csv", category="health"),
        "refused: line 2",
    ),
    "CSV neither UTF-8 nor a Western encoding": (
        {"s.csv": b"id,name,lat,lon\n1,Caf\x81\x90,4.85,31.6\n"},
        layer("sites", "s.csv", category="health"),
        "refused: not UTF-8",
    ),
    "CSV row with too many cells": (
        {"s.csv": "id,lat,lon\n1,4.85,31.6,extra,more\n"},
        layer("sites", "s.csv", category="health"),
        "refused: s.csv",
    ),
    "polygon that crosses itself": (
        {"s.geojson": fc(({"id": "a", "amenity": "school"}, BOWTIE))},
        layer("sites", "s.geojson"),
        "refused: feature",
    ),
    "feature without geometry": (
        {"s.geojson": fc(({"id": "a", "amenity": "school"}, None))},
        layer("sites", "s.geojson"),
        "refused: feature",
    ),
    "declared CRS differs from the file's": (
        {"s.geojson": SITES},
        layer("sites", "s.geojson", crs="EPSG:32636"),
        "refused: the manifest declares",
    ),
    "status column missing": (
        {"s.csv": CSV_SITES},
        layer("sites", "s.csv", category="health", status="Status"),
        "refused: status",
    ),
    "id column missing": ({"s.csv": CSV_SITES}, layer("sites", "s.csv", category="health", id="code"), "refused: id"),
    "category not known": ({"s.csv": CSV_SITES}, layer("sites", "s.csv", category="hospital"), "refused: category"),
    "category map to an unknown category": (
        {"s.csv": CSV_SITES},
        layer("sites", "s.csv", category_column="name", category_map={"Clinic": "clinics"}),
        "refused: category_map",
    ),
    "a name of 200,000 characters": (
        {"s.csv": f"id,name,lat,lon\n1,{'x' * 200_000},4.85,31.6\n"},
        layer("sites", "s.csv", category="health"),
        "refused: holds text of 200,000 characters",
    ),
    "empty feature collection": ({"s.geojson": fc()}, layer("sites", "s.geojson"), "flag: empty"),
    "CSV with a header only": ({"s.csv": "id,lat,lon\n"}, layer("sites", "s.csv", category="health"), "flag: empty"),
    "dated after the operation": (
        {"s.geojson": SITES},
        layer("sites", "s.geojson", as_of="2030-01-01"),
        "flag: future",
    ),
    "undated layer": ({"s.geojson": SITES}, {"x": {"kind": "sites", "path": "s.geojson"}}, "flag: no_date"),
    "stale layer": ({"s.geojson": SITES}, layer("sites", "s.geojson", as_of="2019-01-01"), "flag: stale"),
    "two sites under one id": (
        {"s.geojson": fc(({"id": "a", "amenity": "school"}, pt()), ({"id": "a", "amenity": "clinic"}, pt(31.61)))},
        layer("sites", "s.geojson"),
        "flag: duplicate_id",
    ),
    "occupancy not a number": (
        {"s.csv": "id,lat,lon,occupancy\n1,4.85,31.6,lots\n"},
        layer("sites", "s.csv", category="market"),
        "flag: occupancy_unreadable",
    ),
    "opening hours unreadable": (
        {"s.csv": "id,lat,lon,opening_hours\n1,4.85,31.6,mornings mostly\n"},
        layer("sites", "s.csv", category="market"),
        "flag: hours_unreadable",
    ),
    "status missing for a facility": (
        {"s.csv": "id,lat,lon,Status\n1,4.85,31.6,Functional\n2,4.86,31.6,\n"},
        layer("sites", "s.csv", category="health", status="Status"),
        "flag: status_unknown",
    ),
    # displacement sites
    "population column missing": (
        {"d.csv": CAMPS},
        layer("displacement", "d.csv", population="ind"),
        "refused: population",
    ),
    "population not a number": (
        {"d.csv": "name,lat,lon,individuals\nCamp,4.85,31.6,many\n"},
        layer("displacement", "d.csv", population="individuals"),
        "refused: line 2",
    ),
    "negative population": (
        {"d.csv": "name,lat,lon,individuals\nCamp,4.85,31.6,-40\n"},
        layer("displacement", "d.csv", population="individuals"),
        "refused: line 2",
    ),
    "count date unreadable": (
        {"d.csv": "name,lat,lon,individuals,when\nCamp,4.85,31.6,10,someday\n"},
        layer("displacement", "d.csv", population="individuals", date="when"),
        "refused: line 2",
    ),
    "sites on one shared point": (
        {"d.csv": "name,lat,lon,individuals\nA,4.85,31.6,100\nB,4.85,31.6,200\n"},
        layer("displacement", "d.csv", population="individuals"),
        "flag: town_centroid",
    ),
    "a site without a count": (
        {"d.csv": "name,lat,lon,individuals\nA,4.85,31.6,100\nB,4.86,31.6,\n"},
        layer("displacement", "d.csv", population="individuals"),
        "flag: population_unknown",
    ),
    "one count for several sites": (
        {"d.csv": "name,lat,lon,individuals\nA,4.85,31.6,500\nB,4.86,31.6,500\n"},
        layer("displacement", "d.csv", population="individuals"),
        "flag: shared_count",
    ),
    "sites declared at town centroids": (
        {"d.csv": CAMPS},
        layer("displacement", "d.csv", population="individuals", location_precision="town"),
        "flag: town_centroid",
    ),
    # threat reports
    "generic reports without a date column": (
        {"t.csv": "lat,lon,type\n4.85,31.6,armed clash\n"},
        layer("threats", "t.csv", schema="generic"),
        "refused: date",
    ),
    "generic reports without a type column": (
        {"t.csv": "date,lat,lon\n2025-05-20,4.85,31.6\n"},
        layer("threats", "t.csv", schema="generic"),
        "refused: type",
    ),
    "report date unreadable": (
        {"t.csv": "date,lat,lon,type\nlast week,4.85,31.6,armed clash\n"},
        layer("threats", "t.csv", schema="generic"),
        "refused: line 2",
    ),
    "dates both day-first and month-first": (
        {"t.csv": "date,lat,lon,type\n25/04/2025,4.85,31.6,armed clash\n04/26/2025,4.85,31.6,armed clash\n"},
        layer("threats", "t.csv", schema="generic"),
        "refused: date_format",
    ),
    "dates that could be either order": (
        {"t.csv": "date,lat,lon,type\n03/04/2025,4.85,31.6,armed clash\n"},
        layer("threats", "t.csv", schema="generic"),
        "refused: date_format",
    ),
    "ACLED export without event_date": (
        {"t.csv": "event_id_cnty,event_type,latitude,longitude\nX1,Battles,4.85,31.6\n"},
        layer("threats", "t.csv", schema="acled"),
        "refused: event_date",
    ),
    "UCDP export without its columns": (
        {"t.csv": "id,latitude,longitude\n1,4.85,31.6\n"},
        layer("threats", "t.csv", schema="ucdp"),
        "refused: t.csv",
    ),
    "unknown schema": ({"t.csv": EVENTS}, layer("threats", "t.csv", schema="gdelt"), "refused: schema"),
    "type map to an unknown kind": (
        {"t.csv": "date,lat,lon,type\n2025-05-20,4.85,31.6,raid\n"},
        layer("threats", "t.csv", schema="generic", type_map={"raid": "raids"}),
        "refused: type_map",
    ),
    "reports dated in the future": (
        {"t.csv": "date,lat,lon,type\n2099-03-01,4.85,31.6,armed clash\n"},
        layer("threats", "t.csv", schema="generic"),
        "flag: future_dates",
    ),
    "threat layer with a header only": (
        {"t.csv": "date,lat,lon,type\n"},
        layer("threats", "t.csv", schema="generic"),
        "flag: empty",
    ),
    "stale threat layer": (
        {"t.csv": EVENTS},
        layer("threats", "t.csv", schema="generic", as_of="2024-01-01"),
        "flag: stale",
    ),
    # roads
    "roads that are points": (
        {"r.geojson": fc(({"id": "r1", "highway": "primary"}, pt()))},
        layer("roads", "r.geojson"),
        "refused: r.geojson",
    ),
    "road class column missing": (
        {"r.geojson": ROADS},
        layer("roads", "r.geojson", **{"class": "CLASS"}),
        "refused: class",
    ),
    "surface column missing": ({"r.geojson": ROADS}, layer("roads", "r.geojson", surface="SURF"), "refused: surface"),
    # population rasters
    "raster without a CRS": ({"p.tif": "RASTER:crs=None"}, layer("population", "p.tif", units="count"), "refused: CRS"),
    "raster CRS differs from the declared": (
        {"p.tif": "RASTER:"},
        layer("population", "p.tif", units="count", crs="EPSG:4326"),
        "refused: crs",
    ),
    "raster without nodata, none declared": (
        {"p.tif": "RASTER:nodata=None"},
        layer("population", "p.tif", units="count"),
        "refused: nodata",
    ),
    "raster band beyond its bands": (
        {"p.tif": "RASTER:"},
        layer("population", "p.tif", units="count", band=3),
        "refused: band",
    ),
    "rotated raster": (
        {"p.tif": "RASTER:rotated"},
        layer("population", "p.tif", units="count"),
        "refused: rotated",
    ),
    "negative people": ({"p.tif": "RASTER:negative"}, layer("population", "p.tif", units="count"), "refused: negative"),
    "units missing": ({"p.tif": "RASTER:"}, {"x": {"kind": "population", "path": "p.tif"}}, "refused: units"),
    "pixels of 5 cm": (
        {"p.tif": "RASTER:tiny"},
        layer("population", "p.tif", units="count"),
        "refused: pixels of 0.05 m",
    ),
    "a density read as counts": (
        {"p.tif": "RASTER:dense"},
        layer("population", "p.tif", units="count"),
        "flag: density_as_count",
    ),
    "a coarse raster": ({"p.tif": "RASTER:coarse"}, layer("population", "p.tif", units="count"), "flag: coarse_raster"),
    "NaN pixels under another nodata": (
        {"p.tif": "RASTER:nan"},
        layer("population", "p.tif", units="count"),
        "flag: nan_pixels",
    ),
}

PLAN_BASE = {
    "name": "Bad plan",
    "layers": "m.yaml",
    "window": {"start": "2025-06-01T06:00:00+03:00", "end": "2025-06-01T12:00:00+03:00"},
}


def plan_case(elements: list[dict[str, Any]], expected: str, **top: Any) -> Case:
    plan = {**PLAN_BASE, **top}
    plan.setdefault("coas", [{"id": "A", "name": "A", "elements": elements}])
    return ({"s.geojson": SITES, "plan.yaml": yaml.safe_dump(plan)}, layer("sites", "s.geojson"), expected)


LZ = {"id": "lz", "activity": "helicopter_lz", "position": [31.6, 4.85]}
CASES |= {
    # --- files as field staff save them
    "workbook that is a renamed zip": ({"s.xlsx": "ZIP:s.vrt"}, layer("sites", "s.xlsx"), "refused: XLSX workbook"),
    "KMZ holding more than a KML": ({"s.kmz": "ZIP:s.vrt"}, layer("sites", "s.kmz"), "refused: must hold a KML"),
    "KML that is a network link": (
        {
            "s.kml": '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><NetworkLink><Link>'
            "<href>https://example.org/x.kml</href></Link></NetworkLink></kml>"
        },
        layer("sites", "s.kml", category="health"),
        "refused: network link",
    ),
    "one page of a UCDP API answer": (
        {"e.json": '{"TotalCount": 3, "TotalPages": 2, "NextPageUrl": "https://x/?page=1", "Result": []}'},
        layer("threats", "e.json", schema="ucdp"),
        "refused: one page of 2",
    ),
    "decimals written both ways": (
        {"s.csv": "id;lat;lon\n1;4,85;31.6\n2;4,86;31.61\n"},
        layer("sites", "s.csv", category="health"),
        "refused: decimal",
    ),
    "a status nobody knows": (
        {"s.csv": "id,lat,lon,status\n1,4.85,31.6,under the mango tree\n"},
        layer("sites", "s.csv", category="health", status="status"),
        "flag: status_unrecognised",
    ),
    "an ACLED event type nobody knows": (
        {"e.csv": "event_id_cnty,event_date,event_type,latitude,longitude\nX1,2025-05-01,Cyber incident,4.85,31.6\n"},
        layer("threats", "e.csv", schema="acled"),
        "flag: unknown_types",
    ),
    "a county no boundary layer has": (
        {
            "a.geojson": fc(({"name": "Juba"}, COUNTY_AREA)),
            "d.csv": "county,idps\nJubba,100\n",
        },
        {
            "a": {"kind": "admin", "path": "a.geojson", "as_of": "2025-05-01"},
            "d": {"kind": "displacement", "path": "d.csv", "admin": "a", "admin_key": "county", "as_of": "2025-05-01"},
        },
        "refused: nearest: Juba",
    ),
    "plan activity unknown": plan_case([{**LZ, "activity": "airstrike"}], "refused: unknown activity 'airstrike'"),
    "plan COA id twice": plan_case(
        [], "refused: duplicate COA id", coas=[{"id": "A", "name": "a", "elements": [LZ]}] * 2
    ),
    "plan element id twice": plan_case([LZ, LZ], "refused: duplicate element id"),
    "plan window without offset": plan_case(
        [LZ], "refused: UTC offset", window={"start": "2025-06-01T06:00:00", "end": "2025-06-01T12:00:00"}
    ),
    "plan window ends before it starts": plan_case(
        [LZ],
        "refused: must end after",
        window={"start": "2025-06-01T12:00:00+03:00", "end": "2025-06-01T06:00:00+03:00"},
    ),
    "plan bare coordinate pair": plan_case([{**LZ, "position": "4.85, 31.6"}], "refused: position"),
    "plan MGRS that is not": plan_case([{**LZ, "position": "36NZZ99"}], "refused: position"),
    "plan ring left open": plan_case(
        [
            {
                "id": "c",
                "activity": "cordon_search",
                "geometry": {"type": "Polygon", "coordinates": [[[31.6, 4.85], [31.61, 4.85], [31.61, 4.86]]]},
            }
        ],
        "refused: does not end where it starts",
    ),
    "plan geometry of no known type": plan_case(
        [{"id": "c", "activity": "cordon_search", "geometry": {"type": "Hexagon", "coordinates": []}}],
        "refused: not a GeoJSON geometry",
    ),
    "plan coordinates out of range": plan_case([{**LZ, "position": [231.6, 4.85]}], "refused: position"),
    "plan radius beyond 50 km": plan_case([{**LZ, "outer_m": 1e12}], "refused: outer_m"),
    "plan outer radius inside the core": plan_case([{**LZ, "core_m": 300, "outer_m": 100}], "refused: outer_m"),
    "plan of 501 elements": plan_case([{**LZ, "id": f"e{i}"} for i in range(501)], "refused: at most 500"),
    "plan geometry file missing": plan_case(
        [{"id": "c", "activity": "cordon_search", "geometry_file": "areas.geojson"}], "refused: geometry_file"
    ),
    "plan element with two locations": plan_case([{**LZ, "geometry": pt()}], "refused: exactly one of"),
    "plan key unknown": plan_case([LZ], "refused: surprise", surprise=True),
    "plan element far from every layer": plan_case([{**LZ, "position": [10.0, 50.0]}], "refused: outside every layer"),
    "plan layers file missing": plan_case([LZ], "refused: layers", layers="missing.yaml"),
    "plan without COAs": plan_case([], "refused: coas", coas=[]),
}


def _write(root: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if content == "FIFO":
            os.mkfifo(target)
        elif isinstance(content, str) and content.startswith("ZIP:"):
            import zipfile  # noqa: PLC0415

            with zipfile.ZipFile(target, "w") as archive:
                archive.writestr(content.removeprefix("ZIP:"), VRT)
        elif isinstance(content, str) and content.startswith("RASTER:"):
            _raster_case(target, content.removeprefix("RASTER:"))
        else:
            target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def _raster_case(path: Path, how: str) -> None:
    values = np.full((4, 4), 5.0)
    profile: dict[str, Any] = {}
    if how.startswith("crs=None"):
        profile["crs"] = None
    if how == "nodata=None":
        profile["nodata"] = None
    if how == "rotated":
        profile["transform"] = Affine(100, 10, 500_000, 10, -100, 600_000)
    if how == "negative":
        values[0, 0] = -5
    if how == "tiny":
        profile["transform"] = Affine(0.05, 0, 500_000, 0, -0.05, 600_000)
    if how == "dense":
        values[:] = 900_000.0
    if how == "coarse":
        profile["transform"] = Affine(1000, 0, 500_000, 0, -1000, 600_000)
    if how == "nan":
        values[0, 0] = np.nan
    raster(path, values, **profile)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    files, layers, expected = CASES[case]
    _write(tmp_path, files)
    if layers is not None:
        (tmp_path / "m.yaml").write_text(yaml.safe_dump({"area": "Bad input", "layers": layers}))
    target = tmp_path / ("plan.yaml" if "plan.yaml" in files else "m.yaml")
    result = CliRunner().invoke(app, ["validate", str(target), "--on", ON, "--json"])
    output = result.output
    assert "Traceback" not in output and (result.exception is None or isinstance(result.exception, SystemExit)), (
        output,
        result.exception,
    )
    how, _, detail = expected.partition(": ")
    if how == "flag":
        assert result.exit_code == 0, output
        report = json.loads(output)
        codes = [f["code"] for item in report["layerset"]["layers"] for f in item["flags"]]
        assert detail in codes, codes
        return
    assert result.exit_code == (2 if how == "refused" else 1), output
    names = {target.name, *files, *(spec.get("path", "") for spec in (layers or {}).values())}
    assert any(name and name in output for name in names), output  # names the file
    assert detail in output, output
    if how == "refused":
        assert "Fix:" in output, output  # and says what to do


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 90
