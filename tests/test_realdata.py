"""Real layers for Juba, Bentiu and Bangui, read through manifests, checked as a user would check them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import require_realdata
from rasterio.features import rasterize

from planner.assess import assess
from planner.layers import LayerSet, load_layerset
from planner.plan import open_plan

MANIFESTS = Path(__file__).resolve().parent / "manifests"
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def realdata_juba() -> LayerSet:
    require_realdata()
    return load_layerset(MANIFESTS / "juba.yaml")


def test_juba_counts_per_category(realdata_juba) -> None:  # type: ignore[no-untyped-def]
    layers = realdata_juba.layers
    assert len(layers["health"].frame) == 59
    assert layers["health"].frame["functional"].value_counts(dropna=False).to_dict() == {True: 56, False: 2, None: 1}
    assert len(layers["hospitals_osm"].frame) == 30 and set(layers["hospitals_osm"].frame["category"]) == {"health"}
    pois = layers["pois"].frame["category"].value_counts().to_dict()
    # Geofabrik writes one OSM node once per tag class (a well that is also drinking water, a hotel with a
    # restaurant): 240 rows, 236 places
    assert pois == {"other": 163, "power": 43, "water": 12, "health": 9, "government": 5, "education": 4}
    assert next(f for f in layers["pois"].flags if f.code == "grouped_rows").rows == (3, 31, 112, 136)
    assert len(layers["worship"].frame) == 14 and set(layers["worship"].frame["category"]) == {"worship"}
    assert len(layers["roads"].frame) == 147
    assert layers["roads"].frame["road_class"].value_counts().to_dict() == {
        "Local/Urban": 123,
        "Primary": 20,
        "Tertiary": 3,
        "Secondary": 1,
    }


def test_juba_known_flaws_are_reported(realdata_juba) -> None:  # type: ignore[no-untyped-def]
    flags = {(f.layer, f.code) for f in realdata_juba.all_flags(date(2026, 12, 1))}
    assert ("population", "coarse_raster") in flags  # 1 km derived raster
    assert ("idp_ocha_points", "town_centroid") in flags  # 2015 sites sit on one town point
    assert ("idp", "shared_count") in flags  # UN House count given to both PoC1 and PoC2
    assert ("idp", "population_unknown") in flags  # Mangateen has no count
    assert ("idp", "stale") in flags and ("roads", "stale") in flags
    centroid = next(f for f in realdata_juba.all_flags(date(2026, 12, 1)) if f.code == "town_centroid")
    assert len(centroid.rows) == 8


def test_juba_un_house_poc_sites(realdata_juba) -> None:  # type: ignore[no-untyped-def]
    idp = realdata_juba.layers["idp"].frame.set_index("name")
    assert idp.loc["Juba UN House PoC3", "population"] == 19_294
    assert idp.loc["Juba UN House PoC1"].geometry.geom_type == "Polygon"


def test_juba_raster_window_counts_people(realdata_juba) -> None:  # type: ignore[no-untyped-def]
    window = realdata_juba.population.read_window((31.55, 4.80, 31.65, 4.90))
    assert window.shape == (13, 13)
    # About 11 km by 11 km at ~30-55 people per km² in this smooth derived raster.
    assert 4_000 < float(window.people().sum()) < 7_000


def test_bentiu(realdata: Path) -> None:
    layerset = load_layerset(MANIFESTS / "bentiu.yaml")
    assert len(layerset.layers["health"].frame) == 18
    assert len(layerset.layers["roads"].frame) == 17
    assert layerset.layers["idp"].frame[["name", "population"]].values.tolist() == [["Bentiu PoC", 52_908]]
    flags = {(f.layer, f.code) for f in layerset.all_flags(date(2026, 12, 1))}
    assert ("population", "coarse_raster") in flags
    assert ("idp_ocha_points", "town_centroid") in flags


def test_bangui_ucdp_events(realdata: Path) -> None:
    layerset = load_layerset(MANIFESTS / "bangui.yaml")
    bangui = layerset.layers["events"].frame
    assert len(bangui) == 234
    assert bangui["kind"].value_counts().to_dict() == {"attack_on_civilians": 118, "armed_clash": 116}
    assert int(bangui["one_sided"].sum()) == 118
    assert bangui["location_precision_m"].value_counts().to_dict() == {1_000.0: 226, 25_000.0: 7, 50_000.0: 1}
    assert len(layerset.layers["events_car"].frame) == 1848
    assert layerset.layers["events"].as_of.year == 2022


def test_dtm_figures_per_county_join_the_county_boundaries() -> None:
    require_realdata()
    layerset = load_layerset(MANIFESTS / "ssd_counties.yaml")
    dtm = layerset.layers["dtm"]
    frame = dtm.frame
    assert len(frame) == 78 and set(frame.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    # The table's own total row says 374,845 people in displacement sites
    assert frame["population"].sum() == 374_845
    assert [d.rows for d in dtm.dropped] == [(80, 81)]  # the total row and the percentages row
    assert frame["population"].isna().sum() == 41  # '-' and blank: no figure, never zero
    juba = frame.set_index("site_id").loc["Juba"]
    assert juba["population"] == 50_170
    assert 400_000 < juba["area_people"] < 800_000  # WorldPop 2020 puts about half a million in Juba county
    assert {f.code for f in dtm.flags} >= {"area_level", "rows_dropped", "population_unknown"}


def test_a_county_population_table_scales_the_raster_to_its_figures() -> None:
    require_realdata()
    layerset = load_layerset(MANIFESTS / "ssd_counties.yaml")
    table = layerset.layers["county_population"]
    population = layerset.population
    assert population is not None and population.scaled_by == "county_population"
    assert len(table.frame) == 78  # 79 counties less Abyei, which the 2020 boundaries do not hold
    assert table.frame["population"].sum() == pytest.approx(11_703_108, abs=1)  # the file's own total row
    assert [d.reason for d in table.dropped][-1] == "no area in 'counties' (admin_names leaves it out)"
    juba = table.frame.set_index("area_key").loc["Juba"]
    window = population.read_window(juba.geometry.bounds)
    inside = rasterize([(juba.geometry, 1)], out_shape=window.shape, transform=window.transform).astype(bool)
    # 18 km pixels taken whole by their centres: within a tenth of the table's 499,538
    assert float(window.people()[inside].sum()) == pytest.approx(499_538, rel=0.1)
    # Displaced people per county are spread over the scaled raster: Juba's share denominator is the table's
    dtm = layerset.layers["dtm"].frame.set_index("site_id")
    assert dtm.loc["Juba", "area_people"] == pytest.approx(499_538, rel=1e-3)


def test_county_displacement_figures_enter_the_estimate_without_posing_as_camps(tmp_path: Path) -> None:
    require_realdata()
    juba = yaml.safe_load((MANIFESTS / "juba.yaml").read_text(encoding="utf-8"))
    counties = yaml.safe_load((MANIFESTS / "ssd_counties.yaml").read_text(encoding="utf-8"))["layers"]
    juba["layers"] |= {key: counties[key] for key in ("counties", "dtm")}
    for spec in juba["layers"].values():
        spec["path"] = str((MANIFESTS / spec["path"]).resolve())
    (tmp_path / "juba_dtm.yaml").write_text(yaml.safe_dump(juba), encoding="utf-8")
    plan = yaml.safe_load((ROOT / "tests" / "scenarios" / "juba_poc.yaml").read_text(encoding="utf-8"))
    plan["layers"] = str(tmp_path / "juba_dtm.yaml")
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")

    def cordon(path: Path) -> dict:  # type: ignore[type-arg]
        return next(c for c in assess(*open_plan(path)).to_dict()["coas"] if c["id"] == "CORDON")

    before, after = cordon(ROOT / "tests" / "scenarios" / "juba_poc.yaml"), cordon(tmp_path / "plan.yaml")
    # Juba county's 50,170 displaced are spread over its ~500,000 residents: a few more people in the cordon
    central = before["risk"]["casualties"]["central"], after["risk"]["casualties"]["central"]
    assert central[0] < central[1] < central[0] * 1.05
    # The county is no camp: no displacement 'site' called Juba, and the figure says where the people went
    assert "Juba" not in {s["id"] for s in after["sites"]}
    assert any("per admin area" in f["message"] for f in after["exposure"]["flags"]["displaced"])
