"""A 4 x 4 km world for the harm estimate's golden cases, small enough to reason about by hand.

West half: a town of 2,000 people per km² (20 per 100 m pixel) with a hospital, a church, a school and a
Thursday market. East half: fields with 100 people per km² and a PoC site of 14,200 people (600 x 600 m).
A displacement list puts three sites (38,700 people) on one town-centre point, as lists often do. Recent
attacks on civilians cluster in the north of the town.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from conftest import write_raster
from pyproj import Transformer

SIDE_M = 4_000
ORIGIN = (500_000.0, 600_000.0)  # north-west corner, UTM 36N
TO_WGS84 = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)

HOSPITAL = (1000, 3000)
CHURCH = (600, 1500)
SCHOOL = (1400, 2200)
MARKET = (1000, 1000)
CAMP = (2500, 2500, 3100, 3100)  # west, south, east, north
CENTROID = (1500, 3500)
ATTACKS = (800, 2800)


def lonlat(x: float, y: float) -> list[float]:
    """Metres east of the west edge and north of the south edge -> [lon, lat]."""
    lon, lat = TO_WGS84.transform(ORIGIN[0] + x, ORIGIN[1] - SIDE_M + y)
    return [lon, lat]


def square(x: float, y: float, half: float) -> dict[str, Any]:
    ring = [
        lonlat(a, b)
        for a, b in ((x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half))
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def line(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [lonlat(x, y) for x, y in points]}


def write_world(root: Path, *, threats: bool = True) -> Path:
    """The layers and their layer set; returns the layer set's path."""
    root.mkdir(parents=True, exist_ok=True)
    pixels = SIDE_M // 100
    people = np.full((pixels, pixels), 1.0)
    people[:, : pixels // 2] = 20.0
    write_raster(root / "pop.tif", people, origin=ORIGIN)
    sites = [
        ("hospital", "Kalo County Hospital", HOSPITAL, {}),
        ("place_of_worship", "St Mary's Church", CHURCH, {"opening_hours": "Su 08:00-12:00"}),
        ("school", "Kalo School", SCHOOL, {"opening_hours": "Mo-Fr 07:30-15:00"}),
        ("marketplace", "Kalo Market", MARKET, {"opening_hours": "Th 06:00-14:00"}),
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"s{i}", "amenity": tag, "name": name, **extra},
            "geometry": {"type": "Point", "coordinates": lonlat(*where)},
        }
        for i, (tag, name, where, extra) in enumerate(sites)
    ]
    (root / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    west, south, east, north = CAMP
    camp = {
        "type": "Feature",
        "properties": {"name": "Alpha PoC Site", "ind": 14_200},
        "geometry": square((west + east) / 2, (south + north) / 2, (east - west) / 2),
    }
    (root / "camp.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [camp]}))
    lon, lat = lonlat(*CENTROID)
    (root / "town_list.csv").write_text(
        "name,lat,lon,individuals\n"
        f"Town site 1,{lat},{lon},20000\nTown site 2,{lat},{lon},12000\nTown site 3,{lat},{lon},6700\n"
    )
    layers: dict[str, Any] = {
        "population": {"kind": "population", "path": "pop.tif", "units": "count", "as_of": "2025-01-01"},
        "sites": {"kind": "sites", "path": "sites.geojson", "as_of": "2025-01-01"},
        "camp": {"kind": "displacement", "path": "camp.geojson", "population": "ind", "as_of": "2025-05-01"},
        "town_list": {
            "kind": "displacement",
            "path": "town_list.csv",
            "population": "individuals",
            "as_of": "2025-05-01",
        },
    }
    if threats:
        rows = ["date,lat,lon,type,precision_m"]
        for i, day in enumerate(("2025-05-20", "2025-05-25", "2025-05-28", "2025-05-30")):
            lon, lat = lonlat(ATTACKS[0] + 50 * i, ATTACKS[1])
            rows.append(f"{day},{lat},{lon},attack on civilians,500")
        (root / "events.csv").write_text("\n".join(rows) + "\n")
        layers["events"] = {"kind": "threats", "path": "events.csv", "schema": "generic", "as_of": "2025-05-30"}
    path = root / "layers.yaml"
    path.write_text(yaml.safe_dump({"area": "Golden world (hand-made)", "layers": layers}))
    return path


def point(activity: str, x: float, y: float, **keys: Any) -> dict[str, Any]:
    return {"id": f"{activity}-1", "activity": activity, "position": lonlat(x, y), **keys}


def shape(activity: str, geometry: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {"id": f"{activity}-1", "activity": activity, "geometry": geometry, **keys}


def write_plan(root: Path, layers: Path, coas: dict[str, list[dict[str, Any]]], *, start: str, end: str) -> Path:
    """One plan whose COAs are the cases, each on its own."""
    plan = {
        "name": "Golden cases",
        "layers": str(layers),
        "window": {"start": start, "end": end},
        "coas": [{"id": case, "name": case, "elements": elements} for case, elements in coas.items()],
    }
    path = root / f"plan-{len(list(root.glob('plan-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path
