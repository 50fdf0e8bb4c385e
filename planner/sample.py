"""The bundled sample area: Kalo, a FICTIONAL training area, written by a deterministic generator.

Nothing here describes a real place: the town, villages, sites, people and incidents are invented so that
the product can be tried and tested out of the box. Every file says so. ``primum sample`` rewrites the files
in ``data/sample/`` and ``scenarios/sample_areas.geojson`` byte for byte; a test checks that the committed
files match the generator.

Layout, in metres east and north of the area's south-west corner (UTM 36N, EPSG:32636):
the river runs north-south near x = 6,500 m; Kalo town sits on its west bank around (4,500, 5,000); the UN
base "Camp Alpha" and the large "Alpha PoC site" are on the east bank, across the bridge of the main road.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS

from planner.geo import WGS84, transformer

CRS_UTM = "EPSG:32636"
ORIGIN_E, ORIGIN_N = 560_000.0, 680_000.0  # south-west corner of the area
WIDTH_M, HEIGHT_M = 12_000, 10_000
PIXEL_M = 100
SEED = 20261203
LABEL = "FICTIONAL training area - not a real place"
OPERATION_DAY = date(2026, 12, 3)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Local metres -> (lon, lat) rounded to 6 decimals (about 0.1 m)."""
    lon, lat = transformer(CRS.from_user_input(CRS_UTM), WGS84).transform(ORIGIN_E + x, ORIGIN_N + y)
    return round(float(lon), 6), round(float(lat), 6)


def river_x(y: float) -> float:
    return 6_500 + 300 * math.sin(y / 1_500)


@dataclass(frozen=True)
class Settlement:
    name: str
    x: float
    y: float
    sigma_m: float
    peak_per_pixel: float


SETTLEMENTS = (
    Settlement("Kalo town", 4_500, 5_000, 900, 80.0),
    Settlement("Kalo outskirts", 4_700, 5_200, 2_500, 6.0),
    Settlement("Nyal", 1_500, 8_500, 260, 40.0),
    Settlement("Goro", 2_000, 1_500, 250, 38.0),
    Settlement("Tamba", 9_500, 7_500, 260, 42.0),
    Settlement("Luri", 10_500, 2_500, 240, 36.0),
)
# Rectangles in local metres (x0, y0, x1, y1).
BASE = (7_700, 5_150, 8_500, 5_800)
POC_SITE = (8_600, 4_950, 9_450, 5_900)
SWAMP_NODATA = (10_800, 8_800, 12_000, 10_000)  # no survey coverage: nodata in the raster


def population_grid() -> np.ndarray:
    """People per 100 m pixel, north-up (row 0 is the northern edge); -9999 where there is no data."""
    rng = np.random.default_rng(SEED)
    cols, rows = WIDTH_M // PIXEL_M, HEIGHT_M // PIXEL_M
    xs = (np.arange(cols) + 0.5) * PIXEL_M
    ys = HEIGHT_M - (np.arange(rows) + 0.5) * PIXEL_M
    gx, gy = np.meshgrid(xs, ys)
    people = np.full(gx.shape, 0.5)  # scattered homesteads
    for s in SETTLEMENTS:
        people += s.peak_per_pixel * np.exp(-((gx - s.x) ** 2 + (gy - s.y) ** 2) / (2 * s.sigma_m**2))
    people *= rng.lognormal(mean=0.0, sigma=0.25, size=people.shape)  # households are not smooth
    people[np.abs(gx - np.vectorize(river_x)(gy)) < 60] = 0.0  # the river itself
    for x0, y0, x1, y1 in (BASE, POC_SITE):  # the base and the camp are counted apart from the raster
        people[(gx >= x0) & (gx <= x1) & (gy >= y0) & (gy <= y1)] = 0.0
    x0, y0, x1, y1 = SWAMP_NODATA
    people[(gx >= x0) & (gx <= x1) & (gy >= y0) & (gy <= y1)] = -9999.0
    return np.round(people, 2).astype("float32")


