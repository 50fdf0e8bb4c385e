"""The precaution checklist: every rule raised by a small hand-made world, and not raised by its twin.

The world (tests/world.py) is 1 km square, 10 people in each 100 m pixel (1,000 per km²), with a cordon over
x 300-600 m, y 400-700 m (outer zone 100 m beyond) and a displacement camp over x 500-800 m, y 400-700 m.
The window is Sunday 1 June 2025, 06:00-12:00.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import require_realdata
from world import lonlat, make_world

from planner.assess import assess
from planner.plan import open_plan
from planner.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FAR_CAMP = {
    "type": "Feature",
    "properties": {"name": "Far camp", "ind": 300},
    "geometry": {"type": "Point", "coordinates": lonlat(950, 50)},
}
NO_SITES: list[tuple[Any, ...]] = [("clinic", "Far clinic", 950, 50)]
MAIN = ("main", "primary", "All Season", [(50, 550), (950, 550)])
BYPASS = ("bypass", "track", "Dry Season Only", [(50, 550), (50, 100), (950, 100), (950, 550)])
EAST_CLINIC = [("clinic", "East clinic", 900, 560)]


def element(id: str, activity: str, x: float, y: float, **extra: Any) -> dict[str, Any]:
    return {"id": id, "activity": activity, "position": lonlat(x, y), **extra}


def convoy(x0: float = 50, x1: float = 950, y: float = 550) -> dict[str, Any]:
    line = {"type": "LineString", "coordinates": [lonlat(x0, y), lonlat(x1, y)]}
    return {"id": "convoy-1", "activity": "convoy", "geometry": line}


def events(*rows: str, header: str = "date,lat,lon,type") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def at(x: float, y: float) -> str:
    lon, lat = lonlat(x, y)
    return f"{lat},{lon}"


def checklist(tmp_path: Path, lang: str = "en", settings: Settings | None = None, **world: Any) -> dict[str, Any]:
    """The rendered checklist of the world's first COA: items by rule id, and the ids not raised."""
    plan, layers = open_plan(make_world(tmp_path, **world))
    settings = settings or Settings(surface={"margin_m": 300})  # the study area holds the whole world
    result = assess(plan, layers, settings).to_dict(lang)
    found = result["coas"][0]["checklist"]
    return {
        "items": {i["id"]: i for i in found["items"]},
        "not_raised": {i["id"] for i in found["not_raised"]},
        "context": {i["id"]: i for i in found["context"]},
    }


def raised(found: dict[str, Any], rule: str) -> dict[str, Any]:
    assert rule in found["items"], f"{rule} not raised; not raised: {sorted(found['not_raised'])}"
    item = found["items"][rule]
    assert item["kind"] == "finding", item
    return item


def not_raised(found: dict[str, Any], rule: str) -> None:
    assert rule in found["not_raised"], found["items"].get(rule)


# --- sites in zones ----------------------------------------------------------------------------------------


MORTAR = element("mortar-1", "mortar_60mm", 450, 550, observer=True, munitions=6)


@pytest.mark.parametrize(
    ("rule", "tag", "name", "means"),
    [
        ("P01", "clinic", "Target clinic", "mortar-1"),
        ("P02", "school", "Target school", "mortar-1"),
        ("P03", "place_of_worship", "Target church", "mortar-1"),
        ("P09", "water_point", "Target water point", "mortar-1"),
        ("P10", "man_made=bridge", "Target bridge", "mortar-1"),
        ("P11", "office=ngo", "Cordon NGO office", "cordon-1"),
        ("P38", "clinic", "Cordon clinic", "cordon-1"),
        ("P38", "school", "Cordon school", "cordon-1"),
    ],
)
def test_a_site_in_the_zone_of_the_means_its_rule_is_about_raises_it_naming_it_and_far_away_does_not(
    tmp_path: Path, rule: str, tag: str, name: str, means: str
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "far").mkdir()
    roads = [MAIN, BYPASS]  # two links between the same ends: neither is the only one (P10)
    elements = [MORTAR] if means == "mortar-1" else None
    item = raised(checklist(tmp_path / "in", sites=[(tag, name, 450, 550)], roads=roads, elements=elements), rule)
    [evidence] = item["evidence"]
    assert evidence["data"]["site"] == name
    assert evidence["data"]["zone"] == "core" and evidence["data"]["element"] == means
    assert evidence["data"]["distance_m"] == 0
    assert name in item["text"] and name in evidence["text"]
    not_raised(checklist(tmp_path / "far", sites=[(tag, name, 950, 50)], roads=roads, elements=elements), rule)


