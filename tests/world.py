"""A tiny world to reason about by hand: a 10 x 10 raster of 100 m pixels in UTM 36N, sites, a plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from conftest import write_raster
from pyproj import Transformer

ORIGIN = (500_000.0, 600_000.0)  # north-west corner, UTM 36N
TO_WGS84 = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> list[float]:
    """Metres east of the west edge and north of the south edge (1 km square) -> [lon, lat]."""
    lon, lat = TO_WGS84.transform(ORIGIN[0] + x, ORIGIN[1] - 1000 + y)
    return [lon, lat]


def polygon(*points: tuple[float, float]) -> dict[str, Any]:
    ring = [lonlat(x, y) for x, y in (*points, points[0])]
    return {"type": "Polygon", "coordinates": [ring]}


def make_world(
    root: Path,
    *,
    people_per_pixel: float = 10.0,
    elements: list[dict[str, Any]] | None = None,
    threats: str | None = None,
    sites: list[tuple[Any, ...]] | None = None,
    camp: dict[str, Any] | None = None,
    roads: list[tuple[Any, ...]] | None = None,
    plan_extra: dict[str, Any] | None = None,
    threats_spec: dict[str, Any] | None = None,
) -> Path:
    """Write the world and a one-COA plan into ``root``; returns the plan's path.

    A site is ``(tag, name, x, y[, properties])`` where ``tag`` is an amenity (``school``) or ``key=value``
    (``man_made=bridge``); a road is ``(id, class, rainy-season passability, vertices[, surface])``.
    """
    write_raster(root / "pop.tif", np.full((10, 10), people_per_pixel), origin=ORIGIN)
    sites = (
        sites
        if sites is not None
        else [("school", "School in the cordon", 450, 550), ("clinic", "Clinic 150 m out", 450, 850)]
    )
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"s{i}", **_tag(site[0]), "name": site[1], **(site[4] if len(site) > 4 else {})},
            "geometry": {"type": "Point", "coordinates": lonlat(site[2], site[3])},
        }
        for i, site in enumerate(sites)
    ]
    (root / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    camp = (
        camp
        if camp is not None
        else {
            "type": "Feature",
            "properties": {"name": "Camp", "ind": 1000},
            "geometry": polygon((500, 400), (800, 400), (800, 700), (500, 700)),
        }
    )
    (root / "idp.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [camp]}))
    layers: dict[str, Any] = {
        "population": {"kind": "population", "path": "pop.tif", "units": "count", "as_of": "2025-01-01"},
        "sites": {"kind": "sites", "path": "sites.geojson", "as_of": "2025-01-01"},
        "idp": {"kind": "displacement", "path": "idp.geojson", "population": "ind", "as_of": "2025-05-01"},
    }
    if roads is not None:  # (id, class, rainy-season passability, vertices)
        road_features = [
            {
                "type": "Feature",
                "properties": {
                    "id": road[0],
                    "highway": road[1],
                    "rainy": road[2],
                    "surface": road[4] if len(road) > 4 else "asphalt",
                },
                "geometry": {"type": "LineString", "coordinates": [lonlat(x, y) for x, y in road[3]]},
            }
            for road in roads
        ]
        (root / "roads.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": road_features}))
        layers["roads"] = {
            "kind": "roads",
            "path": "roads.geojson",
            "class": "highway",
            "rainy": "rainy",
            "surface": "surface",
            "as_of": "2025-01-01",
        }
    if threats is not None:
        (root / "events.csv").write_text(threats)
        layers["events"] = {"kind": "threats", "path": "events.csv", "schema": "generic", **(threats_spec or {})}
    (root / "layers.yaml").write_text(yaml.safe_dump({"area": "Hand-made world", "layers": layers}))
    cordon = {
        "id": "cordon-1",
        "activity": "cordon_search",
        "outer_m": 100,
        "geometry": polygon((300, 400), (600, 400), (600, 700), (300, 700)),
    }
    plan = {
        "name": "Hand-made plan",
        "layers": "layers.yaml",
        "window": {"start": "2025-06-01T06:00:00+03:00", "end": "2025-06-01T12:00:00+03:00"},
        "coas": [{"id": "A", "name": "Only COA", "elements": elements if elements is not None else [cordon]}],
        **(plan_extra or {}),
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def _tag(tag: str) -> dict[str, str]:
    key, _, value = tag.rpartition("=")
    return {key or "amenity": value}