def write_population(path: Path) -> None:
    grid = population_grid()
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": grid.shape[1],
        "height": grid.shape[0],
        "crs": CRS_UTM,
        "transform": Affine(PIXEL_M, 0, ORIGIN_E, 0, -PIXEL_M, ORIGIN_N + HEIGHT_M),
        "nodata": -9999.0,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 64,
        "blockysize": 64,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid, 1)
        dst.update_tags(LABEL=LABEL, UNITS="people per pixel", AS_OF="2026-06-01")


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(lonlat(x, y))}


def _line(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(lonlat(x, y)) for x, y in points]}


def _rect(box: tuple[float, float, float, float]) -> dict[str, Any]:
    x0, y0, x1, y1 = box
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return {"type": "Polygon", "coordinates": [[list(lonlat(x, y)) for x, y in ring]]}


def _polygon(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    ring = [*points, points[0]]
    return {"type": "Polygon", "coordinates": [[list(lonlat(x, y)) for x, y in ring]]}


def _collection(name: str, features: list[dict[str, Any]]) -> str:
    data = {
        "type": "FeatureCollection",
        "name": name,
        "description": LABEL,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def sites_geojson() -> str:
    """Infrastructure and protected sites tagged as OpenStreetMap exports tag them."""
    sites = [
        ("school", {"amenity": "school", "name": "Kalo Primary School"}, 4_300, 4_800),
        ("school", {"amenity": "school", "name": "Kalo Secondary School"}, 4_950, 5_550),
        ("school", {"amenity": "school", "name": "Tamba Primary School"}, 9_600, 7_650),
        ("school", {"amenity": "school", "name": "Nyal Bush School"}, 1_650, 8_350),
        (
            "worship",
            {"amenity": "place_of_worship", "religion": "christian", "name": "St Mary's Church"},
            4_450,
            5_120,
        ),
        (
            "worship",
            {"amenity": "place_of_worship", "religion": "muslim", "name": "Kalo Mosque"},
            4_820,
            4_700,
        ),
        (
            "worship",
            {"amenity": "place_of_worship", "religion": "christian", "name": "Luri Chapel"},
            10_450,
            2_600,
        ),
        (
            "market",
            {"amenity": "marketplace", "name": "Kalo Market", "opening_hours": "Mo,Th 06:00-14:00"},
            4_600,
            5_000,
        ),
        ("water", {"man_made": "water_tower", "name": "Kalo Water Tower"}, 4_350, 5_350),
        ("water", {"man_made": "water_works", "name": "Kalo Pumping Station"}, 6_250, 5_650),
        ("water", {"man_made": "water_well", "name": "Nyal Borehole"}, 1_450, 8_600),
        ("water", {"man_made": "water_well", "name": "Goro Borehole"}, 2_050, 1_400),
        ("water", {"man_made": "water_well", "name": "Tamba Borehole"}, 9_400, 7_450),
        ("water", {"amenity": "drinking_water", "name": "PoC Site Tap Stand 1"}, 8_900, 5_200),
        ("power", {"power": "substation", "name": "Kalo Substation"}, 5_200, 4_400),
        ("power", {"man_made": "communications_tower", "name": "Kalo Mast"}, 3_900, 5_700),
        ("bridge", {"man_made": "bridge", "bridge": "yes", "name": "Kalo Bridge"}, river_x(5_000), 5_000),
        ("government", {"office": "government", "name": "Kalo County Office"}, 4_700, 5_150),
        ("humanitarian", {"office": "ngo", "name": "Relief Partners Compound"}, 8_500, 4_700),
        ("other", {"landuse": "military", "name": "Camp Alpha (UN base)"}, 8_100, 5_450),
    ]
    features = [
        _feature(_point(x, y), {"id": f"kalo-site-{i + 1:02d}", **tags}) for i, (_, tags, x, y) in enumerate(sites)
    ]
    features.append(
        _feature(_rect(BASE), {"id": "kalo-site-base", "landuse": "military", "name": "Camp Alpha perimeter"})
    )
    return _collection("kalo_sites_osm_style", features)


def health_csv() -> str:
    """Health facilities as a ministry list: CSV with coordinates and a functional status."""
    rows = [
        ("HF-01", "Kalo County Hospital", "Hospital", "Functional", 4_700, 5_300),
        ("HF-02", "Camp Alpha Level 1 Clinic (UN)", "Clinic", "Functional", 8_150, 5_600),
        ("HF-03", "Alpha PoC Site Clinic (NGO)", "Clinic", "Functional", 9_100, 5_500),
        ("HF-04", "Tamba Health Post", "Health post", "Partially functional", 9_550, 7_350),
        ("HF-05", "Goro PHCU", "PHCU", "Not functional", 2_100, 1_600),
        ("HF-06", "Nyal PHCU", "PHCU", "", 1_600, 8_450),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "facility_id",
            "facility_name",
            "facility_type",
            "functional_status",
            "latitude",
            "longitude",
            "note",
        ]
    )
    for fid, name, kind, status, x, y in rows:
        lon, lat = lonlat(x, y)
        writer.writerow([fid, name, kind, status, f"{lat:.6f}", f"{lon:.6f}", LABEL])
    return out.getvalue()


def idp_polygon_geojson() -> str:
    props = {
        "site_id": "KAL-001",
        "name": "Alpha PoC Site",
        "site_type": "PoC site",
        "individuals": 14_200,
        "households": 2_840,
        "assessment_date": "2026-10-15",
        "note": LABEL,
    }
    return _collection("kalo_idp_sites", [_feature(_rect(POC_SITE), props)])


def idp_hxl_csv() -> str:
    """Two small displacement sites as an HXL-tagged CSV (tag row under the header)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["Site ID", "Site name", "Site type", "Latitude", "Longitude", "IDP individuals", "Date reported", "Note"]
    )
    writer.writerow(
        [
            "#loc+code",
            "#loc+name",
            "#loc+type",
            "#geo+lat",
            "#geo+lon",
            "#affected+idps+ind",
            "#date+reported",
            "#meta+note",
        ]
    )
    for sid, name, kind, x, y, people, reported in (
        ("KAL-002", "Nyal Collective Centre", "collective centre", 1_700, 8_300, 650, "2026-09-20"),
        ("KAL-003", "Goro School Shelter", "collective centre", 2_150, 1_700, 320, "2026-09-22"),
    ):
        lon, lat = lonlat(x, y)
        writer.writerow([sid, name, kind, f"{lat:.6f}", f"{lon:.6f}", people, reported, LABEL])
    return out.getvalue()


# Road network: (id, OSM highway class, surface, rainy-season passability, is a bridge, points in local metres).
_BRIDGE_X = river_x(5_000)
# fmt: off
ROADS: tuple[tuple[str, str, str, str, bool, tuple[tuple[float, float], ...]], ...] = (
    ("main-west", "primary", "asphalt", "all season", False,
     ((0, 5_000), (3_000, 5_000), (4_500, 5_000), (_BRIDGE_X - 80, 5_000))),
    ("main-bridge", "primary", "asphalt", "all season", True, ((_BRIDGE_X - 80, 5_000), (_BRIDGE_X + 80, 5_000))),
    ("main-east", "primary", "asphalt", "all season", False,
     ((_BRIDGE_X + 80, 5_000), (8_000, 5_000), (9_500, 5_000), (12_000, 5_000))),
    ("town-north", "secondary", "gravel", "all season", False, ((4_500, 5_000), (4_500, 7_000), (4_400, 10_000))),
    ("town-south", "secondary", "gravel", "all season", False, ((4_500, 5_000), (4_600, 2_500), (4_700, 0))),
    ("street-1", "residential", "dirt", "all season", False, ((3_800, 5_500), (4_500, 5_500), (5_200, 5_500))),
    ("street-2", "residential", "dirt", "all season", False, ((3_800, 4_500), (4_500, 4_500), (5_200, 4_500))),
    ("street-3", "residential", "dirt", "all season", False, ((3_800, 4_500), (3_800, 5_000), (3_800, 5_500))),
    ("street-4", "residential", "dirt", "all season", False, ((5_200, 4_500), (5_200, 5_000), (5_200, 5_500))),
    ("street-5", "residential", "dirt", "all season", False, ((3_800, 5_000), (4_500, 5_000))),
    ("street-6", "residential", "dirt", "all season", False, ((4_500, 5_000), (5_200, 5_000))),
    ("base-access", "service", "gravel", "all season", False, ((8_000, 5_000), (8_100, 5_150))),
    ("poc-access", "service", "gravel", "all season", False, ((9_000, 5_000), (9_000, 4_950))),
    ("track-nyal", "track", "earth", "dry season only", False, ((4_500, 7_000), (3_000, 7_800), (1_600, 8_400))),
    ("track-goro", "track", "earth", "dry season only", False, ((4_600, 2_500), (3_200, 2_000), (2_100, 1_550))),
    ("track-tamba", "unclassified", "earth", "dry season only", False,
     ((9_500, 5_000), (9_600, 6_500), (9_500, 7_400))),
    ("track-luri", "unclassified", "earth", "all season", False, ((9_500, 5_000), (10_200, 3_800), (10_500, 2_600))),
)
# fmt: on


def roads_geojson() -> str:
    features = [
        _feature(
            _line(points),
            {
                "id": rid,
                "highway": cls,
                "surface": surface,
                "rainy_season": rainy,
                "bridge": "yes" if bridge else "no",
                "name": rid.replace("-", " ").title(),
            },
        )
        for rid, cls, surface, rainy, bridge, points in ROADS
    ]
    return _collection("kalo_roads", features)


def backdrop_geojson() -> str:
    river = [(river_x(y), y) for y in range(0, HEIGHT_M + 1, 250)]
    features = [
        _feature(_line(river), {"name": "Kalo River", "feature": "river"}),
        _feature(_rect((0, 0, WIDTH_M, HEIGHT_M)), {"name": f"Kalo training area ({LABEL})", "feature": "boundary"}),
        _feature(_rect(SWAMP_NODATA), {"name": "Toc swamp (no population data)", "feature": "wetland"}),
    ]
    features += [
        _feature(_point(s.x, s.y), {"name": s.name, "feature": "settlement"})
        for s in SETTLEMENTS
        if s.name != "Kalo outskirts"
    ]
    return _collection("kalo_backdrop", features)


# Where reports cluster: (x, y, spread in m, weight, kinds with their weights).
_HOTSPOTS = (
    (4_600, 6_600, 500, 5, {"Battles": 4, "Violence against civilians": 3, "Explosions/Remote violence": 2}),
    (1_800, 8_200, 600, 3, {"Violence against civilians": 5, "Battles": 1}),
    (9_000, 5_400, 700, 3, {"Violence against civilians": 3, "Protests": 2, "Sexual violence": 2}),
    (10_300, 2_700, 800, 1, {"Battles": 2, "Strategic developments": 2}),
)
_ACTORS = ("Kalo Hills Militia", "Toc Youth Group", "Unidentified armed group", "Cattle raiders (fictional)")
_SUB_EVENTS = {
    "Battles": "Armed clash",
    "Violence against civilians": "Attack",
    "Explosions/Remote violence": "Shelling/artillery/missile attack",
    "Protests": "Peaceful protest",
    "Strategic developments": "Looting/property destruction",
}


def events_acled_csv() -> str:
    """Six months of fictional threat reports in ACLED's column layout; some name a community source."""
    rng = np.random.default_rng(SEED + 1)
    weights = np.array([h[3] for h in _HOTSPOTS], dtype=float)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "event_id_cnty",
            "event_date",
            "year",
            "time_precision",
            "event_type",
            "sub_event_type",
            "actor1",
            "actor2",
            "civilian_targeting",
            "admin1",
            "admin2",
            "location",
            "latitude",
            "longitude",
            "geo_precision",
            "source",
            "notes",
            "fatalities",
        ]
    )
    start = OPERATION_DAY - timedelta(days=182)
    for i in range(72):
        hx, hy, spread, _, kinds = _HOTSPOTS[rng.choice(len(_HOTSPOTS), p=weights / weights.sum())]
        names, kind_w = list(kinds), np.array(list(kinds.values()), dtype=float)
        chosen = names[rng.choice(len(names), p=kind_w / kind_w.sum())]
        event_type, sub = (
            (("Violence against civilians", "Sexual violence"))
            if chosen == "Sexual violence"
            else (chosen, _SUB_EVENTS[chosen])
        )
        x = float(np.clip(hx + rng.normal(0, spread), 100, WIDTH_M - 100))
        y = float(np.clip(hy + rng.normal(0, spread), 100, HEIGHT_M - 100))
        lon, lat = lonlat(x, y)
        day = start + timedelta(days=int(rng.integers(0, 180)))
        civilian = "Civilian targeting" if event_type == "Violence against civilians" else ""
        community = rng.random() < 0.3
        source = (
            f"CAN alert: informant {chr(65 + int(rng.integers(0, 26)))}.{chr(65 + int(rng.integers(0, 26)))}."
            f" (fictional), {['Nyal', 'Tamba', 'Kalo', 'Goro'][int(rng.integers(0, 4))]}"
            if community
            else "Mission patrol report (fictional)"
        )
        notes = (
            f"Reported by community member; identity protected. {LABEL}"
            if community
            else f"Patrol observation. {LABEL}"
        )
        fatalities = int(rng.poisson(1.5 if event_type in {"Battles", "Violence against civilians"} else 0.3))
        writer.writerow(
            [
                f"KAL{i + 1:04d}",
                day.isoformat(),
                day.year,
                int(rng.choice([1, 1, 1, 2])),
                event_type,
                sub,
                _ACTORS[int(rng.integers(0, len(_ACTORS)))],
                "Civilians (fictional)" if civilian else "",
                civilian,
                "Kalo State (fictional)",
                "Kalo County (fictional)",
                "Kalo area",
                f"{lat:.6f}",
                f"{lon:.6f}",
                int(rng.choice([1, 1, 1, 2])),
                source,
                notes,
                fatalities,
            ]
        )
    return out.getvalue()