def test_a_clinic_in_the_outer_ring_of_a_cordon_is_raised_with_its_distance(tmp_path: Path) -> None:
    item = raised(checklist(tmp_path, sites=[("clinic", "Ring clinic", 450, 750)]), "P38")
    assert item["evidence"][0]["data"]["zone"] == "outer"
    assert item["evidence"][0]["data"]["distance_m"] == pytest.approx(50, abs=1)
    assert "50 m away" in item["evidence"][0]["text"]


def test_a_camp_in_the_cordon_raises_the_displacement_item_and_a_far_camp_does_not(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "far").mkdir()
    item = raised(checklist(tmp_path / "in", sites=NO_SITES), "P04")
    assert item["evidence"][0]["data"]["site"] == "Camp" and item["evidence"][0]["data"]["people"] == 1000
    not_raised(checklist(tmp_path / "far", sites=NO_SITES, camp=FAR_CAMP), "P04")


def test_rotor_wash_reaches_the_camp_only_from_a_landing_zone(tmp_path: Path) -> None:
    (tmp_path / "lz").mkdir()
    (tmp_path / "cordon").mkdir()
    lz = element("lz-1", "helicopter_lz", 650, 300)  # 100 m south of the camp; rotor wash reaches 150 m
    item = raised(checklist(tmp_path / "lz", sites=NO_SITES, elements=[lz]), "P05")
    [evidence] = [e for e in item["evidence"] if e["data"].get("site") == "Camp"]
    assert evidence["data"]["element"] == "lz-1" and evidence["data"]["distance_m"] == pytest.approx(100, abs=1)
    cordon_only = checklist(tmp_path / "cordon", sites=NO_SITES)
    raised(cordon_only, "P04")  # the camp is in the cordon's zones ...
    not_raised(cordon_only, "P05")  # ... but no rotor wash reaches it


@pytest.mark.parametrize(("rule", "tag"), [("P06", "marketplace"), ("P25", "school")])
def test_a_market_or_school_open_in_the_window_is_raised_a_closed_one_is_not_and_unknown_hours_are_a_prompt(
    tmp_path: Path, rule: str, tag: str
) -> None:
    for case in ("open", "closed", "unknown"):
        (tmp_path / case).mkdir()

    def market(hours: str | None) -> list[tuple[Any, ...]]:
        return [(tag, "Sunday market", 450, 550, {"opening_hours": hours} if hours else {})]

    item = raised(checklist(tmp_path / "open", sites=market("Su 05:00-10:00")), rule)
    assert item["evidence"][0]["data"]["hours"] == "Su 05:00-10:00"
    not_raised(checklist(tmp_path / "closed", sites=market("Mo 05:00-10:00")), rule)
    prompt = checklist(tmp_path / "unknown", sites=market(None))["items"][rule]
    assert prompt["kind"] == "prompt" and not prompt["evidence"][0]["decided"]
    assert "opening hours unknown" in prompt["evidence"][0]["text"] and prompt["decided_by"]


# --- elements ----------------------------------------------------------------------------------------------


def test_a_mortar_in_a_populated_area_raises_the_explosive_items_and_in_empty_land_only_the_remnants(
    tmp_path: Path,
) -> None:
    (tmp_path / "town").mkdir()
    (tmp_path / "empty").mkdir()
    mortar = element("mortar-1", "mortar_60mm", 450, 550, observer=False, munitions=6)
    town = checklist(tmp_path / "town", sites=NO_SITES, elements=[mortar])
    item = raised(town, "P07")
    # 10 people per 100 m pixel is 1,000 per km², above the 500 of the settings.
    assert item["evidence"][0]["data"]["density_km2"] == pytest.approx(1000, rel=0.01)
    raised(town, "P08")
    assert raised(town, "P28")["evidence"][0]["data"]["munitions"] == 6
    empty = checklist(tmp_path / "empty", sites=NO_SITES, elements=[mortar], people_per_pixel=1.0)
    not_raised(empty, "P07")
    not_raised(empty, "P08")
    raised(empty, "P28")  # remnants are to be cleared wherever explosive means are used


