"""The dashboard, page by page, with Streamlit's AppTest: what each role sees and may do, plan editing, reviews
that persist, the sign-off flow, French, and a map spec that fetches nothing."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pydeck as pdk
import pytest
import shapely
import shapely.geometry
import yaml
from affine import Affine
from PIL import Image
from pyproj import CRS, Geod
from streamlit.testing.v1 import AppTest

from planner.assess import assess
from planner.dashboard.deck import LAYER_IDS, ORIENTATION_TOLERANCE_DEG, PAPER, _density, _geojson, _locator, build_deck
from planner.errors import InputError
from planner.geo import WGS84, parse_position, transformer
from planner.outputs import Bands
from planner.plan import open_plan
from planner.record import Record, User
from planner.risk import range_text
from planner.uploads import check_confined, save_upload

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
PAGES = ROOT / "planner" / "dashboard" / "pages"


def _sample_area(root: Path) -> Path:
    """A copy of the sample area in a data folder of its own, with the mission's settings beside it."""
    for folder in ("scenarios", "layers", "data/sample"):
        shutil.copytree(ROOT / folder, root / folder)
    settings = root / "mission.toml"
    settings.write_text('[dashboard]\ndata_dirs = ["scenarios", "layers", "data"]\nmax_upload_mb = 1\n')
    return root


@pytest.fixture(scope="module")
def shared_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the tests that only read it: the dashboard's cached assessment of it is then reused."""
    return _sample_area(tmp_path_factory.mktemp("sample-area"))


