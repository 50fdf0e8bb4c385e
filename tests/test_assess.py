"""The assessment on a world small enough to check by hand, its laws as properties, and the sample golden."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from world import lonlat, make_world

from planner.assess import assess
from planner.plan import open_plan
from planner.risk import round_people

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "planner/schemas/assessment.schema.json").read_text())


def run(plan_path: Path) -> dict[str, Any]:
    plan, layerset = open_plan(plan_path)
    result = assess(plan, layerset).to_dict()
    jsonschema.validate(result, SCHEMA)
    return result


def test_cordon_of_nine_pixels_holds_ninety_people(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path))["coas"][0]
    core, outer = coa["exposure"]["core"], coa["exposure"]["outer"]
    # The cordon is exactly 3 x 3 pixels of 10 people: 90 people in the core.
    assert core["people"] == pytest.approx(90, abs=1e-6)
    # The 100 m ring around a 300 m square: 4 sides of 300 x 100 m plus 4 quarter circles, 10 people per ha.
    ring_m2 = 4 * 300 * 100 + math.pi * 100**2
    assert outer["people"] == pytest.approx(ring_m2 / 10_000 * 10, rel=2e-3)
    assert core["coverage"] == 1.0 and outer["coverage"] == 1.0


def test_sites_are_listed_with_zone_distance_and_element(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path))["coas"][0]
    sites = {s["name"]: s for s in coa["sites"]}
    assert set(sites) == {"School in the cordon", "Camp"}  # the clinic is 150 m out, beyond the 100 m ring
    school = sites["School in the cordon"]
    assert (school["zone"], school["distance_m"], school["element"], school["category"]) == (
        "core",
        0.0,
        "cordon-1",
        "education",
    )
    assert sites["Camp"]["zone"] == "core" and sites["Camp"]["category"] == "displacement"


def test_displaced_people_by_share_of_the_camp_and_never_added_to_people(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path))["coas"][0]
    core, outer = coa["exposure"]["core"], coa["exposure"]["outer"]
    # The camp (300 x 300 m) has a third of its area in the cordon (x 500-600) and a third in the ring
    # (x 600-700, within 100 m of the cordon).
    assert core["displaced"] == pytest.approx(1000 / 3, rel=1e-6)
    assert outer["displaced"] == pytest.approx(1000 / 3, rel=1e-3)
    assert core["people"] == pytest.approx(90, abs=1e-6)  # the raster figure stands alone


def test_intensity_is_one_in_the_core_and_falls_across_the_ring(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path))["coas"][0]
    core, outer = coa["exposure"]["core"], coa["exposure"]["outer"]
    assert core["people_weighted"] == pytest.approx(core["people"], rel=1e-6)
    # Linear fall over 100 m: on the straight sides the mean intensity of the ring is one half.
    assert 0.4 * outer["people"] < outer["people_weighted"] < 0.6 * outer["people"]


def test_clinic_comes_in_with_a_larger_ring(tmp_path: Path) -> None:
    cordon = {
        "id": "cordon-1",
        "activity": "cordon_search",
        "outer_m": 200,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[lonlat(300, 400), lonlat(600, 400), lonlat(600, 700), lonlat(300, 700), lonlat(300, 400)]],
        },
    }
    coa = run(make_world(tmp_path, elements=[cordon]))["coas"][0]
    clinic = next(s for s in coa["sites"] if s["name"] == "Clinic 150 m out")
    assert clinic["zone"] == "outer" and clinic["distance_m"] == pytest.approx(150, abs=0.5)
    assert clinic["intensity"] == pytest.approx(0.25, abs=0.01)  # 50 m from the outer edge of a 200 m ring


def test_part_of_a_zone_without_data_is_flagged_not_zero(tmp_path: Path) -> None:
    # A landing zone on the raster's east edge: half its circle lies where there is no population data.
    lz = {"id": "lz-1", "activity": "helicopter_lz", "position": lonlat(1000, 500), "core_m": 50, "outer_m": 100}
    coa = run(make_world(tmp_path, elements=[lz]))["coas"][0]
    assert coa["exposure"]["core"]["coverage"] == pytest.approx(0.5, abs=0.01)
    assert any(f["code"] == "no_coverage" for f in coa["exposure"]["flags"]["people"])


def test_element_beyond_the_raster_has_unknown_people(tmp_path: Path) -> None:
    lz = {"id": "lz-1", "activity": "helicopter_lz", "position": lonlat(3000, 500)}
    far_site = [("school", "School", 2900, 400), ("clinic", "Clinic", 3100, 600)]
    coa = run(make_world(tmp_path, elements=[lz], sites=far_site))["coas"][0]
    assert coa["exposure"]["core"]["people"] is None  # unknown, not zero
    assert "residents there are unknown, not zero" in coa["risk"]["contributions"]["rotor_wash"]["explanation"]
    assert any("unknown, not zero" in reason for reason in coa["risk"]["widened_by"])
    assert any(f["code"] == "no_coverage" for f in coa["exposure"]["flags"]["people"])


def test_threat_weight_by_age_precision_and_kind(tmp_path: Path) -> None:
    # One attack on civilians 30 days before the operation (one half-life), precisely located, near the cordon.
    x, y = lonlat(450, 550)
    events = f"date,lat,lon,type,precision_m\n2025-05-02,{y},{x},attack on civilians,500\n"
    coa = run(make_world(tmp_path, threats=events))["coas"][0]
    threats = coa["threats"]
    assert threats["count"] == 1 and threats["by_kind"] == {"attack_on_civilians": 1}
    assert threats["weighted_total"] == pytest.approx(0.5 * 1.0 * 3.0)
    assert threats["most_recent"]["date"] == "2025-05-02"
    # Inside the cordon the report keeps its whole weight near it: the threat there is 1 - exp(-1.5 / 5).
    [near] = coa["risk"]["harm_by_others"]["elements"]
    assert near["weighted"] == pytest.approx(1.5)
    assert near["threat"]["central"] == pytest.approx(1 - math.exp(-1.5 / 5), rel=1e-3)
    assert near["attacks_on_civilians"] == 1 and near["nearest_m"] == 0.0


def test_reports_outside_the_window_or_too_far_do_not_count(tmp_path: Path) -> None:
    near_x, near_y = lonlat(450, 550)
    far_x, far_y = lonlat(450, 9_000)
    events = (
        "date,lat,lon,type\n"
        f"2024-06-01,{near_y},{near_x},armed clash\n"  # a year before: outside the 180-day window
        f"2025-06-02,{near_y},{near_x},armed clash\n"  # after the operation starts
        f"2025-05-20,{far_y},{far_x},armed clash\n"
    )  # 8 km away
    assert run(make_world(tmp_path, threats=events))["coas"][0]["threats"]["count"] == 0


def test_no_threat_layer_is_unknown_not_calm(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path))["coas"][0]
    assert coa["threats"]["flags"][0]["code"] == "no_data"
    assert "unknown" in coa["risk"]["contributions"]["harm_by_others"]["explanation"]


def test_contributions_add_up_and_explain(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path))["coas"][0]
    shares = [c["share_pct"] for c in coa["risk"]["contributions"].values()]
    assert sum(shares) == pytest.approx(100, abs=0.05)
    explanation = coa["risk"]["contributions"]["movement_restriction"]["explanation"]
    assert "of cordon-1" in explanation and "people confined" in explanation


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (4, 0),
        (5, 10),
        (994, 990),
        (995, 1_000),
        (1_049, 1_000),
        (1_050, 1_100),
        (99_949, 99_900),
        (99_950, 100_000),
        (123_456, 123_000),
    ],
)
def test_people_rounded_as_field_reports_do(value: float, shown: int) -> None:
    assert round_people(value) == shown


# --- laws ---------------------------------------------------------------------------------------------------

LAW_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def lz(x: float, y: float, core: float, outer: float, name: str = "lz") -> dict[str, Any]:
    return {"id": name, "activity": "helicopter_lz", "position": lonlat(x, y), "core_m": core, "outer_m": outer}


@LAW_SETTINGS
@given(
    x=st.floats(100, 900),
    y=st.floats(100, 900),
    core=st.floats(10, 150),
    extra=st.floats(10, 200),
    grow=st.floats(1, 300),
)
def test_a_larger_radius_never_exposes_fewer(
    tmp_path_factory: pytest.TempPathFactory, x: float, y: float, core: float, extra: float, grow: float
) -> None:
    small = run(make_world(tmp_path_factory.mktemp("w"), elements=[lz(x, y, core, core + extra)]))["coas"][0]
    large = run(make_world(tmp_path_factory.mktemp("w"), elements=[lz(x, y, core, core + extra + grow)]))["coas"][0]
    people = lambda c: sum(c["exposure"][z]["people"] for z in ("core", "outer"))  # noqa: E731
    assert people(large) >= people(small) - 1e-6
    assert len(large["sites"]) >= len(small["sites"])
    assert large["risk"]["score"] >= small["risk"]["score"]


@LAW_SETTINGS
@given(seed=st.randoms(use_true_random=False))
def test_results_do_not_depend_on_element_order(tmp_path_factory: pytest.TempPathFactory, seed: Any) -> None:
    elements = [lz(200, 300, 50, 150, "a"), lz(700, 600, 30, 120, "b"), lz(450, 850, 40, 90, "c")]
    shuffled = list(elements)
    seed.shuffle(shuffled)
    first = run(make_world(tmp_path_factory.mktemp("w"), elements=elements))["coas"][0]
    second = run(make_world(tmp_path_factory.mktemp("w"), elements=shuffled))["coas"][0]
    assert first["risk"]["score"] == pytest.approx(second["risk"]["score"])
    assert first["exposure"]["core"] == pytest.approx(second["exposure"]["core"])
    assert {(s["id"], s["zone"], s["element"]) for s in first["sites"]} == {
        (s["id"], s["zone"], s["element"]) for s in second["sites"]
    }


@LAW_SETTINGS
@given(people=st.floats(0, 5_000), core=st.floats(0, 300), extra=st.floats(1, 2_000))
def test_scores_stay_in_range(
    tmp_path_factory: pytest.TempPathFactory, people: float, core: float, extra: float
) -> None:
    coa = run(
        make_world(tmp_path_factory.mktemp("w"), people_per_pixel=people, elements=[lz(500, 500, core, core + extra)])
    )["coas"][0]
    assert 0 <= coa["risk"]["score"] <= 100


def test_moving_away_from_everything_lowers_the_score_to_the_floor(tmp_path: Path) -> None:
    (tmp_path / "near").mkdir()
    (tmp_path / "far").mkdir()
    near = run(make_world(tmp_path / "near", elements=[lz(500, 500, 50, 150)]))["coas"][0]
    far = run(
        make_world(
            tmp_path / "far",
            people_per_pixel=0.0,
            sites=[],
            elements=[lz(500, 500, 50, 150)],
            camp={
                "type": "Feature",
                "properties": {"name": "Camp", "ind": 10},
                "geometry": {"type": "Point", "coordinates": lonlat(990, 10)},
            },
        )
    )["coas"][0]
    assert near["risk"]["score"] > 0
    assert far["risk"]["score"] == 0.0 and far["risk"]["level"] == "low"


def test_an_empty_threat_layer_is_unknown_not_calm(tmp_path: Path) -> None:
    coa = run(make_world(tmp_path, threats="date,lat,lon,type\n"))["coas"][0]
    assert "hold no reports: the threat context is unknown, not calm" in coa["threats"]["flags"][0]["message"]
    assert coa["risk"]["harm_by_others"]["threat_known"] is False
    assert "unknown" in coa["risk"]["contributions"]["harm_by_others"]["explanation"]


def test_a_coas_casualties_do_not_depend_on_the_other_coas_of_the_plan() -> None:
    """Each COA's harm is estimated over its own study area: alone in a plan, or beside others, its casualties
    are the same. (Access on the roads is still searched over the whole plan's area, so the people a COA cuts
    off from care, and with them its score, can still differ.)"""
    import dataclasses  # noqa: PLC0415

    plan, layerset = open_plan(ROOT / "scenarios" / "sample.yaml")
    together = assess(plan, layerset)
    for coa in plan.coas:
        alone = assess(dataclasses.replace(plan, coas=[coa]), layerset)
        mine = next(r for r in together.coas if r.coa.id == coa.id)
        first, second = alone.coas[0].risk.casualties, mine.risk.casualties
        # the same to the last digits that a sum in another order can change
        assert (first.low, first.central, first.high) == pytest.approx((second.low, second.central, second.high))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-3000, 13000), st.floats(-3000, 9000), st.floats(0.1, 3.0)), min_size=0, max_size=12),
    st.sampled_from([250.0, 1000.0, 2500.0]),
)
def test_threat_density_is_the_gaussian_sum_of_the_reports(
    found: list[tuple[float, float, float]], bandwidth: float
) -> None:
    """The map's threat density equals every report's Gaussian kernel summed at every cell (each report to
    within its kernel's value at four bandwidths, exp(-8) of its peak), computed here the direct way."""
    import numpy as np  # noqa: PLC0415
    from affine import Affine  # noqa: PLC0415

    from planner.threat import Report, threat_density  # noqa: PLC0415

    reports = [
        Report(
            layer="r",
            event_id=str(i),
            date="2025-05-01",
            kind="armed_clash",
            distance_m=0.0,
            weight=w,
            civilian_targeting=False,
            location_precision_m=1_000.0,
            x=x,
            y=y,
        )
        for i, (x, y, w) in enumerate(found)
    ]
    transform, shape = Affine(100.0, 0, 0.0, 0, -100.0, 6000.0), (60, 100)
    got = threat_density(reports, transform, shape, bandwidth)
    xs, ys = np.meshgrid(50.0 + 100.0 * np.arange(100), 5950.0 - 100.0 * np.arange(60))
    norm = 1.0 / (2 * np.pi * (bandwidth / 1000) ** 2)
    want = sum(
        (w * norm * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * bandwidth**2)) for x, y, w in found),
        np.zeros(shape),
    )
    # each report may leave out at most its kernel's value four bandwidths away: exp(-8) of its peak
    assert np.allclose(got, want, rtol=0, atol=norm * np.exp(-8) * sum(w for *_, w in found) + 1e-12)
