"""A checklist that fits the operation and the mission: rules by activity, the mission's roles, no noise.

Same hand-made world as tests/test_checklist.py: 1 km square, 10 people per 100 m pixel, a cordon over
x 300-600 m, y 400-700 m, a camp over x 500-800 m, y 400-700 m; the window is Sunday 1 June 2025, 06:00-12:00.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pyproj import CRS
from test_checklist import checklist, element, not_raised, raised
from world import lonlat, make_world

from planner.assess import assess
from planner.brief import brief_html
from planner.catalogue import load_catalogue
from planner.checklist import place
from planner.layers.manifest import load_layerset
from planner.outputs import bundle
from planner.places import Gazetteer, spaced_mgrs
from planner.plan import open_plan
from planner.record import NotAllowedError, Record, User
from planner.redaction import policy
from planner.settings import RedactionSettings, Settings
from planner.vocabulary import REVIEWERS
from planner.words import distance

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def patrol(y: float = 550) -> dict[str, Any]:
    line = {"type": "LineString", "coordinates": [lonlat(50, y), lonlat(950, y)]}
    return {"id": "patrol-1", "activity": "patrol", "geometry": line}


FAR_CAMP_AT_CORDON = {
    "type": "Feature",
    "properties": {"name": "Camp", "ind": 1000},
    "geometry": {"type": "Point", "coordinates": lonlat(450, 550)},
}


def cordon() -> dict[str, Any]:
    ring = [lonlat(x, y) for x, y in ((300, 400), (600, 400), (600, 700), (300, 700), (300, 400))]
    return {
        "id": "cordon-1",
        "activity": "cordon_search",
        "outer_m": 100,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


# --- triggers that know the activity ---------------------------------------------------------------------


def test_a_foot_patrol_past_homes_raises_neither_displacement_nor_the_commanders_threshold(tmp_path: Path) -> None:
    found = checklist(tmp_path, elements=[patrol()], sites=[])
    not_raised(found, "P27")
    not_raised(found, "P32")


def test_a_mortar_among_homes_raises_displacement_and_the_commanders_threshold_per_element(tmp_path: Path) -> None:
    mortar = element("mortar-1", "mortar_60mm", 200, 200, observer=True, munitions=6)
    found = checklist(tmp_path, elements=[mortar], sites=[])
    item = raised(found, "P27")
    assert [e["data"]["element"] for e in item["evidence"]] == ["mortar-1"]
    assert "mortar-1" in item["evidence"][0]["text"]


def test_a_cordon_around_a_school_raises_no_military_use_and_no_strike_rule(tmp_path: Path) -> None:
    found = checklist(tmp_path, sites=[("school", "Cordon school", 450, 550), ("clinic", "Cordon clinic", 350, 450)])
    item = raised(found, "P38")
    assert {e["data"]["site"] for e in item["evidence"]} == {"Cordon school", "Cordon clinic"}
    assert "Cordon school" in item["text"]
    not_raised(found, "P01")
    not_raised(found, "P02")


def test_a_mortar_near_a_hospital_still_raises_the_rule_on_health_facilities(tmp_path: Path) -> None:
    mortar = element("mortar-1", "mortar_60mm", 450, 550, observer=True, munitions=6)
    found = checklist(tmp_path, elements=[mortar], sites=[("hospital", "Town hospital", 500, 600)])
    item = raised(found, "P01")
    assert item["evidence"][0]["data"]["site"] == "Town hospital"
    assert item["evidence"][0]["data"]["element"] == "mortar-1"
    not_raised(found, "P38")  # fires, not a position or a cordon


def test_a_cordon_with_a_national_partner_force_raises_detention_and_handover(tmp_path: Path) -> None:
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    found = checklist(tmp_path / "with", plan_extra={"partner_forces": ["SSPDF"]})
    item = raised(found, "P36")
    assert item["evidence"][0]["data"]["element"] == "cordon-1"
    assert "HRDDP" in item["basis"]
    assert set(item["owner"]) >= {"human_rights_officer"}
    not_raised(checklist(tmp_path / "without"), "P36")


def test_a_friday_noon_window_by_a_mosque_raises_the_worship_time_rule_with_its_hours(tmp_path: Path) -> None:
    mosque = [("place_of_worship", "Town mosque", 450, 550, {"religion": "muslim"})]
    friday = {"window": {"start": "2025-06-06T11:00:00+03:00", "end": "2025-06-06T15:00:00+03:00"}}
    for name, extra, expected in (("friday", friday, True), ("sunday", {}, False)):
        (tmp_path / name).mkdir()
        found = checklist(tmp_path / name, elements=[patrol()], sites=mosque, plan_extra=extra)
        if expected:
            item = raised(found, "P39")
            [evidence] = item["evidence"]
            assert evidence["data"]["hours"] == {"usual": "Fr 12:00-14:30"}
            assert "Fr 12:00-14:30, usual service times" in evidence["text"]
        else:
            not_raised(found, "P39")


def test_a_church_on_a_sunday_morning_raises_the_worship_time_rule(tmp_path: Path) -> None:
    church = [("place_of_worship", "Town church", 450, 550, {"religion": "christian"})]
    raised(checklist(tmp_path, elements=[patrol()], sites=church), "P39")


def test_a_cordon_holding_people_for_hours_raises_water_food_and_care_inside_it(tmp_path: Path) -> None:
    (tmp_path / "long").mkdir()
    (tmp_path / "short").mkdir()
    long = {**cordon(), "duration_h": 5}
    item = raised(checklist(tmp_path / "long", elements=[long], sites=[("water_point", "Cordon tap", 450, 550)]), "P40")
    [evidence] = item["evidence"]
    assert evidence["data"]["hours"] == 5 and evidence["data"]["hours_from"] == "hours_plan"
    assert evidence["data"]["inside"] == ["water"] and evidence["data"]["missing_inside"] == ["health", "market"]
    assert evidence["data"]["people"] == pytest.approx(90, rel=0.01)  # 0.09 km² at 1,000 people per km²
    short = {**cordon(), "duration_h": 2}
    not_raised(checklist(tmp_path / "short", elements=[short]), "P40")


def test_rotor_wash_on_homes_and_on_a_market_raises_the_rotor_wash_rule(tmp_path: Path) -> None:
    lz = element("lz-1", "helicopter_lz", 150, 150)  # homes all around; 10 people per pixel
    found = checklist(tmp_path, elements=[lz], sites=[("marketplace", "LZ market", 200, 150)])
    item = raised(found, "P05")
    kinds = {e["data"].get("site") or e["data"].get("element") for e in item["evidence"]}
    assert kinds == {"LZ market", "lz-1"}


def test_harm_tracking_is_raised_for_a_cordon_not_only_for_fires(tmp_path: Path) -> None:
    raised(checklist(tmp_path), "P29")


# --- less to review, nothing lost ------------------------------------------------------------------------


def sample() -> dict[str, Any]:
    plan, layers = open_plan(ROOT / "scenarios" / "sample.yaml")
    return assess(plan, layers).to_dict("en")


@pytest.fixture(scope="module")
def sample_result() -> dict[str, Any]:
    return sample()


# What a PoC adviser wants raised on the sample, by COA, whatever else changes.
WANTED = {
    "A": {
        "P04",  # Alpha PoC Site next to lz-1
        "P05",  # rotor wash on the PoC site
        "P07",  # mortar in a populated area
        "P08",  # unobserved mortar
        "P13",  # attacks on civilians nearby
        "P21",  # the cordon cuts homes off from the market
        "P31",  # sexual violence nearby
        "P33",  # community sources
        "P37",  # house searches
        "P38",  # school and hospital by the cordon
        "P40",  # 5,600 people held six hours
        "P28",  # explosive remnants
        "P29",  # harm tracking
    },
    "B": {"P06", "P13", "P20", "P21", "P19", "P37", "P18", "P29"},
    "C": {"P13", "P37", "P29", "P14"},
}


def test_the_sample_has_a_third_fewer_items_to_review_and_keeps_every_precaution_wanted(
    sample_result: dict[str, Any],
) -> None:
    keys = {(item["coas"][0], item["id"]) for coa in sample_result["coas"] for item in coa["checklist"]["items"]}
    assert len(keys) <= 40  # 60 before the checklist knew the activity and shared items across COAs
    for coa in sample_result["coas"]:
        ids = {item["id"] for item in coa["checklist"]["items"]}
        assert WANTED[coa["id"]] <= ids, WANTED[coa["id"]] - ids


def test_an_item_alike_in_every_coa_is_shown_in_each_and_marked_as_one(sample_result: dict[str, Any]) -> None:
    items = {(coa["id"], i["id"]): i for coa in sample_result["coas"] for i in coa["checklist"]["items"]}
    for coa in "ABC":
        assert items[coa, "P34"]["coas"] == ["A", "B", "C"]  # the same for every COA: one review
    assert items["A", "P37"]["coas"] == ["A"]  # another cordon, other people: its own review


def test_items_come_most_severe_first_then_findings_before_prompts(sample_result: dict[str, Any]) -> None:
    order = {"high": 0, "medium": 1, "low": 2}
    for coa in sample_result["coas"]:
        ranks = [(order[i["severity"]], i["kind"] != "finding") for i in coa["checklist"]["items"]]
        assert ranks == sorted(ranks)


def test_people_far_from_roads_everywhere_are_context_not_an_item(sample_result: dict[str, Any]) -> None:
    for coa in sample_result["coas"]:
        context = {i["id"]: i for i in coa["checklist"]["context"]}
        assert "P41" in context
        texts = [e["text"] for i in coa["checklist"]["items"] for e in i["evidence"]]
        assert not any("too far from any passable road of the network" in t for t in texts)
        assert any("too far from any passable road of the network" in e["text"] for e in context["P41"]["evidence"])


def test_no_evidence_line_counts_zero_people(sample_result: dict[str, Any]) -> None:
    for coa in sample_result["coas"]:
        for item in coa["checklist"]["items"]:
            for e in item["evidence"]:
                assert "(0 people)" not in e["text"], e["text"]


# --- evidence in words a person uses ---------------------------------------------------------------------


def test_a_cut_off_community_is_named_after_the_nearest_place_with_an_mgrs_reference(
    sample_result: dict[str, Any],
) -> None:
    a = next(c for c in sample_result["coas"] if c["id"] == "A")
    p21 = next(i for i in a["checklist"]["items"] if i["id"] == "P21")
    community = next(e for e in p21["evidence"] if e["data"]["kind"] == "community")
    assert community["text"].startswith("homes 160 m W of Nyal (36N WM 6135 8845)")
    assert " E " not in community["text"]  # no bare grid figures


def test_report_lists_give_a_count_the_latest_three_and_where_to_see_the_rest(sample_result: dict[str, Any]) -> None:
    a = next(c for c in sample_result["coas"] if c["id"] == "A")
    p13 = next(i for i in a["checklist"]["items"] if i["id"] == "P13")
    [evidence] = p13["evidence"]
    assert len(evidence["data"]["events"]) == 3
    assert evidence["data"]["more"] == evidence["data"]["count"] - 3
    assert f"and {evidence['data']['more']} more (the threat layer on the map lists them)" in evidence["text"]


@given(st.floats(min_value=0, max_value=200_000, allow_nan=False))
def test_every_distance_is_rounded_by_one_rule(metres: float) -> None:
    text = distance(metres, "en")
    value, unit = text.split(" ")
    shown = float(value.replace(",", "")) * (1000 if unit == "km" else 1)
    step = 10 if metres < 1000 else 100 if metres < 10_000 else 1000
    assert abs(shown - metres) <= step / 2 + 1e-6
    assert unit == ("m" if metres < 1000 else "km")


def test_french_distances_and_places_are_written_the_french_way() -> None:
    assert distance(1234, "fr") == "1,2 km"
    words = load_catalogue().language("fr")
    where = {"name": "Nyal", "distance_m": 1600.0, "bearing": "SW", "mgrs": "36N WM 6135 8845"}
    assert place(where, words, "fr") == "à 1,6 km au SO de Nyal (36N WM 6135 8845)"


# --- UN references and the mission's roles ---------------------------------------------------------------

PUBLIC_TEXTS = (
    "ST/SGB/1999/13",
    "HRDDP",
    "DPO Policy on the Protection of Civilians",
    "politique du DPO sur la protection des civils",
    "PoC Handbook",
    "Manuel de l'ONU sur la protection des civils",
    "Casualty Evacuation",
    "évacuation des blessés",
    "Child Protection",
    "protection de l'enfance",
    "Security Council resolution",
    "du Conseil de sécurité",
    "Infantry Battalion Manual",
    "Manuel des bataillons d'infanterie",
    "directive on the use of force",
    "directive de la mission sur l'usage de la force",
    "humanitarian notification system",
    "notification humanitaire",
    "Political Declaration on explosive weapons",
    "déclaration politique sur les armes explosives",
    "Additional Protocol I",
    "Protocole additionnel I",
    "Protocol V",
    "Protocole V",
    "OHCHR Manual",
    "Manuel du HCDH",
)
RETIRED_TERMS = ("no-strike list", "collateral damage estimation", "rules-of-engagement card", "NATO", "InaSAFE")


def test_every_basis_names_a_public_text_or_field_practice_in_both_languages() -> None:
    catalogue = load_catalogue()
    for lang, practice in (("en", "field practice"), ("fr", "pratique de terrain")):
        for rule_id, rule in catalogue.language(lang).rules.items():
            named = [text for text in PUBLIC_TEXTS if text in rule.basis]
            assert named or practice in rule.basis, f"{lang} {rule_id}: {rule.basis}"
            assert not any(term.casefold() in rule.basis.casefold() for term in RETIRED_TERMS), rule.basis


def test_every_owner_that_reviews_is_a_role_of_the_record() -> None:
    roles = set(load_catalogue().language("en").roles)
    assert set(REVIEWERS) - {"poc_adviser"} <= roles


def partner_record(tmp_path: Path) -> tuple[Record, str]:
    (tmp_path / "world").mkdir()
    plan, layers = open_plan(make_world(tmp_path / "world", plan_extra={"partner_force": True}))
    result = assess(plan, layers, Settings(surface={"margin_m": 300}))
    record = Record.open(f"sqlite:///{tmp_path / 'record.db'}")
    admin = record.add_user(None, "admin-1", "admin", PASSWORD)
    for role in ("planner", "poc_adviser", "human_rights_officer", "child_protection_officer"):
        record.add_user(admin, f"{role}-1", role, PASSWORD)
    return record, record.record_assessment(User("planner-1", "planner"), result)


def test_a_human_rights_officer_closes_the_partner_force_item_and_a_planner_cannot(tmp_path: Path) -> None:
    record, ident = partner_record(tmp_path)
    with pytest.raises(NotAllowedError, match="planner"):
        record.review(User("planner-1", "planner"), ident, "P22", status="addressed", note="done")
    with pytest.raises(NotAllowedError, match="human_rights_officer"):  # owned by Human Rights, not by CP
        record.review(User("child_protection_officer-1", "child_protection_officer"), ident, "P22", status="addressed")
    record.review(
        User("human_rights_officer-1", "human_rights_officer"), ident, "P22", status="addressed", note="HRDDP done"
    )
    p22 = next(i for i in record.status(ident)["items"] if i["key"] == "A/P22")
    assert p22["status"] == "addressed" and p22["history"][-1]["by"] == "human_rights_officer-1"
    # The PoC adviser stays responsible for the whole checklist: any item, P22 included
    record.review(User("poc_adviser-1", "poc_adviser"), ident, "P22", status="accepted_risk", note="monitored")
    assert record.verify().intact


def test_one_review_of_a_shared_item_closes_it_in_every_coa(tmp_path: Path) -> None:
    (tmp_path / "world").mkdir()
    second = {**cordon(), "id": "cordon-2"}
    plan_path = make_world(tmp_path / "world")
    plan = yaml.safe_load(plan_path.read_text())
    plan["coas"].append({"id": "B", "name": "Second COA", "elements": [second]})
    plan_path.write_text(yaml.safe_dump(plan))
    result = assess(*open_plan(plan_path), Settings(surface={"margin_m": 300}))
    rendered = result.to_dict("en")["coas"]
    assert next(i for i in rendered[1]["checklist"]["items"] if i["id"] == "P34")["coas"] == ["A", "B"]
    record = Record.open(f"sqlite:///{tmp_path / 'record.db'}")
    admin = record.add_user(None, "admin-1", "admin", PASSWORD)
    record.add_user(admin, "poc-1", "poc_adviser", PASSWORD)
    record.add_user(admin, "planner-1", "planner", PASSWORD)
    ident = record.record_assessment(User("planner-1", "planner"), result)
    items = record.status(ident)["items"]
    shared = [i for i in items if i["key"].endswith("/P34")]
    assert [(i["key"], i["coas"]) for i in shared] == [("A/P34", ["A", "B"])]
    record.review(User("poc-1", "poc_adviser"), ident, "P34", status="addressed", note="consulted")
    assert next(i for i in record.status(ident)["items"] if i["key"] == "A/P34")["status"] == "addressed"


def test_the_brief_shows_the_area_wide_context_once_beside_the_checklist() -> None:
    plan, layers = open_plan(ROOT / "scenarios" / "sample.yaml")
    assessment = assess(plan, layers)
    found = bundle(assessment, policy(None, RedactionSettings()))
    html = brief_html(assessment, found)
    assert "Around the footprint" in html
    line = "920 people live too far from any passable road of the network for their reach to be known"
    assert html.count(line) == 1 and f"{line} (COA A, B, C)" in html
    assert not any("too far from any passable road of the network" in text for text in found.checklist["evidence"])


def test_a_place_far_from_any_settlement_is_named_after_the_nearest_site_and_nameless_land_by_mgrs_alone() -> None:
    gazetteer = Gazetteer(load_layerset(ROOT / "layers" / "sample.yaml"), CRS.from_epsg(32636))
    near = gazetteer.where(561350, 688450)
    assert (near.name, near.bearing, near.mgrs) == ("Nyal", "W", "36N WM 6135 8845")
    assert round(near.distance_m, -1) == 160
    far = gazetteer.where(200_000, 300_000)  # hundreds of km away: no settlement within reach
    assert far.name is not None and far.distance_m > 100_000
    assert spaced_mgrs("36NWM68708600") == "36N WM 6870 8600" and spaced_mgrs("4QFJ1234") == "4Q FJ 12 34"


def test_a_displacement_site_counted_empty_is_not_a_line_to_review(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    empty = {**FAR_CAMP_AT_CORDON, "properties": {"name": "Empty camp", "ind": 0}}
    not_raised(checklist(tmp_path / "empty", camp=empty, sites=[]), "P04")
    raised(checklist(tmp_path / "full", camp=FAR_CAMP_AT_CORDON, sites=[]), "P04")