def test_an_observer_on_the_target_lifts_the_unobserved_fire_item_and_an_unstated_one_is_a_prompt(
    tmp_path: Path,
) -> None:
    (tmp_path / "seen").mkdir()
    (tmp_path / "unsaid").mkdir()
    seen = element("mortar-1", "mortar_60mm", 450, 550, observer=True)
    not_raised(checklist(tmp_path / "seen", sites=NO_SITES, elements=[seen]), "P08")
    unsaid = element("mortar-1", "mortar_60mm", 450, 550)
    prompt = checklist(tmp_path / "unsaid", sites=NO_SITES, elements=[unsaid])["items"]["P08"]
    assert prompt["kind"] == "prompt" and "observer" in prompt["evidence"][0]["text"]


def test_harm_tracking_is_raised_for_fires_and_for_a_cordon_alike(tmp_path: Path) -> None:
    (tmp_path / "fire").mkdir()
    (tmp_path / "cordon").mkdir()
    fire = checklist(tmp_path / "fire", sites=NO_SITES, elements=[element("fire-1", "small_arms", 450, 550)])
    raised(fire, "P29")
    not_raised(fire, "P28")  # small arms are kinetic, not explosive
    raised(checklist(tmp_path / "cordon", sites=NO_SITES), "P29")


def test_an_assembly_area_among_homes_is_raised_and_one_in_empty_land_is_not(tmp_path: Path) -> None:
    (tmp_path / "homes").mkdir()
    (tmp_path / "empty").mkdir()
    base = element("assembly-1", "assembly_area", 200, 200)  # 300 m outer zone over ~280 people
    item = raised(checklist(tmp_path / "homes", sites=NO_SITES, camp=FAR_CAMP, elements=[base]), "P17")
    assert item["evidence"][0]["data"]["people"] >= 100
    empty = checklist(
        tmp_path / "empty", sites=NO_SITES, camp=FAR_CAMP, elements=[base], people_per_pixel=0.1
    )  # 28 people
    not_raised(empty, "P17")


# --- exposure ----------------------------------------------------------------------------------------------


def test_people_in_the_core_of_fires_raise_homes_and_commander_items_and_an_empty_core_does_not(
    tmp_path: Path,
) -> None:
    for case in ("town", "few", "dense", "empty"):
        (tmp_path / case).mkdir()
    town = checklist(tmp_path / "town", sites=NO_SITES, camp=FAR_CAMP, elements=[MORTAR])
    # The mortar's core is a 65 m circle: 1.33 ha at 1,000 people per km², 13 people.
    homes = raised(town, "P27")["evidence"][0]["data"]
    assert homes["people"] == pytest.approx(3.1416 * 65**2 / 1e6 * 1000, rel=0.02) and homes["element"] == "mortar-1"
    not_raised(town, "P32")  # 13 people, intensity-weighted, below the commander's 50
    raised(town, "P15")
    dense = checklist(tmp_path / "dense", sites=NO_SITES, camp=FAR_CAMP, elements=[MORTAR], people_per_pixel=100)
    assert raised(dense, "P32")["evidence"][0]["data"]["value"] >= 50
    few = checklist(tmp_path / "few", sites=NO_SITES, camp=FAR_CAMP, elements=[MORTAR], people_per_pixel=0.5)
    not_raised(few, "P27")  # 0.7 people: below the one person that means homes
    nobody = checklist(tmp_path / "empty", sites=NO_SITES, camp=FAR_CAMP, elements=[MORTAR], people_per_pixel=0.0)
    not_raised(nobody, "P27")
    not_raised(nobody, "P15")


def test_no_warning_item_when_surprise_is_essential(tmp_path: Path) -> None:
    not_raised(checklist(tmp_path, sites=NO_SITES, plan_extra={"surprise_essential": True}), "P15")


# --- threat reports ----------------------------------------------------------------------------------------


