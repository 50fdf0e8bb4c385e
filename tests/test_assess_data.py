"""The assessment on the sample (golden figures) and on real Juba layers (oracles from the libraries)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import rasterio
import shapely
from conftest import require_realdata
from exactextract import exact_extract
from pyproj import Geod

from planner.assess import assess
from planner.exposure import coa_zones
from planner.plan import open_plan

ROOT = Path(__file__).resolve().parent.parent
GEOD = Geod(ellps="WGS84")
GOLDEN = Path(__file__).resolve().parent / "golden" / "sample_assessment.json"


def essentials(result: dict[str, Any]) -> dict[str, Any]:
    """What a reader of the sample assessment checks: scores, levels, people, sites, ranking, precautions."""
    return {
        "ranking": result["comparison"]["ranking"],
        "coas": {
            coa["id"]: {
                "score": round(coa["risk"]["score"], 1),
                "level": coa["risk"]["level"],
                "casualties": {k: round(v, 2) for k, v in coa["risk"]["casualties"].items()},
                "people": {z: round(coa["exposure"][z]["people"]) for z in ("core", "outer")},
                "displaced": {z: round(coa["exposure"][z]["displaced"]) for z in ("core", "outer")},
                "sites": sorted(f"{s['name']}|{s['zone']}|{s['element']}" for s in coa["sites"]),
                "reports": coa["threats"]["count"],
                "precautions": [f"{i['id']}|{i['kind']}" for i in coa["checklist"]["items"]],
            }
            for coa in result["coas"]
        },
    }


def test_sample_assessment_matches_its_golden_figures() -> None:
    plan, layerset = open_plan(ROOT / "scenarios/sample.yaml")
    got = essentials(assess(plan, layerset).to_dict())
    if os.environ.get("PRIMUM_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=2) + "\n")
    assert got == json.loads(GOLDEN.read_text())


def test_sample_coas_differ_as_a_planner_would_expect() -> None:
    plan, layerset = open_plan(ROOT / "scenarios/sample.yaml")
    result = assess(plan, layerset).to_dict()
    coas = {c["id"]: c for c in result["coas"]}
    # A cordons the dense north quarter and lands by the PoC site; C works in open ground by Nyal.
    assert coas["A"]["risk"]["score"] > coas["B"]["risk"]["score"] > coas["C"]["risk"]["score"]
    assert result["comparison"]["ranking"][0] == "C"
    assert any(s["name"] == "Alpha PoC Site" and s["element"] == "lz-1" for s in coas["A"]["sites"])
    assert any(s["name"] == "Kalo Market" and s["element"] == "convoy-1" for s in coas["B"]["sites"])
    # Sensitive source fields of the threat reports never reach the result.
    assert "informant" not in json.dumps(result).lower()


@pytest.fixture(scope="module")
def juba() -> Any:
    require_realdata()
    plan, layerset = open_plan(Path(__file__).resolve().parent / "scenarios/juba_poc.yaml")
    return plan, layerset, assess(plan, layerset)


def test_juba_people_in_zones_match_exactextract_on_the_full_raster(juba: Any) -> None:
    _, layerset, assessment = juba
    population = layerset.population
    for result in assessment.coas:
        core, ring = coa_zones(result.zones)
        zones = gpd.GeoDataFrame({"zone": ["core", "outer"]}, geometry=[core, ring], crs=assessment.crs)
        with rasterio.open(population.path) as src:
            # The oracle: exactextract over the whole file (not a window): the sum of densities weighted by
            # the covered fraction of each pixel, times the geodesic area of a pixel at the zone's latitude.
            oracle = exact_extract(src, zones.to_crs(src.crs), ["sum"], output="pandas")["sum"]
            res_x, res_y = src.res
        for i, zone in enumerate(("core", "outer")):
            lat = zones.to_crs("EPSG:4326").geometry.iloc[i].centroid.y
            pixel_km2 = (
                abs(GEOD.polygon_area_perimeter([0, res_x, res_x, 0], [lat, lat, lat + res_y, lat + res_y])[0]) / 1e6
            )
            expected = float(oracle.iloc[i]) * pixel_km2
            assert result.exposure.zones[zone].people == pytest.approx(expected, rel=1e-3), (result.coa.id, zone)


def test_juba_sites_in_zones_match_a_direct_shapely_computation(juba: Any) -> None:
    _, layerset, assessment = juba
    for result in assessment.coas:
        outer = shapely.union_all([z.outer for z in result.zones])
        expected = set()
        for layer in [*layerset.of_kind("sites"), *layerset.of_kind("displacement")]:
            projected = layer.frame.to_crs(assessment.crs)
            inside = projected[projected.intersects(outer)]
            expected |= {(layer.id, str(i)) for i in inside["site_id"]}
        got = {(s.layer, s.id) for s in result.exposure.sites}
        assert got == expected, result.coa.id


def test_juba_landing_zone_reaches_the_un_house_poc_site(juba: Any) -> None:
    _, _, assessment = juba
    lz = next(r for r in assessment.coas if r.coa.id == "LZ")
    camps = [s for s in lz.exposure.sites if s.category == "displacement"]
    assert "Juba UN House PoC3" in {s.name for s in camps}
    assert any(w.code == "stale" and w.layer == "idp" for w in assessment.warnings)  # 2015 counts
    assert any(f.code == "coarse_raster" for f in lz.exposure.flags["people"])
