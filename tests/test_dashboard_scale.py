"""Mission-scale work on screen: the overview page (made from the open plan's layer set with its progress
shown, drawn band by band, every band in each cell's tooltip, in English and French) and position sweeps on
the plan page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rasterio
from streamlit.testing.v1 import AppTest
from test_dashboard import PAGES, ROOT, _sample_area, shown

from planner.dashboard.deck import overview_deck
from planner.scale.country import BANDS


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = _sample_area(tmp_path / "area")
    settings = root / "mission.toml"
    settings.write_text(settings.read_text() + 'surfaces_dir = "overviews"\n')
    monkeypatch.setenv("PRIMUM_SETTINGS", str(settings))
    monkeypatch.setenv("PRIMUM_DB", str(tmp_path / "record.db"))
    return root


def overview(root: Path, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["plan_path"] = str(root / "scenarios" / "sample.yaml")
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(str(PAGES / "overview.py"))
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_overview_is_made_with_its_progress_then_drawn_band_by_band(area: Path) -> None:
    at = overview(area)
    assert any("No overview of this layer set yet" in i.value for i in at.info)
    at.number_input[0].set_value(200.0)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    made = area / "overviews" / "sample-200m-2026-12-03.tif"
    assert made.is_file()
    with rasterio.open(made) as src:
        assert src.descriptions == BANDS
    # the progress bar ended full, saying how many chunks were computed
    bars = at.get("progress")
    assert bars and bars[0].proto.value == 100 and "1 of 1 chunks" in bars[0].proto.text
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert spec["layers"][0]["id"] == "overview-people"
    tip = spec["layers"][0]["data"]["features"][0]["properties"]["tip"]
    assert "people:" in tip and "minutes to care:" in tip and "people near recent attacks:" in tip
    at.radio[0].set_value("health_minutes").run()
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert spec["layers"][0]["id"] == "overview-health_minutes"
    assert any("minutes to the nearest functional" in c.value for c in at.caption)
    french = overview(area, "fr")
    spec = json.loads(french.get("deck_gl_json_chart")[0].proto.json)
    assert "minutes jusqu'aux soins" in spec["layers"][0]["data"]["features"][0]["properties"]["tip"]
    assert french.title[0].value == "Vue d'ensemble de la mission"


def test_the_cells_shown_add_up_to_the_surfaces_people(area: Path, tmp_path: Path) -> None:
    from planner.layers.manifest import load_layerset  # noqa: PLC0415
    from planner.scale.country import country_surface  # noqa: PLC0415

    out = tmp_path / "fine.tif"
    made = country_surface(load_layerset(area / "layers" / "sample.yaml"), out, cell_m=40)  # 303 x 253 cells
    deck, _ = overview_deck(out, "people", lang="en", style="")
    features: list[dict[str, Any]] = json.loads(deck.to_json())["layers"][0]["data"]["features"]
    assert len(features) <= 120 * 120  # drawn from an overview level, not cell by cell
    shown = sum(float(f["properties"]["tip"].split("people: ")[1].split(" ·")[0].replace(",", "")) for f in features)
    assert shown == pytest.approx(made.totals["people"], rel=0.02)  # rounded to whole people per cell shown


def test_a_sweep_on_the_plan_page_lists_the_best_positions_and_names_the_better_one(area: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["plan_path"] = str(area / "scenarios" / "sample.yaml")
    at.run()
    at.switch_page(str(PAGES / "plan.py"))
    at.run()
    assert not at.exception, at.exception
    form = next(s for s in at.selectbox if s.label == "Element")
    form.set_value(("A", "lz-1"))
    next(n for n in at.number_input if n.label == "Within (m)").set_value(250.0)
    next(n for n in at.number_input if n.label == "Grid step (m)").set_value(250.0)
    next(b for b in at.button if b.label == "Sweep").click().run()
    assert not at.exception, at.exception
    said = " ".join(shown(s) for s in at.success)
    assert "lz-1 moved" in said and "best of 5 positions" in said and "P16" in said
    assert any("set aside: a displacement site reaches into its core zone" in c.value for c in at.caption)
    table = at.dataframe[-1].value
    assert list(table.columns)[:2] == ["Position (MGRS)", "Moved (m)"] and 0 < len(table) <= 10
    bars = at.get("progress")
    assert bars and bars[-1].proto.value == 100