def test_a_recent_attack_on_civilians_raises_reprisal_risk_and_an_old_one_does_not(tmp_path: Path) -> None:
    (tmp_path / "recent").mkdir()
    (tmp_path / "old").mkdir()
    recent = events(f"2025-05-20,{at(450, 550)},attack on civilians")
    item = raised(checklist(tmp_path / "recent", threats=recent), "P13")
    assert item["evidence"][0]["data"]["count"] == 1 and item["evidence"][0]["data"]["latest"] == "2025-05-20"
    old = events(f"2025-01-20,{at(450, 550)},attack on civilians")  # 132 days before: in the threat window only
    not_raised(checklist(tmp_path / "old", threats=old), "P13")


def test_sexual_violence_near_the_footprint_is_raised_and_a_clash_is_not(tmp_path: Path) -> None:
    (tmp_path / "sv").mkdir()
    (tmp_path / "clash").mkdir()
    item = raised(checklist(tmp_path / "sv", threats=events(f"2025-05-20,{at(450, 550)},sexual violence")), "P31")
    assert item["evidence"][0]["data"]["events"] == ["events:line:2"]
    not_raised(checklist(tmp_path / "clash", threats=events(f"2025-05-20,{at(450, 550)},armed clash")), "P31")


def test_community_reports_raise_source_protection_and_engagement_and_media_reports_do_not(tmp_path: Path) -> None:
    for case in ("community", "media", "unsaid"):
        (tmp_path / case).mkdir()
    header = "date,lat,lon,type,source_kind"
    spec = {"source_type": "source_kind"}
    patrol = [element("patrol-1", "patrol", 450, 550)]  # no search: engagement shows only in the reports
    community = events(f"2025-05-20,{at(450, 550)},armed clash,Community alert network", header=header)
    found = checklist(tmp_path / "community", threats=community, threats_spec=spec, elements=patrol)
    raised(found, "P33")
    raised(found, "P14")
    media = events(f"2025-05-20,{at(450, 550)},armed clash,Radio", header=header)
    found = checklist(tmp_path / "media", threats=media, threats_spec=spec, elements=patrol)
    not_raised(found, "P33")
    not_raised(found, "P14")
    unsaid = checklist(tmp_path / "unsaid", threats=events(f"2025-05-20,{at(450, 550)},armed clash"))
    assert unsaid["items"]["P33"]["kind"] == "prompt"


def test_a_whole_layer_of_community_alerts_is_protected(tmp_path: Path) -> None:
    found = checklist(
        tmp_path,
        threats=events(f"2025-05-20,{at(450, 550)},armed clash"),
        threats_spec={"community_source": True},
    )
    assert raised(found, "P33")["evidence"][0]["data"]["count"] == 1


def test_the_partner_force_raises_due_diligence_and_its_recorded_violations_anywhere_raise_hrddp(
    tmp_path: Path,
) -> None:
    for case in ("violations", "others", "no_partner", "unnamed"):
        (tmp_path / case).mkdir()
    header = "date,lat,lon,type,actors"
    far_away = "2025-04-01,4.0,30.0"  # hundreds of km from the footprint: HRDDP looks at the whole layer
    partner = {"partner_force": True, "partner_forces": ["Blue Brigade"]}
    violations = events(f"{far_away},attack on civilians,Blue Brigade; civilians", header=header)
    found = checklist(tmp_path / "violations", threats=violations, plan_extra=partner)
    raised(found, "P22")
    item = raised(found, "P23")
    assert item["evidence"][0]["data"]["actors"] == ["Blue Brigade"]
    others = events(f"{far_away},attack on civilians,Red Militia", header=header)
    not_raised(checklist(tmp_path / "others", threats=others, plan_extra=partner), "P23")
    no_partner = checklist(tmp_path / "no_partner", threats=violations)
    not_raised(no_partner, "P22")
    not_raised(no_partner, "P23")
    unnamed = checklist(tmp_path / "unnamed", threats=violations, plan_extra={"partner_force": True})
    assert unnamed["items"]["P23"]["kind"] == "prompt"