def operation_areas_geojson() -> str:
    """Cordon areas of the sample plan's COAs, kept beside the plan as planners draw them."""
    features = [
        _feature(
            _polygon([(3_900, 5_700), (5_300, 5_700), (5_300, 6_900), (3_900, 6_900)]),
            {"id": "cordon-north-quarter", "name": "Cordon: Kalo north quarter"},
        ),
        _feature(
            _polygon([(2_900, 4_600), (3_500, 4_600), (3_500, 5_600), (2_900, 5_600)]),
            {"id": "cordon-west-edge", "name": "Cordon: Kalo west edge"},
        ),
        _feature(
            _polygon([(2_300, 6_700), (3_300, 6_700), (3_300, 7_500), (2_300, 7_500)]),
            {"id": "cordon-nyal-track", "name": "Cordon: Nyal track junction"},
        ),
        _feature(
            _line([(8_100, 5_150), (8_000, 5_000), (river_x(5_000), 5_000), (4_500, 5_000), (3_500, 5_000)]),
            {"id": "route-main-road", "name": "Convoy: base to west edge by the main road"},
        ),
        _feature(
            _line([(4_500, 5_000), (4_500, 7_000), (3_300, 7_700)]),
            {"id": "route-nyal-track", "name": "Patrol: town to Nyal track"},
        ),
    ]
    return _collection("kalo_operation_areas", features)


def files() -> dict[str, str]:
    """Every text file of the sample, by path relative to the project root."""
    return {
        "data/sample/sites_osm.geojson": sites_geojson(),
        "data/sample/health_facilities.csv": health_csv(),
        "data/sample/idp_sites.geojson": idp_polygon_geojson(),
        "data/sample/idp_sites_hxl.csv": idp_hxl_csv(),
        "data/sample/roads.geojson": roads_geojson(),
        "data/sample/backdrop.geojson": backdrop_geojson(),
        "data/sample/events_acled.csv": events_acled_csv(),
        "scenarios/sample_areas.geojson": operation_areas_geojson(),
    }


def write_sample(root: Path) -> list[Path]:
    """Write the sample under ``root`` (the project root); returns the files written."""
    written = []
    for relative, text in files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    raster = root / "data/sample/population_100m.tif"
    write_population(raster)
    (root / "data/sample/README.txt").write_text(
        f"{LABEL}.\nEverything in this folder is invented by planner/sample.py (`primum sample`) for training "
        "and tests.\nNo person, place, site or incident here is real.\n",
        encoding="utf-8",
    )
    return [*written, raster, root / "data/sample/README.txt"]