def _world(root: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The sample area at ``root``, an empty record in ``folder``, and users of every role."""
    monkeypatch.setenv("PRIMUM_SETTINGS", str(root / "mission.toml"))
    monkeypatch.setenv("PRIMUM_DB", str(folder / "record.db"))
    record = Record.open(f"sqlite:///{folder / 'record.db'}")
    admin = record.add_user(None, "admin-1", "admin", PASSWORD)
    people = {"admin": admin}
    for role in ("planner", "poc_adviser", "commander"):
        people[role] = record.add_user(admin, f"{role}-1", role, PASSWORD)
    return {"root": root, "record": record, "people": people, "plan": root / "scenarios" / "sample.yaml"}


@pytest.fixture
def world(shared_area: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The shared sample area (read only) and a record of the test's own."""
    return _world(shared_area, tmp_path, monkeypatch)


@pytest.fixture
def own_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A sample area of the test's own, for a test that changes its files."""
    return _world(_sample_area(tmp_path / "area"), tmp_path, monkeypatch)


def app(world: dict[str, Any], page: str = "map", *, who: User | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["plan_path"] = str(world["plan"])
    at.session_state["lang"] = lang
    if who is not None:
        at.session_state["user"] = who
    at.run()
    if page != "map":
        at.switch_page(str(PAGES / f"{page}.py"))
        at.run()
    assert not at.exception, at.exception
    return at


def deck_spec(at: AppTest) -> dict[str, Any]:
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def shown(element: Any) -> str:
    """What a person reads of a text element: its markdown source without the escapes that keep it text."""
    return re.sub(r"\\(.)", r"\1", str(element.value))


def record_sample(world: dict[str, Any]) -> str:
    from planner.assess import assess  # noqa: PLC0415

    plan, layers = open_plan(world["plan"])
    return world["record"].record_assessment(world["people"]["planner"], assess(plan, layers))


# --- the map: offline, fixed layer ids, evidence in tooltips --------------------------------------------------------


def test_the_dashboard_opens_on_the_sample_map_and_its_spec_fetches_nothing(world: dict[str, Any]) -> None:
    at = app(world)
    spec = deck_spec(at)
    text = json.dumps(spec)
    assert [layer["id"].split("@")[0] for layer in spec["layers"]] == [i for i in LAYER_IDS if i != "heatmap"]
    assert "http" not in text
    # No basemap provider and no style: pydeck's own "no style given", for which the map component starts no
    # map library and fetches nothing (an empty style would fetch Carto's); the view clears to paper colour
    assert spec.get("mapProvider") is None and spec["mapStyle"] == "__MAP_STYLE__"
    assert spec["views"] == [{"@@type": "MapView", "controller": True, "clear": True, "clearColor": PAPER}]
    assert "FICTIONAL" in at.warning[0].value
    fictional = _written(spec, "fictional")
    top = max(p[1] for row in _data(spec, "scale-bar")[1:] for p in row["path"])  # the north arrow's tip: the top edge
    assert [row["text"] for row in fictional] == ["FICTIONAL AREA"] and fictional[0]["lat"] == top  # over the map
    sites = next(layer for layer in spec["layers"] if layer["id"] == "displacement")
    assert (
        any("Alpha PoC Site" in tip and "14,200 people" in tip for tip in sites["data"]["tip"].values())
        if isinstance(sites["data"], dict)
        else True
    )
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"  # a mission runs the code it installed: nothing watched
    assert config["runner"]["postScriptGC"] is False  # no full collection holding every rerun
    assert config["browser"]["gatherUsageStats"] is False

    at.toggle(key="map_heatmap").set_value(True).run()
    assert "heatmap" in [layer["id"] for layer in deck_spec(at)["layers"]]
    at.radio(key="map_coa").set_value("B").run()
    zones = next(layer for layer in deck_spec(at)["layers"] if layer["id"] == "zones-core")
    assert {f["properties"]["element"] for f in zones["data"]["features"]} == {"cordon-2", "convoy-1", "lz-2"}


def _tips(spec: dict[str, Any], layer_id: str) -> list[str]:
    data = _layer(spec, layer_id)["data"]
    if isinstance(data, dict) and "features" in data:
        return [f["properties"]["tip"] for f in data["features"]]
    return [row["tip"] for row in data] if isinstance(data, list) else list(data["tip"].values())


def test_report_sources_reach_the_map_only_for_a_cleared_role_that_asks(world: dict[str, Any]) -> None:
    people = world["people"]
    planner = app(world, who=people["planner"])
    assert planner.toggle(key="map_sources").disabled
    assert not [tip for tip in _tips(deck_spec(planner), "threat-reports") if "events_source" in tip]
    adviser = app(world, who=people["poc_adviser"])
    assert not adviser.toggle(key="map_sources").disabled
    assert not [tip for tip in _tips(deck_spec(adviser), "threat-reports") if "events_source" in tip]
    adviser.toggle(key="map_sources").set_value(True).run()
    tips = _tips(deck_spec(adviser), "threat-reports")
    assert any("events_source: " in tip for tip in tips)
    assert any("INCLUDED" in c.value for c in adviser.caption)


def test_the_comparison_shows_each_coas_score_level_and_why(world: dict[str, Any]) -> None:
    at = app(world, "compare")
    table = at.dataframe[0].value
    assert list(table["COA"]) == ["A", "B", "C"]
    assert list(table["Level"]) == ["extreme", "medium", "low"]
    # The same figures as the command line's assessment of the same plan: one story.
    plan, layerset = open_plan(world["plan"])
    expected = [range_text(r.risk.casualties) for r in assess(plan, layerset).coas]
    assert list(table["Expected casualties"]) == expected
    assert len(at.get("vega_lite_chart")) == 1
    assert "Least harm first:** C, B, A" in at.markdown[0].value
    assert [e.label.split(": ")[1] for e in at.expander] == ["COA A (extreme)", "COA B (medium)", "COA C (low)"]
    assert any("blast and fragments of mortar-1" in m.value.replace("\\", "") for m in at.markdown)


# --- sign-in and roles --------------------------------------------------------------------------------------------


def test_the_first_admin_is_created_in_the_browser_then_users_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIMUM_DB", str(tmp_path / "fresh.db"))
    monkeypatch.delenv("PRIMUM_SETTINGS", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(str(PAGES / "signin.py")).run()
    assert "no users yet" in at.info[0].value
    at.text_input(key="new_user_name").input("chief")
    at.text_input(key="new_user_password").input(PASSWORD)
    assert any("At least 8 characters" in c.value for c in at.caption)  # the rule, before any refusal
    at.button(key="add_user_submit").click().run()
    assert "Added chief (admin)" in shown(at.success[0]) and "Sign in" in shown(at.success[0])
    assert not at.info  # the page no longer says the record has no users: it asks to sign in
    at.text_input(key="signin_name").input("chief")
    at.text_input(key="signin_password").input("wrong password")
    at.button(key="signin_submit").click().run()
    assert "wrong user name or password" in at.error[0].value.lower()
    at.text_input(key="signin_password").input(PASSWORD)
    at.button(key="signin_submit").click().run()
    assert at.session_state["user"] == User("chief", "admin")
    assert "Signed in as chief (admin)" in at.success[0].value


def test_each_role_sees_only_the_controls_it_may_use(world: dict[str, Any]) -> None:
    people = world["people"]
    guest = app(world, "checklist")
    assert "no recorded assessment" in guest.info[0].value
    assert not [b for b in guest.button if b.key == "record_now"]
    planner = app(world, "checklist", who=people["planner"])
    planner.button(key="record_now").click().run()
    ident = planner.session_state["assessment_id"]
    assert world["record"].status(ident)["counts"]["open"] > 0
    first_of_a = next(i["key"] for i in world["record"].status(ident)["items"] if "A" in i["coas"])
    open_item(planner, first_of_a)
    assert not [s for s in planner.selectbox if str(s.key).startswith("status_")]
    adviser = app(world, "checklist", who=people["poc_adviser"])
    open_item(adviser, first_of_a)
    assert [s for s in adviser.selectbox if str(s.key).startswith("status_")]
    commander = app(world, "checklist", who=people["commander"])
    open_item(commander, first_of_a)
    assert not [s for s in commander.selectbox if str(s.key).startswith("status_")]
    signoff = app(world, "signoff", who=people["commander"])
    assert [r for r in signoff.radio if r.key == "decision"]
    adviser_signoff = app(world, "signoff", who=people["poc_adviser"])
    assert not [r for r in adviser_signoff.radio if r.key == "decision"]


# --- plan editing ---------------------------------------------------------------------------------------------------


def test_editing_an_element_reassesses_and_a_bad_position_is_said_like_the_command_line(world: dict[str, Any]) -> None:
    at = app(world, "plan")
    before = open_plan(world["plan"])[0]
    at.text_input(key="el_0_1_position").input("36NWM6500083000")  # lz-1 moved into open ground
    at.number_input(key="el_0_1_outer_m").set_value(250.0)
    at.button(key="plan_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    edited = Path(at.session_state["plan_path"])
    assert edited.name == "sample-v2.yaml" and edited.parent != world["plan"].parent  # its name, versioned
    assert shown(at.success[0]).startswith("sample-v2.yaml: COA A: 92 → ")  # what the edit did, COA by COA
    plan = open_plan(edited)[0]
    moved = next(e for e in plan.coas[0].elements if e.id == "lz-1")
    assert moved.outer_m == 250.0
    assert moved.geometry != next(e for e in before.coas[0].elements if e.id == "lz-1").geometry
    at.text_input(key="el_0_1_position").input("somewhere north")
    at.button(key="plan_apply").click().run()
    # Shown as text: the markdown escapes are not what the user reads, so they are taken out to compare.
    assert "coas.A.elements.lz-1.position: cannot read position 'somewhere north'" in shown(at.error[0])
    assert str(world["root"]) not in shown(at.error[0]) and "sample-v3" not in shown(at.error[0])
    assert Path(at.session_state["plan_path"]) == edited  # the bad edit is not applied
    assert not (edited.parent / "sample-v3.yaml").exists()  # and leaves no version behind


def test_radii_show_their_defaults_and_elements_and_coas_can_be_added_and_deleted(world: dict[str, Any]) -> None:
    at = app(world, "plan")
    assert at.number_input(key="el_0_0_outer_m").value == 400.0  # cordon_search's default, shown, not blank
    assert at.number_input(key="el_0_1_core_m").value == 50.0  # helicopter_lz's
    at.checkbox(key="el_0_2_delete").check()  # drop mortar-1 from COA A
    at.text_input(key="new_el_coa").input("D")
    at.text_input(key="new_el_id").input("patrol-9")
    at.text_input(key="new_el_position").input("36NWM6500083000")
    at.selectbox(key="new_el_activity").set_value("patrol")
    at.button(key="plan_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    plan = open_plan(Path(at.session_state["plan_path"]))[0]
    coas = {c.id: [e.id for e in c.elements] for c in plan.coas}
    assert "mortar-1" not in coas["A"] and coas["D"] == ["patrol-9"]
    assert "COA D: new" in shown(at.success[0])
    written = yaml.safe_load(Path(at.session_state["plan_path"]).read_text())
    cordon = next(e for e in written["coas"][0]["elements"] if e["id"] == "cordon-1")
    assert "outer_m" not in cordon  # a default left alone stays the effects table's
    at.checkbox(key="coa_3_delete").check()
    at.button(key="plan_apply").click().run()
    assert [c.id for c in open_plan(Path(at.session_state["plan_path"]))[0].coas] == ["A", "B", "C"]
    assert "COA D: deleted" in shown(at.success[0])


def test_an_edit_is_previewed_on_the_map_before_it_is_applied_and_nothing_is_written(world: dict[str, Any]) -> None:
    at = app(world, "plan")
    lz = next(e for e in open_plan(world["plan"])[0].coas[0].elements if e.id == "lz-1")
    at.text_input(key="el_0_1_position").input("36NWM6500083000")  # lz-1 moved into open ground
    at.number_input(key="el_0_1_outer_m").set_value(250.0)
    at.button(key="plan_preview").click().run()
    assert not at.error, [e.value for e in at.error]
    assert Path(at.session_state["plan_path"]) == world["plan"]  # nothing applied
    assert not list(Path(at.session_state["workdir"]).rglob("*.yaml"))  # and nothing left on disk
    said = "\n".join(shown(m) for m in at.markdown)
    moved = re.search(r"COA A · lz-1: moved ([\d.]+) km; outer zone 150 m → 250 m", said)
    assert moved, said
    lon, lat = parse_position("36NWM6500083000")
    expected = Geod(ellps="WGS84").inv(lz.geometry.x, lz.geometry.y, lon, lat)[2]
    assert abs(float(moved[1]) * 1000 - expected) <= 60  # said to 0.1 km
    spec = deck_spec(at)
    ids = [layer["id"] for layer in spec["layers"]]
    assert {"preview-before", "preview-now-core", "preview-now-outer", "labels"} <= set(ids)
    before = next(layer for layer in spec["layers"] if layer["id"] == "preview-before")
    assert [f["properties"]["tip"] for f in before["data"]["features"]] == ["COA A · lz-1: before the edit"]
    assert "A lz-1 H" in [row["text"] for row in _written(spec, "symbol")]
    at.text_input(key="el_0_1_position").input("4.86, 31.59")  # the same position rules as applying
    at.button(key="plan_preview").click().run()
    assert at.error and "4.86, 31.59" in shown(at.error[0]) and str(world["root"]) not in shown(at.error[0])


def test_a_bare_pair_of_numbers_is_refused_on_the_plan_page_as_on_the_command_line(world: dict[str, Any]) -> None:
    at = app(world, "plan")
    at.text_input(key="el_0_1_position").input("4.86, 31.59")
    at.button(key="plan_apply").click().run()
    assert at.error and "4.86, 31.59" in shown(at.error[0])
    at.text_input(key="el_0_1_position").input("[33.57, 6.23]")  # the plan file's own [lon, lat]
    at.button(key="plan_apply").click().run()
    assert not at.error, [e.value for e in at.error]


def test_the_plan_page_lists_the_plans_in_the_data_folders_as_they_are_now(own_world: dict[str, Any]) -> None:
    """Files that are not plans (a manifest, a file saved in another encoding, a runaway nesting) are left out
    without breaking the page, and a file that stops or starts being a plan is seen as such on the next run."""
    scenarios = own_world["root"] / "scenarios"
    (scenarios / "garbled.yaml").write_bytes(b"name: \xe9t\xe9 (Latin-1)\ncoas: []\n")
    (scenarios / "nested.yaml").write_text("[" * 20_000 + "]" * 20_000, encoding="utf-8")
    second = scenarios / "second.yaml"
    shutil.copy(own_world["plan"], second)

    def listed(at: AppTest) -> list[str]:
        choice = next(s for s in at.selectbox if str(s.key).startswith("plan_choice:"))
        return sorted(choice.options)

    at = app(own_world, "plan")
    assert listed(at) == ["sample.yaml", "second.yaml"]
    second.write_text("name: now only notes\n", encoding="utf-8")
    (scenarios / "third.yaml").write_text(own_world["plan"].read_text(encoding="utf-8"), encoding="utf-8")
    at.run()
    assert not at.exception, at.exception
    assert listed(at) == ["sample.yaml", "third.yaml"]


def test_a_layer_set_saved_in_another_encoding_is_named_on_the_map_page(own_world: dict[str, Any]) -> None:
    manifest = own_world["root"] / "layers" / "sample.yaml"
    text = manifest.read_text(encoding="utf-8").replace("area:", "# r\u00e9gion\narea:", 1)
    manifest.write_bytes(text.encode("latin-1"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["plan_path"] = str(own_world["plan"])
    at.run()
    assert not at.exception, at.exception
    assert at.error and "sample.yaml" in shown(at.error[0]) and "UTF-8" in shown(at.error[0])


def test_a_plan_or_layer_set_reaching_outside_the_data_folders_is_refused_before_anything_is_read(
    tmp_path: Path,
) -> None:
    allowed = tmp_path / "uploads"
    allowed.mkdir()
    (allowed / "layers.yaml").write_text("area: x\nlayers:\n  s: {kind: sites, path: /etc/passwd}\n")
    (allowed / "plan.yaml").write_text("name: p\nlayers: layers.yaml\ncoas: []\n")
    with pytest.raises(InputError, match=r"layers\.s\.path: /etc/passwd is outside"):
        check_confined(allowed / "plan.yaml", [allowed])
    (allowed / "plan2.yaml").write_text("name: p\nlayers: ../../elsewhere/layers.yaml\ncoas: []\n")
    with pytest.raises(InputError, match=r"layers: .* is outside the uploaded files"):
        check_confined(allowed / "plan2.yaml", [allowed])
    with pytest.raises(InputError, match="more than the 1 MB"):
        save_upload("big.csv", b"x" * 1_100_000, allowed, max_mb=1)
    with pytest.raises(InputError, match="not a plan, layer set or layer format"):
        save_upload("run.sh", b"echo", allowed, max_mb=1)
    assert save_upload("../../sites.csv", b"a,b\n", allowed, max_mb=1) == allowed / "sites.csv"


def test_the_plan_among_uploaded_files_is_found_and_an_unreadable_yaml_is_named(tmp_path: Path) -> None:
    from planner.dashboard.views import uploaded_plan  # noqa: PLC0415

    manifest, plan = tmp_path / "layers.yaml", tmp_path / "plan.yaml"
    manifest.write_text("area: x\nlayers: {}\n", encoding="utf-8")
    plan.write_text("name: p\nlayers: layers.yaml\ncoas: []\n", encoding="utf-8")
    notes = tmp_path / "notes.yaml"
    notes.write_text("- a list\n- not a plan\n", encoding="utf-8")
    assert uploaded_plan([manifest, notes, plan], tmp_path) == plan
    with pytest.raises(InputError, match="0 plans among the uploads"):
        uploaded_plan([manifest, notes], tmp_path)
    plan.write_bytes("name: \u00e9t\u00e9\nlayers: layers.yaml\ncoas: []\n".encode("latin-1"))  # saved in Latin-1
    with pytest.raises(InputError, match=r"plan\.yaml.*not UTF-8.*save it as UTF-8"):
        uploaded_plan([manifest, plan], tmp_path)


# --- review and sign-off ----------------------------------------------------------------------------------------------


def open_item(at: AppTest, key: str) -> AppTest:
    """Open a checklist item as a click on its line does: what it holds is drawn once it is open."""
    at.session_state[f"open:{at.session_state['assessment_id']}:{key}"] = True
    return at.run()


def _review(at: AppTest, key: str, status: str, note: str = "") -> AppTest:
    if f"status_{key}" not in at.session_state:
        open_item(at, key)
    at.selectbox(key=f"status_{key}").set_value(status)
    at.text_input(key=f"note_{key}").input(note)
    return at.button(key=f"save_{key}").click().run()


def test_a_review_is_saved_at_once_survives_a_reload_and_a_second_adviser_gets_a_conflict(
    world: dict[str, Any],
) -> None:
    ident = record_sample(world)
    adviser = world["people"]["poc_adviser"]
    first = app(world, "checklist", who=adviser)
    second = app(world, "checklist", who=adviser)  # another adviser's browser, opened at the same time
    # Both have the item open, so both see the version before any save
    assert not [s for s in second.selectbox if s.key == "status_A/P38"]  # drawn once opened, not before
    open_item(first, "A/P38")
    open_item(second, "A/P38")
    _review(first, "A/P38", "addressed", "no military use of the clinic")
    assert next(i for i in world["record"].status(ident)["items"] if i["key"] == "A/P38")["status"] == "addressed"
    reloaded = app(world, "checklist", who=adviser)
    label = next(e.label for e in reloaded.expander if e.label.startswith("A/P38"))
    assert " · addressed · " in label
    _review(second, "A/P38", "accepted_risk", "seen from the old page")
    assert "changed since you saw it" in second.warning[-1].value
    history = next(i for i in world["record"].status(ident)["items"] if i["key"] == "A/P38")["history"]
    assert [h["note"] for h in history] == ["no military use of the clinic"]


def test_the_commander_signs_off_and_sees_the_signature_void_when_a_layer_changes(own_world: dict[str, Any]) -> None:
    world = own_world  # a layer file is changed
    ident = record_sample(world)
    record, people = world["record"], world["people"]
    for item in record.status(ident)["items"]:  # only COA C's items: the others need not be closed to choose C
        if "C" in item["coas"]:
            record.review(people["poc_adviser"], ident, item["key"], status="accepted_risk", note="weighed")
    commander = app(world, "signoff", who=people["commander"])
    assert "Not signed off" in commander.info[-1].value
    assert len(commander.get("iframe")) == 1  # the brief
    assert "commander-1" not in commander.get("iframe")[0].proto.srcdoc  # nobody has signed yet
    downloads = {b.proto.label for b in commander.get("download_button")}
    assert {"brief.html", "gpkg", "geotiff", "geojson", "kml", "csv"} <= downloads
    panels = " ".join(shown(m) for m in commander.markdown)
    assert all(f"**COA {coa}**" in panels for coa in "ABC")  # every COA on one screen
    commander.radio(key="decision").set_value("approve")
    commander.selectbox(key="decision_coa").set_value("C")
    commander.button(key="signoff_submit").click().run()
    assert "confirmation" in shown(commander.warning[-1]) and record.status(ident)["signoff"] is None
    commander.checkbox(key="decision_confirmed").check()
    commander.button(key="signoff_submit").click().run()
    assert "VALID: approved · COA C · commander-1" in shown(commander.success[0])
    # The brief on the page is kept between reruns, but never older than the record: it now carries the decision
    shown_brief = commander.get("iframe")[0].proto.srcdoc
    assert "commander-1" in shown_brief and "approved" in shown_brief
    idp = world["root"] / "data" / "sample" / "idp_sites.geojson"
    idp.write_text(idp.read_text().replace("14200", "15000"))
    after = app(world, "signoff", who=people["commander"])
    assert "VOID" in shown(after.error[0]) and "idp_poc" in shown(after.error[0])


# --- language ---------------------------------------------------------------------------------------------------------


def test_the_interface_and_the_checklist_speak_french(world: dict[str, Any]) -> None:
    record_sample(world)
    at = app(world, "checklist", who=world["people"]["poc_adviser"], lang="fr")
    assert at.title[0].value == "Revue des précautions"
    labels = [e.label for e in at.expander]
    assert any(
        "Écoles, structures de santé ou lieux de culte utilisés par la force" in label and "ouverte" in label
        for label in labels
    )
    compare = app(world, "compare", lang="fr")
    assert compare.title[0].value == "Comparer les modes d'action"
    table = compare.dataframe[0].value
    assert list(table["Niveau"]) == ["extrême", "moyen", "faible"]
    assert all("," in text or text.startswith("<") for text in table["Victimes attendues"])  # décimales à virgule
    reasons = " ".join(m.value.replace("\\", "") for m in compare.markdown)
    assert "souffle et éclats de mortar-1" in reasons and "victimes attendues" in reasons
    assert app(world, lang="fr").title[0].value == "Carte"


# --- text from layers, plans and users is shown as text ----------------------------------------------------------

PAYLOAD = "![x](http://127.0.0.1:9/leak.png)<img src=http://127.0.0.1:9/i.png>"
# The same markup within the 40 characters a COA id may have
SHORT_PAYLOAD = "![x](http://h/l)<img src=http://h/i>"
LIVE = re.compile(r"(?<!\\)\]\((?=http)|(?<!\\)<img")


def test_markdown_and_html_planted_in_every_field_a_user_controls_stay_text_on_every_page(
    own_world: dict[str, Any],
) -> None:
    world = own_world  # the plan and layers are planted with markup
    plan_path = world["plan"]
    plan = yaml.safe_load(plan_path.read_text())
    plan["name"] += PAYLOAD
    plan["coas"][0]["id"] += SHORT_PAYLOAD
    plan["coas"][0]["name"] += PAYLOAD
    plan["coas"][0]["elements"][0]["id"] += PAYLOAD
    plan_path.write_text(yaml.safe_dump(plan))
    layers = world["root"] / "layers" / "sample.yaml"
    layers.write_text(layers.read_text().replace("area: Kalo training area (FICTIONAL)", f"area: Kalo {PAYLOAD}"))
    sites = world["root"] / "data" / "sample" / "sites_osm.geojson"
    sites.write_text(sites.read_text().replace('"Kalo Market"', json.dumps(f"Kalo Market {PAYLOAD}")))
    record_sample(world)
    adviser = world["record"].add_user(world["people"]["admin"], f"poc{PAYLOAD}", "poc_adviser", PASSWORD)
    pages = [
        app(world),
        app(world, "plan"),
        app(world, "compare"),
        app(world, "checklist", who=adviser),
        app(world, "signoff", who=world["people"]["commander"]),
        app(world, "signin", who=adviser),
    ]
    shown = []
    for at in pages:
        for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader"):
            shown += [str(e.value) for e in at.get(kind)]
        shown += [e.label for e in at.expander]
        shown += [str(o) for r in at.radio for o in r.options]
    assert any("leak" in text for text in shown)  # the planted text is on screen ...
    live = [text for text in shown if LIVE.search(text)]
    assert live == []  # ... but never as a live image, link or tag (each is escaped with a backslash)


def test_an_adviser_reviews_a_whole_coa_in_a_few_interactions_most_severe_first(world: dict[str, Any]) -> None:
    ident = record_sample(world)
    record, people = world["record"], world["people"]
    at = app(world, "checklist", who=people["poc_adviser"])
    at.radio(key="checklist_coa").set_value("C").run()
    labels = [e.label for e in at.expander]
    severities = [label.split(" · ")[2] for label in labels]
    assert severities == sorted(severities, key={"high": 0, "medium": 1, "low": 2}.get)
    assert not any(e.proto.expanded for e in at.expander)  # collapsed to one line each
    at.multiselect(key="filter_severity").set_value(["high"]).run()
    assert all(" · high · " in e.label for e in at.expander)
    at.multiselect(key="filter_severity").set_value([]).run()
    # One COA's whole review: select all, a status, a note, apply: four interactions
    interactions = 0
    for step in (
        lambda: at.checkbox(key="bulk_all").check(),
        lambda: at.selectbox(key="bulk_status").set_value("accepted_risk"),
        lambda: at.text_input(key="bulk_note").input("weighed with the planner"),
        lambda: at.button(key="bulk_submit").click(),
    ):
        step()
        interactions += 1
    at.run()
    assert interactions <= 15
    mine = [i for i in record.status(ident)["items"] if "C" in i["coas"]]
    assert mine and all(i["status"] == "accepted_risk" for i in mine)
    assert all(i["history"][-1]["note"] == "weighed with the planner" for i in mine)
    assert "saved" in shown(at.success[0])


def test_a_bulk_review_refuses_the_items_another_adviser_changed_since_and_names_them(world: dict[str, Any]) -> None:
    ident = record_sample(world)
    record, people = world["record"], world["people"]
    at = app(world, "checklist", who=people["poc_adviser"])
    at.radio(key="checklist_coa").set_value("C").run()
    first = next(i for i in record.status(ident)["items"] if "C" in i["coas"])
    other = User("poc-2", "poc_adviser")
    record.add_user(people["admin"], other.name, other.role, PASSWORD)
    record.review(other, ident, first["key"], status="addressed", note="done elsewhere")
    at.checkbox(key="bulk_all").check()
    at.selectbox(key="bulk_status").set_value("not_applicable")
    at.text_input(key="bulk_note").input("no school in session")
    at.button(key="bulk_submit").click().run()
    assert first["key"] in shown(at.warning[-1]) and "Refused" in shown(at.warning[-1])
    assert "saved" in shown(at.success[0])
    kept = next(i for i in record.status(ident)["items"] if i["key"] == first["key"])
    assert kept["status"] == "addressed" and kept["history"][-1]["by"] == "poc-2"
    # Now seen: applying again to the refused item is a deliberate overwrite, not another refusal
    at.checkbox(key="bulk_all").uncheck()
    at.multiselect(key="bulk_keys").set_value([first["key"]])
    at.selectbox(key="bulk_status").set_value("not_applicable")
    at.text_input(key="bulk_note").input("no school in session, after reading poc-2's review")
    at.button(key="bulk_submit").click().run()
    assert not [w for w in at.warning if "Refused" in shown(w)], [shown(w) for w in at.warning]
    kept = next(i for i in record.status(ident)["items"] if i["key"] == first["key"])
    assert kept["status"] == "not_applicable" and kept["history"][-1]["by"] == "poc_adviser-1"


def test_an_admin_lists_users_and_deactivates_one_on_the_sign_in_page(world: dict[str, Any]) -> None:
    at = app(world, "signin", who=world["people"]["admin"])
    table = at.dataframe[0].value
    assert set(table["User name"]) == {"admin-1", "planner-1", "poc_adviser-1", "commander-1"}
    at.selectbox(key="change_user_name").set_value("planner-1")
    at.radio(key="change_user_state").set_value("deactivated")
    at.button(key="change_user_submit").click().run()
    assert "Changed planner-1" in shown(at.success[0])
    listed = {u["name"]: u for u in world["record"].list_users(world["people"]["admin"])}
    assert listed["planner-1"]["active"] is False
    assert world["record"].verify().intact


def test_a_refusal_on_screen_names_no_command_line_option(world: dict[str, Any]) -> None:
    ident = record_sample(world)
    at = app(world, "checklist", who=world["people"]["poc_adviser"])
    key = next(i["key"] for i in world["record"].status(ident)["items"] if "A" in i["coas"])
    _review(at, key, "accepted_risk", "")
    message = shown(at.error[0])
    assert "needs a note saying why" in message and "--note" not in message


def _layer(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """The map's layer ``name`` (a layer the browser keeps while its content stays is named ``name@content``)."""
    return next(layer for layer in spec["layers"] if layer["id"].split("@")[0] == name)


def _squares(spec: dict[str, Any]) -> list[Any]:
    """The place-reading squares' corners, made as the browser makes them: by the layer's own expression."""
    corners = _layer(spec, "locator")["getPolygon"].removeprefix("@@=")
    return [eval(corners, {}, {"i": s["i"], "j": s["j"]}) for s in _data(spec, "locator")]


def _data(spec: dict[str, Any], layer_id: str) -> list[dict[str, Any]]:
    data = _layer(spec, layer_id)["data"]
    if isinstance(data, list):
        return data
    columns = list(data)
    rows = len(next(iter(data.values()))) if data else 0
    return [{c: list(data[c].values())[i] for c in columns} for i in range(rows)]


def _written(spec: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The rows of one kind in the map's text layer (names, symbols, the north arrow's letter ...)."""
    return [row for row in _data(spec, "labels") if row["kind"] == kind]


def test_the_map_names_places_and_elements_has_a_scale_and_north_and_a_headline_per_coa(
    world: dict[str, Any],
) -> None:
    at = app(world)
    spec = deck_spec(at)
    labels = {row["text"] for row in _data(spec, "labels")}
    assert {"Kalo town", "Nyal"} <= labels  # settlements of the backdrop
    assert "Alpha PoC Site" in labels and "Kalo County Hospital" in labels  # sites the COA reaches
    assert {"cordon-1 (cordon and search)", "lz-1 (helicopter landing zone (rotor wash))"} <= labels
    bar = _data(spec, "scale-bar")[0]
    assert bar["label"] in {"500 m", "1 km", "2 km", "5 km"}
    assert [row["label"] for row in _data(spec, "scale-bar")[1:]] == ["north", "north"]  # the arrow and its head
    assert [row["text"] for row in _written(spec, "north")] == ["N"]
    symbols = {row["text"] for row in _written(spec, "symbol")}
    assert symbols == {"CS", "H", "IF", "AA"}  # cordon, landing zone, mortar, assembly area: four symbols
    # Hovering anywhere reads the place: squares over the backdrop and under the rest, saying where their centre is
    squares = _data(spec, "locator")
    assert [layer["id"].split("@")[0] for layer in spec["layers"]][:3] == ["backdrop", "locator", "roads"]
    assert len(squares) > 100
    assert all(
        re.fullmatch(r"36N WM \d{4} \d{4} · 6\.\d{4}N 33\.\d{4}E \(centre of this 250 m square\)", s["tip"])
        for s in squares
    )
    # Squares are sent as column and row; their corners are made in the browser by the layer's expression
    polygons = _squares(spec)
    assert all(abs(p[2][0] - p[0][0] - 250 / 111_320 / math.cos(math.radians(p[0][1]))) < 1e-5 for p in polygons)
    assert all(abs(p[2][1] - p[0][1] - 250 / 111_320) < 1e-9 for p in polygons)  # 250 m squares
    right = {(s["i"], s["j"]): p[1] for s, p in zip(squares, polygons, strict=True)}
    assert all(right[s["i"] - 1, s["j"]] == p[0] for s, p in zip(squares, polygons, strict=True) if s["i"])  # tiled
    west = min(p[0] for polygon in polygons for p in polygon)
    cells = next(layer for layer in spec["layers"] if layer["id"] == "risk-cells")["data"]["features"]
    assert west < min(p[0] for c in cells for ring in c["geometry"]["coordinates"] for p in ring)
    # The mortar sits inside the cordon: its symbol and label take the next line instead of overwriting them
    lines = {row["text"].split(" (")[0]: row["offset"] for row in _data(spec, "labels") if "-1 (" in row["text"]}
    assert lines["cordon-1"][1] != lines["mortar-1"][1], lines
    assert sorted(row["offset"][1] for row in _written(spec, "symbol")) == [0, 0, 0, 18]
    # Symbols are boxed in white to read over any zone; names are written on nothing
    assert {tuple(row["box"]) for row in _written(spec, "symbol")} == {(255, 255, 255, 230)}
    assert {tuple(row["box"])[3] for row in _data(spec, "labels") if row["kind"] != "symbol"} == {0}
    # Reports known to 2 km are drawn hollow and say so; only far rougher ones get a halo, or the map drowns
    assert any("position approximate, within 2 km" in tip for tip in _tips(spec, "threat-reports"))
    # A halo is a ring (a line, not a disc the browser would fill pixel by pixel) of the report's precision
    # around it, on the ground
    reports = {row["tip"].split(" · ")[0]: (row["lon"], row["lat"]) for row in _data(spec, "threat-reports")}
    halos = _layer(spec, "approximate")["data"]["features"]
    assert halos and {h["geometry"]["type"] for h in halos} == {"LineString"}
    geod = Geod(ellps="WGS84")
    for halo in halos:
        ring = np.array(halo["geometry"]["coordinates"])
        said = re.search(r"within ([\d.,]+) km", halo["properties"]["tip"])
        assert said, halo["properties"]["tip"]
        radius_m = geod.inv(*np.broadcast_to(reports[halo["properties"]["tip"].split(":")[0]], ring.shape).T, *ring.T)[
            2
        ]
        assert (ring[0] == ring[-1]).all() and len(ring) > 32  # closed, and round
        assert radius_m.min() > 5000 and radius_m.max() - radius_m.min() < 0.005 * radius_m.max()
        assert abs(radius_m.mean() / 1000 - float(said[1].replace(",", ""))) < 0.5  # as the tip says, to its rounding
    heads = [shown(m) for m in at.markdown if "/100" in shown(m)]
    assert heads[0].startswith("**COA A · extreme · 92/100 · casualties")
    at.radio(key="map_coa").set_value("C").run()
    assert next(shown(m) for m in at.markdown if "/100" in shown(m)).startswith("**COA C · low · 12/100")
    # The squares, the backdrop and the roads are the same on every COA's map, and the browser is told to keep
    # them (it would make their shapes again on every change); their names say what they hold, so other content
    # is a new layer
    kept = {name: _layer(spec, name)["id"] for name in ("backdrop", "locator", "roads")}
    assert {_layer(spec, name)["dataComparator"] for name in kept} == {"@@=true"}
    assert {name: _layer(deck_spec(at), name)["id"] for name in kept} == kept
    at.toggle(key="map_heatmap").set_value(True).run()
    assert {name: _layer(deck_spec(at), name)["id"] for name in kept} == kept
    french = deck_spec(app(world, lang="fr"))
    assert _layer(french, "locator")["id"] != kept["locator"]  # the tips' words differ
    assert _layer(french, "backdrop")["id"] == kept["backdrop"]  # names and kinds as the layer has them


def test_map_tooltips_speak_the_interface_language_with_units_and_the_compare_scale(world: dict[str, Any]) -> None:
    french = deck_spec(app(world, lang="fr"))
    cell = _tips(french, "risk-cells")[0]
    assert "victimes (valeur centrale)" in cell and "MA A 92/100 au total" in cell
    zone = _tips(french, "zones-outer")[0]
    assert "périphérie" in zone and " m " in zone + " " and "personnes" in zone
    sites = " ".join(_tips(french, "displacement"))
    assert "14\u202f200 personnes" in sites and "périphérie de lz-1, 100 m" in sites
    english = deck_spec(app(world))
    assert "COA A 92/100 overall" in _tips(english, "risk-cells")[0]
    # Hovering anywhere in the study area reads where the pointer is, in MGRS and in degrees
    assert re.search(r" · 36N WM \d{4} \d{4} · 6\.\d{4}N 33\.\d{4}E$", _tips(english, "risk-cells")[0])
    assert any(re.search(r"36N WM \d{4} \d{4}", tip) for tip in _tips(english, "sites"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _english_fragments() -> set[str]:
    """Pieces of the English words (between placeholders) long enough to be English and not also French."""
    from planner.words import words  # noqa: PLC0415

    french = " ".join(_strings(words("fr")))
    pieces = set()
    for text in _strings(words("en")):
        for raw in re.split(r"\{[^}]*\}", text):
            piece = raw.strip(" :·,.()")
            if len(piece) >= 12 and " " in piece and piece not in french:
                pieces.add(piece)
    return pieces


def _mechanisms(spec: Any) -> list[Any]:
    return [m for m in (getattr(spec.mechanisms, name) for name in type(spec.mechanisms).model_fields) if m is not None]


def test_every_page_and_the_brief_speak_french_with_no_english_words_left(world: dict[str, Any]) -> None:
    from test_dashboard_harm import add_harm  # noqa: PLC0415

    from planner.brief import brief_html  # noqa: PLC0415
    from planner.outputs import bundle, column_descriptions, from_record  # noqa: PLC0415
    from planner.record.support import SupportGiven, SupportRegister  # noqa: PLC0415
    from planner.redaction import policy  # noqa: PLC0415
    from planner.settings import RedactionSettings  # noqa: PLC0415

    ident = record_sample(world)
    people = world["people"]
    add_harm(world, ident)
    given = SupportGiven("SSPDF", "fire_support", "2026-12-01", "2026-12-02", "2026-12-20", unit="5th Brigade")
    SupportRegister(world["record"]).add(people["planner"], ident, given)
    shown_text = []
    for page, who in (
        ("map", None),
        ("compare", None),
        ("overview", None),
        ("plan", people["planner"]),
        ("checklist", people["poc_adviser"]),
        ("signoff", people["commander"]),
        ("signin", people["admin"]),
        ("harm", people["poc_adviser"]),
        ("support", people["poc_adviser"]),
    ):
        at = app(world, page, who=who, lang="fr")
        for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "success", "error"):
            shown_text += [shown(e) for e in getattr(at, kind)]
        shown_text += [e.label for e in at.expander]
        shown_text += [str(e.label) for e in at.get("button")]
        shown_text += [json.dumps(deck_spec(at), ensure_ascii=False)] if page in ("map", "harm") else []
        shown_text += [df.value.to_json(force_ascii=False) for df in at.dataframe]
        shown_text += [str(e.label) for kind in ("selectbox", "text_input", "text_area") for e in getattr(at, kind)]
    plan, layers = open_plan(world["plan"])
    assessment = assess(plan, layers)
    found = bundle(assessment, policy(None, RedactionSettings()), lang="fr")
    shown_text.append(brief_html(assessment, found))
    rebuilt, recorded, _ = from_record(world["record"], ident, RedactionSettings(), lang="fr")
    shown_text.append(brief_html(rebuilt, recorded))  # with its annex of harm and support
    shown_text += list(column_descriptions(found)["description"])  # what the exports say of their columns
    text = "\n".join(shown_text)
    # The effects table's sources are the mission's own file, shown as written: not interface words (its
    # built-in activity labels are translated, and checked here like every other word)
    for spec in assessment.effects.activities.values():
        for written in (spec.basis, *(m.basis for m in _mechanisms(spec))):
            text = text.replace(" ".join(written.split()), "")
    for written in (plan.name, plan.description, *(c.name for c in plan.coas)):  # so is the plan, as written
        text = text.replace(written, "")
    fragments = _english_fragments()
    assert len(fragments) > 100 and "Compare courses of action" in fragments  # the check has teeth
    left = sorted(piece for piece in fragments if piece in text)
    assert not left, [(piece, text[max(0, text.index(piece) - 80) : text.index(piece) + 40]) for piece in left]


def test_the_locator_squares_tile_the_map_across_the_equator_and_the_prime_meridian() -> None:
    """Squares are sent as column and row and made in the browser from the layer's expression: it must read
    the same where the map's corner is a negative or a tiny number, as in Gabon or Ghana (and never in the
    1e-05 notation, which the browser's expression parser is not asked to read)."""
    for bounds in ((-0.00001, -0.02, 0.03, 0.00001), (0.00001, 0.00001, 0.02, 0.02)):
        layer = json.loads(pdk.Deck(layers=[_locator(bounds, "en")]).to_json())["layers"][0]
        corners = layer["getPolygon"].removeprefix("@@=")
        assert "e-" not in corners
        squares = {(r["i"], r["j"]): eval(corners, {}, {"i": r["i"], "j": r["j"]}) for r in layer["data"]}  # its own
        west, south, east, north = bounds
        assert min(p[0] for s in squares.values() for p in s) == pytest.approx(west, abs=1e-12)
        assert min(p[1] for s in squares.values() for p in s) == pytest.approx(south, abs=1e-12)
        assert (
            max(p[0] for s in squares.values() for p in s) >= east
            and max(p[1] for s in squares.values() for p in s) >= north
        )
        assert all(squares[i - 1, j][1] == square[0] for (i, j), square in squares.items() if i)  # no gap, no overlap
        assert all(squares[i, j - 1][3] == square[0] for (i, j), square in squares.items() if j)


def test_roads_are_drawn_as_far_as_the_map_reads_places_and_areas_whole(world: dict[str, Any]) -> None:
    """The browser draws every road vertex on every frame: roads (and rivers) end where the place-reading
    squares do (the study area and its margin), where the sample's roads go on further south and east. An area
    is drawn whole: cut, its cut would be drawn as a boundary."""
    spec = deck_spec(app(world))
    squares = _squares(spec)
    west, south = min(p[0][0] for p in squares), min(p[0][1] for p in squares)
    east, north = max(p[2][0] for p in squares), max(p[2][1] for p in squares)
    roads = [shapely.geometry.shape(f["geometry"]) for f in _layer(spec, "roads")["data"]["features"]]
    x0, y0, x1, y1 = shapely.total_bounds(roads)
    assert west <= x0 and south <= y0 and x1 <= east and y1 <= north
    mapped = shapely.total_bounds(gpd.read_file(world["root"] / "data" / "sample" / "roads.geojson").geometry)
    assert mapped[1] < south and mapped[2] > east  # the layer itself reaches beyond the map
    assert sum(shapely.length(roads)) > 0.1  # degrees: the roads within are drawn
    backdrop = [shapely.geometry.shape(f["geometry"]) for f in _layer(spec, "backdrop")["data"]["features"]]
    areas = [shape for shape in backdrop if shape.geom_type == "Polygon"]
    assert any(shape.bounds[1] < south for shape in areas)  # an area is drawn whole: a cut would draw an edge
    rivers = [shape for shape in backdrop if shape.geom_type in ("LineString", "MultiLineString")]
    assert rivers and all(shape.bounds[1] >= south for shape in rivers)  # the sample's river is cut


def test_orientation_layers_are_drawn_within_a_metre_of_their_data_with_fewer_vertices() -> None:
    """Roads and backdrop are sent on every rerun: drawn simplified to about a metre, never farther off, and
    an area stays a valid area."""
    x = np.linspace(31.5, 31.52, 2_000)
    road = shapely.LineString(np.column_stack([x, 4.85 + 2e-6 * np.sin(x * 5_000)]))  # a road wobbling 20 cm
    area = shapely.Point(31.5, 4.85).buffer(0.01, quad_segs=256)
    frame = gpd.GeoDataFrame({"tip": ["road", "area"]}, geometry=[road, area], crs="EPSG:4326")
    drawn = [
        shapely.geometry.shape(f["geometry"])
        for f in _geojson(frame, ["tip"], tolerance=ORIENTATION_TOLERANCE_DEG)["features"]
    ]
    assert shapely.get_num_coordinates(drawn[0]) < 100 and shapely.get_num_coordinates(drawn[1]) < 1_025 / 4
    assert ORIENTATION_TOLERANCE_DEG * 111_320 <= 1.2  # metres
    off = [shapely.hausdorff_distance(a, b) for a, b in zip(drawn, [road, area], strict=True)]
    assert max(off) <= ORIENTATION_TOLERANCE_DEG + 1e-6  # and the 6 decimals the map is sent with
    assert drawn[1].is_valid


def test_no_two_colours_of_the_map_legend_share_a_hue_family() -> None:
    import colorsys  # noqa: PLC0415

    from planner.dashboard.deck import PALETTE  # noqa: PLC0415

    hues = {}
    for name, (r, g, b) in PALETTE.items():
        hue, saturation, value = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
        if saturation >= 0.3 and value >= 0.3:  # a colour; the others are black, grey or white, told apart by form
            hues[name] = hue * 360
    assert len(hues) >= 5
    for a, hue_a in hues.items():
        for b, hue_b in hues.items():
            gap = abs(hue_a - hue_b) % 360
            assert a == b or min(gap, 360 - gap) >= 25, (a, b, hue_a, hue_b)
    neutral = [name for name in PALETTE if name not in hues]
    assert sorted(neutral) == ["core", "displacement", "outer", "reports"]


def test_the_population_layer_shows_each_cell_none_as_clear_and_unknown_as_grey() -> None:
    """The density layer is the surface's people per cell as an image over the grid's corners: more people
    darker and more opaque, no one uncoloured, unknown grey (never shown as empty)."""
    people = np.array([[0.0, 10.0], [np.nan, 1000.0]], dtype="float32")
    bands = Bands(["people"], people[None], Affine(100, 0, 500_000, 0, -100, 500_200), "EPSG:32636", 100.0)
    layer = json.loads(pdk.Deck(layers=[_density(bands)]).to_json())["layers"][0]
    assert (layer["@@type"], layer["id"]) == ("BitmapLayer", "heatmap")
    png = base64.b64decode(layer["image"].removeprefix("data:image/png;base64,"))
    pixels = np.asarray(Image.open(io.BytesIO(png)))
    assert pixels.shape == (2, 2, 4)
    assert pixels[0, 0, 3] == 0  # no one
    assert tuple(pixels[1, 0]) == (128, 128, 128, 90)  # unknown
    few, many = pixels[0, 1], pixels[1, 1]
    assert many[3] > few[3] > 0 and many[1] < few[1]  # more people: more opaque, darker
    to_wgs84 = transformer(CRS.from_epsg(32636), WGS84).transform
    assert layer["bounds"][0] == pytest.approx(list(to_wgs84(500_000, 500_000)))  # south-west corner first
    assert layer["bounds"][2] == pytest.approx(list(to_wgs84(500_200, 500_200)))


def test_a_map_is_written_once_and_sent_as_written_on_every_rerun_that_shows_it(world: dict[str, Any]) -> None:
    """A map is built once per view; the JSON sent to the browser is written once for it, not on every rerun
    (Juba's cordon COA: 392 kB), and a view seen again is sent exactly as it was."""
    from planner.outputs import bundle  # noqa: PLC0415
    from planner.redaction import Redaction  # noqa: PLC0415

    plan, layers = open_plan(world["plan"])
    assessment = assess(plan, layers)
    found = bundle(assessment, Redaction(sensitive=False, coarsen_m=None, asked_by=None))
    deck = build_deck(assessment, found, "A")
    written = deck.to_json()
    assert deck.to_json() is written and json.loads(written)["layers"]
    at = app(world)
    first = at.get("deck_gl_json_chart")[0].proto.json
    at.radio(key="map_coa").set_value("B").run()
    assert at.get("deck_gl_json_chart")[0].proto.json != first
    at.radio(key="map_coa").set_value("A").run()
    assert at.get("deck_gl_json_chart")[0].proto.json == first