def test_harm_by_this_force_near_the_footprint_is_raised_and_by_others_it_is_not(tmp_path: Path) -> None:
    for case in ("ours", "theirs", "unnamed"):
        (tmp_path / case).mkdir()
    header = "date,lat,lon,type,actors"
    ours = events(f"2025-03-01,{at(450, 550)},civilian killing,UNFORCE patrol", header=header)
    item = raised(checklist(tmp_path / "ours", threats=ours, plan_extra={"own_force": ["UNFORCE"]}), "P30")
    assert item["evidence"][0]["data"]["actors"] == ["UNFORCE"]
    theirs = events(f"2025-03-01,{at(450, 550)},civilian killing,Red Militia", header=header)
    not_raised(checklist(tmp_path / "theirs", threats=theirs, plan_extra={"own_force": ["UNFORCE"]}), "P30")
    assert checklist(tmp_path / "unnamed", threats=ours)["items"]["P30"]["kind"] == "prompt"
    (tmp_path / "short").mkdir()
    unknown = events(f"2025-03-01,{at(450, 550)},civilian killing,UNKNOWN gunmen", header=header)
    short_name = {"own_force": ["UN"]}  # a whole name only: 'UN' is not in 'UNKNOWN'
    not_raised(checklist(tmp_path / "short", threats=unknown, plan_extra=short_name), "P30")


# --- access on the road network ----------------------------------------------------------------------------


def test_a_cordon_on_the_only_road_raises_cut_off_health_and_sole_link_items_and_a_bypass_lifts_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "only").mkdir()
    (tmp_path / "bypass").mkdir()
    only = checklist(tmp_path / "only", sites=EAST_CLINIC, roads=[MAIN])
    # West of the cordon and beside the shut road inside it: two communities of 300 (see test_access)
    cut = raised(only, "P21")
    assert [e["data"]["people"] for e in cut["evidence"]] == [pytest.approx(300)] * 2
    assert all(e["data"]["lost"] == ["health"] and e["data"]["roads"] == ["main"] for e in cut["evidence"])
    care = raised(only, "P20")
    assert care["evidence"][0]["data"]["people"] == pytest.approx(600)
    link = raised(only, "P10")
    assert link["evidence"][0]["data"] == {"element": "cordon-1", "roads": ["main"]}
    # The bypass serves the west of the village and the people beside the shut road outside the cordon; the
    # 9 cells inside it stay cut off while it lasts (the items ask for a way out for them), and no road the
    # cordon closes is the only link any more.
    bypass = checklist(tmp_path / "bypass", sites=EAST_CLINIC, roads=[MAIN, BYPASS])
    assert [e["data"]["people"] for e in raised(bypass, "P21")["evidence"]] == [pytest.approx(90)]
    assert raised(bypass, "P20")["evidence"][0]["data"]["people"] == pytest.approx(90)
    not_raised(bypass, "P10")


def test_a_convoy_through_town_on_the_only_road_raises_movement_and_heavy_vehicle_items(tmp_path: Path) -> None:
    for case in ("town", "empty", "bypass", "rains"):
        (tmp_path / case).mkdir()
    far_convoy = [convoy()]
    town = checklist(tmp_path / "town", sites=EAST_CLINIC, camp=FAR_CAMP, roads=[MAIN], elements=far_convoy)
    route = raised(town, "P18")
    assert route["evidence"][0]["data"]["people"] >= 100
    assert raised(town, "P19")["evidence"][0]["data"]["roads"] == ["main"]
    empty = checklist(
        tmp_path / "empty", sites=EAST_CLINIC, camp=FAR_CAMP, roads=[MAIN], elements=far_convoy, people_per_pixel=0.1
    )
    not_raised(empty, "P18")
    bypass = checklist(tmp_path / "bypass", sites=EAST_CLINIC, camp=FAR_CAMP, roads=[MAIN, BYPASS], elements=far_convoy)
    not_raised(bypass, "P19")  # main is no longer the only link: the dry-season track joins the same ends
    earth = ("main", "primary", "All Season", [(50, 550), (950, 550)], "dirt")
    rains = checklist(
        tmp_path / "rains",
        sites=EAST_CLINIC,
        camp=FAR_CAMP,
        roads=[earth, BYPASS],
        elements=far_convoy,
        plan_extra={"season": "rainy"},
    )
    item = raised(rains, "P19")  # the rains close the bypass and soften the earth road
    assert {"element": "convoy-1", "roads": ["main"], "season": "rainy"} in [e["data"] for e in item["evidence"]]


