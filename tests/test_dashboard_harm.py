"""The pages after the operation, with Streamlit's AppTest: harm recorded after an assessment (list, map,
predicted against observed, the review of a record by its roles, intake) and the register of support."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_dashboard import _sample_area, _world, app, deck_spec, record_sample, shown

from planner.observed import zones_of
from planner.record.harm import HarmLog, HarmReport
from planner.record.support import SupportRegister

CANARY = "Witness-Canary-5512"


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sample_area(tmp_path_factory.mktemp("harm-area"))


@pytest.fixture
def world(area: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The sample area (read only) and a record of the test's own."""
    return _world(area, tmp_path, monkeypatch)


def cordon_centre(world: dict[str, Any], ident: str) -> tuple[float, float]:
    from pyproj import Transformer  # noqa: PLC0415

    result = world["record"].assessment_result(ident)
    cordon = next(z for z in zones_of(result, "A") if z.element == "cordon-1")
    to_lonlat = Transformer.from_crs(result["working_crs"], "EPSG:4326", always_xy=True)
    return to_lonlat.transform(cordon.geometry.centroid.x, cordon.geometry.centroid.y)


def add_harm(world: dict[str, Any], ident: str) -> str:
    report = HarmReport(
        coa="A",
        at="2026-12-03T09:30+03:00",
        position=cordon_centre(world, ident),
        mechanism="movement_restriction",
        origin="community",
        confidence="medium",
        element="cordon-1",
        injuries=(2, 4),
        witness=CANARY,
    )
    return HarmLog(world["record"]).add(world["people"]["planner"], ident, report)


def page_text(at: Any) -> str:
    parts = [
        shown(e) for kind in ("title", "markdown", "caption", "info", "success", "error") for e in getattr(at, kind)
    ]
    parts += [df.value.to_json() for df in at.dataframe]
    return "\n".join(parts)


def test_the_harm_page_places_each_record_on_the_map_and_against_the_estimate(world: dict[str, Any]) -> None:
    ident = record_sample(world)
    harm_id = add_harm(world, ident)
    at = app(world, "harm", who=world["people"]["planner"])
    text = page_text(at)
    assert harm_id in text and "in the core zone of cordon-1" in text and "taken in, not yet reviewed" in text
    assert CANARY not in text and CANARY not in json.dumps(deck_spec(at))
    spec = deck_spec(at)
    assert [layer["id"] for layer in spec["layers"]] == [
        "zones-outer",
        "zones-core",
        "harm-precision",
        "harm-records",
        "harm-labels",
    ]
    assert "http" not in json.dumps(spec)
    assert not [t for t in at.toggle if t.key == "harm_names"]  # the planner is not cleared: no toggle
    adviser = app(world, "harm", who=world["people"]["poc_adviser"])
    adviser.toggle(key="harm_names").set_value(True).run()
    assert CANARY in page_text(adviser)


def test_intake_and_each_step_by_its_role_on_screen(world: dict[str, Any]) -> None:
    ident = record_sample(world)
    lon, lat = cordon_centre(world, ident)
    planner = app(world, "harm", who=world["people"]["planner"])
    planner.text_input(key="intake_at").input("2026-12-03")
    planner.text_input(key="intake_position").input(f"{lat:.6f}N {lon:.6f}E")
    planner.text_input(key="intake_injuries").input("1-3")
    planner.button(key="harm_submit").click().run()
    [harm] = HarmLog(world["record"]).records(ident)
    assert harm["injuries"] == [1, 3] and harm["time_precision"] == "day"
    assert f"Harm recorded as {harm['id']}" in page_text(planner)
    assert "Your role takes no step" in page_text(planner)  # a planner takes no step of the review

    bad = app(world, "harm", who=world["people"]["planner"])
    bad.text_input(key="intake_at").input("2026-12-03T09:30")
    bad.text_input(key="intake_position").input(f"{lat:.6f}N {lon:.6f}E")
    bad.button(key="harm_submit").click().run()
    assert "has no time zone" in page_text(bad) and len(HarmLog(world["record"]).records(ident)) == 1

    adviser = app(world, "harm", who=world["people"]["poc_adviser"])
    assert adviser.selectbox(key="harm_step").options == ["initial review", "assessment", "response"]
    adviser.selectbox(key="harm_status").set_value("credible")
    adviser.button(key="harm_step_submit").click().run()
    assert HarmLog(world["record"]).records(ident)[0]["status"] == "credible"
    commander = app(world, "harm", who=world["people"]["commander"])
    commander.button(key="harm_step_submit").click().run()  # a decision before the assessment: refused in words
    assert "needs its assessment before a decision" in page_text(commander)


def test_the_support_register_on_screen(world: dict[str, Any]) -> None:
    ident = record_sample(world)
    planner = app(world, "support", who=world["people"]["planner"])
    planner.text_input(key="support_partner").input("SSPDF")
    planner.text_input(key="support_from").input("2026-12-01")
    planner.text_input(key="support_to").input("2026-12-02")
    planner.text_input(key="support_follow_up").input("2026-12-20")
    planner.button(key="support_submit").click().run()
    [entry] = SupportRegister(world["record"]).entries()
    assert entry["assessment"] == ident and f"Support recorded as {entry['id']}" in page_text(planner)
    assert not [b for b in planner.button if b.key == "support_review_submit"]  # planners do not follow up
    adviser = app(world, "support", who=world["people"]["poc_adviser"])
    adviser.selectbox(key="support_status").set_value("finding")
    adviser.text_area(key="support_note").input("detainees beaten at the barracks")
    adviser.button(key="support_review_submit").click().run()
    assert "detainees beaten at the barracks" in page_text(adviser)


def test_a_lesson_of_past_harm_shows_beside_its_rule_in_the_review_and_the_brief(world: dict[str, Any]) -> None:
    from planner.assess import assess  # noqa: PLC0415
    from planner.brief import brief_html  # noqa: PLC0415
    from planner.outputs import from_record  # noqa: PLC0415
    from planner.plan import open_plan  # noqa: PLC0415
    from planner.settings import RedactionSettings  # noqa: PLC0415

    first = record_sample(world)
    harm_id = add_harm(world, first)
    log, people = HarmLog(world["record"]), world["people"]
    log.review(people["poc_adviser"], harm_id, step="initial_review", status="credible")
    lesson = {"lessons": "water points inside every cordon", "lesson_rule": "P40", "mitigations": "bowsers"}
    log.review(people["poc_adviser"], harm_id, step="assessment", status="substantiated", details=lesson)
    plan, layers = open_plan(world["plan"])
    second = world["record"].record_assessment(people["planner"], assess(plan, layers, history=log.history()))
    at = app(world, "checklist", who=people["poc_adviser"])
    at.selectbox(key="recorded_choice").set_value(second).run()
    for item in world["record"].status(second)["items"]:  # opened, as an adviser clicks P40's line
        if item["key"].endswith("/P40"):
            at.session_state[f"open:{second}:{item['key']}"] = True
    at.run()
    said = [shown(i) for i in at.info]
    assert any(f"{harm_id}: water points inside every cordon (bowsers)" in text for text in said)
    brief = brief_html(*from_record(world["record"], second, RedactionSettings())[:2])
    assert f"Lessons from past harm: {harm_id}: water points inside every cordon (bowsers)" in brief