def test_places_already_beyond_the_limit_of_health_care_are_context_with_their_times(tmp_path: Path) -> None:
    (tmp_path / "strict").mkdir()
    (tmp_path / "hour").mkdir()
    # Nobody reaches care within 6 s: the clinic stands 10 m off the road, 9 s on foot
    strict = Settings(surface={"margin_m": 300}, access={"reach_limit_min": 0.1})
    found = checklist(tmp_path / "strict", settings=strict, sites=EAST_CLINIC, roads=[MAIN, BYPASS])
    # Beyond reach before the operation as during it: a condition of the area, shown and not reviewed
    assert "P41" not in found["items"] and "P20" not in found["items"]
    context = found["context"]["P41"]
    camp = next(e for e in context["evidence"] if e["data"].get("place") == "Camp")
    assert camp["data"]["before_min"] > 0.1 and camp["data"]["limit_min"] == 0.1
    residents = next(e for e in context["evidence"] if "facilities" in e["data"])
    assert residents["data"]["people"] > 0
    hour = checklist(tmp_path / "hour", sites=EAST_CLINIC, roads=[MAIN, BYPASS])
    # Within the hour before, beyond it during: only the people the cordon holds by its shut road
    assert raised(hour, "P20")["evidence"][0]["data"]["people"] == pytest.approx(90)
    assert "P41" not in hour["context"]


# --- the plan, the data, the comparison --------------------------------------------------------------------


def test_uncovered_languages_are_raised_covered_ones_are_not_and_unnamed_ones_are_a_prompt(tmp_path: Path) -> None:
    for case in ("gap", "covered", "unnamed"):
        (tmp_path / case).mkdir()
    gap = {"community_languages": ["Nuer", "Dinka"], "interpreter_languages": ["dinka", "English"]}
    item = raised(checklist(tmp_path / "gap", plan_extra=gap), "P35")
    assert item["evidence"][0]["data"]["missing"] == ["Nuer"] and "Nuer" in item["text"]
    covered = {"community_languages": ["Nuer"], "interpreter_languages": ["Nuer"]}
    not_raised(checklist(tmp_path / "covered", plan_extra=covered), "P35")
    assert checklist(tmp_path / "unnamed")["items"]["P35"]["kind"] == "prompt"


def test_the_coa_with_more_expected_harm_is_asked_to_justify_itself(tmp_path: Path) -> None:
    cordon = {
        "id": "cordon-1",
        "activity": "cordon_search",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[lonlat(300, 400), lonlat(600, 400), lonlat(600, 700), lonlat(300, 700), lonlat(300, 400)]],
        },
    }
    coas = [
        {"id": "A", "name": "Cordon", "elements": [cordon]},
        {"id": "B", "name": "Patrol", "elements": [element("patrol-1", "patrol", 950, 950)]},
    ]
    plan, layers = open_plan(make_world(tmp_path, sites=NO_SITES, camp=FAR_CAMP, plan_extra={"coas": coas}))
    result = assess(plan, layers, Settings(surface={"margin_m": 300})).to_dict()
    a, b = ({i["id"]: i for i in coa["checklist"]["items"]} for coa in result["coas"])
    assert a["P16"]["evidence"][0]["data"]["best"] == "B"
    assert "P16" not in b and "P16" in {i["id"] for i in result["coas"][1]["checklist"]["not_raised"]}


def test_stale_or_missing_data_is_raised_and_fresh_complete_data_is_not(tmp_path: Path) -> None:
    (tmp_path / "missing").mkdir()
    (tmp_path / "fresh").mkdir()
    missing = checklist(tmp_path / "missing")  # no threat layer and no roads: unknown, not calm
    codes = {e["data"]["code"] for e in raised(missing, "P26")["evidence"]}
    assert "no_data" in codes
    fresh = checklist(
        tmp_path / "fresh",
        threats=events(f"2025-05-20,{at(950, 950)},armed clash"),
        roads=[MAIN, BYPASS],
        sites=[("school", "School", 450, 550)],
    )
    not_raised(fresh, "P26")


def test_rules_without_a_layer_to_decide_them_are_always_prompts_that_say_what_would(tmp_path: Path) -> None:
    found = checklist(tmp_path)
    for rule in ("P12", "P24"):
        item = found["items"][rule]
        assert item["kind"] == "prompt" and item["decided_by"]
        assert not any(e["decided"] for e in item["evidence"])
    assert raised(found, "P34")["owner"] == ["civil_affairs_officer"]  # every assessment, by design


def test_items_are_ordered_by_severity_then_findings_before_prompts(tmp_path: Path) -> None:
    items = list(checklist(tmp_path)["items"].values())
    order = [({"high": 0, "medium": 1, "low": 2}[i["severity"]], i["kind"] != "finding") for i in items]
    assert order == sorted(order)


def test_every_rule_is_either_raised_or_listed_as_checked(tmp_path: Path) -> None:
    found = checklist(tmp_path)
    shown = set(found["items"]) | set(found["context"])
    assert shown | found["not_raised"] == {f"P{n:02d}" for n in range(1, 44)}
    assert not shown & found["not_raised"]


def test_french_items_carry_the_same_evidence_in_french_words(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "fr").mkdir()
    sites = [("clinic", "Dispensaire", 450, 550)]
    en = checklist(tmp_path / "en", sites=sites, elements=[MORTAR])
    fr = checklist(tmp_path / "fr", lang="fr", sites=sites, elements=[MORTAR])
    assert en["items"].keys() == fr["items"].keys()
    assert fr["items"]["P01"]["title"] == "Structure de santé à portée des tirs"
    assert fr["items"]["P01"]["evidence"][0]["text"] == (
        "Dispensaire dans la zone noyau de mortar-1 (mortier de 60 mm, explosif), à 0 m"
    )
    assert fr["items"]["P01"]["evidence"][0]["data"] == en["items"]["P01"]["evidence"][0]["data"]
    assert fr["items"]["P01"]["owner_label"] == "planificateur, commandant"


# --- the sample plan and real data -------------------------------------------------------------------------


def test_the_sample_coas_raise_the_checklists_their_differences_call_for() -> None:
    plan, layers = open_plan(ROOT / "scenarios" / "sample.yaml")
    result = assess(plan, layers).to_dict()
    items = {
        coa["id"]: {i["id"]: i for i in coa["checklist"]["items"] if i["kind"] == "finding"} for coa in result["coas"]
    }
    a, b, c = items["A"], items["B"], items["C"]
    # A lands helicopters by the PoC site and fires mortars without an observer over the north quarter.
    assert "Alpha PoC Site" in a["P05"]["text"] and {"P04", "P07", "P08", "P28", "P29", "P40"} <= a.keys()
    assert not {"P05", "P07", "P08", "P28"} & (b.keys() | c.keys())
    # B drives a convoy through Kalo Market on market day and closes the main road west.
    assert "Kalo Market" in b["P06"]["text"] and {"P18", "P19", "P21"} <= b.keys()
    assert "P06" not in a and "P06" not in c
    # C, the least harmful, has no comparison item; the others are asked to justify themselves.
    assert "P16" not in c and a["P16"]["evidence"][0]["data"]["best"] == "C" == b["P16"]["evidence"][0]["data"]["best"]
    assert len(c) < len(b) < len(a)


@pytest.mark.realdata
def test_juba_a_landing_zone_beside_the_un_house_poc_site_raises_rotor_wash_and_displacement_items() -> None:
    require_realdata()
    plan, layers = open_plan(ROOT / "tests" / "scenarios" / "juba_poc.yaml")
    result = assess(plan, layers).to_dict()
    lz = {i["id"]: i for i in result["coas"][0]["checklist"]["items"]}
    for rule in ("P04", "P05"):
        assert lz[rule]["kind"] == "finding"
        [evidence] = [e for e in lz[rule]["evidence"] if "site" in e["data"]]
        assert evidence["data"]["site"] == "Juba UN House PoC3" and evidence["data"]["element"] == "lz-poc"
        assert evidence["data"]["distance_m"] < 150  # inside the 150 m rotor-wash zone
        assert "Juba UN House PoC3" in lz[rule]["text"]
    # No threat layer in this set: the threat rules are prompts, never "calm".
    assert lz["P13"]["kind"] == "prompt" and lz["P13"]["evidence"][0]["missing"] == "no_threat_layer"
