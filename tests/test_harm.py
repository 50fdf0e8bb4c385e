"""The harm estimate's mechanisms by hand, and its laws as properties."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harm_world import CAMP, HOSPITAL, point, shape, square, write_plan, write_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate

from planner.assess import assess
from planner.harm.mechanisms import CEP_PER_SIGMA, blast_probability
from planner.harm.presence import home_share, open_share
from planner.plan import TimeWindow, open_plan
from planner.settings import HarmSettings

DAY = {"start": "2025-06-05T07:00:00+03:00", "end": "2025-06-05T11:00:00+03:00"}


# --- mechanisms by hand -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("area", "sigma"), [(2300.0, 0.0), (2300.0, 100.0), (10_000.0, 30.0)])
def test_one_round_harms_its_casualty_area_whatever_the_delivery_error(area: float, sigma: float) -> None:
    # Integrated over the plane, the damage function convolved with the error keeps the casualty area.
    total, _ = integrate.quad(lambda r: 2 * math.pi * r * blast_probability(np.array(r), area, sigma, 1), 0, 5_000)
    assert total == pytest.approx(area, rel=1e-6)


def test_a_larger_error_lowers_the_peak_and_spreads_the_harm() -> None:
    near, far = np.array([0.0]), np.array([300.0])
    observed = blast_probability(near, 2300, 35 / CEP_PER_SIGMA, 1)[0]
    unobserved = blast_probability(near, 2300, 120 / CEP_PER_SIGMA, 1)[0]
    assert unobserved < observed
    assert (
        blast_probability(far, 2300, 120 / CEP_PER_SIGMA, 1)[0] > blast_probability(far, 2300, 35 / CEP_PER_SIGMA, 1)[0]
    )
    # With no error, a person at the burst is harmed for certain (the Carleton function is 1 there).
    assert blast_probability(near, 2300, 0.0, 1)[0] == pytest.approx(1.0)


def test_rounds_combine_as_independent_chances() -> None:
    one = blast_probability(np.array([50.0]), 2300, 40.0, 1)[0]
    assert blast_probability(np.array([50.0]), 2300, 40.0, 3)[0] == pytest.approx(1 - (1 - one) ** 3)


def test_people_at_home_follow_the_hours_of_the_window() -> None:
    profile = HarmSettings().home_share_by_hour
    night = TimeWindow(*(_at(h) for h in ("2025-06-03T22:00:00+03:00", "2025-06-04T02:00:00+03:00")))
    morning = TimeWindow(*(_at(h) for h in ("2025-06-05T07:00:00+03:00", "2025-06-05T11:00:00+03:00")))
    assert home_share(night, profile) == 1.0
    assert home_share(morning, profile) == pytest.approx((0.85 + 0.6 * 3) / 4)


def test_a_site_holds_people_for_the_share_of_the_window_it_is_open() -> None:
    window = TimeWindow(_at("2025-06-05T05:00:00+03:00"), _at("2025-06-05T13:00:00+03:00"))  # a Thursday
    assert open_share("Mo,Th 06:00-14:00", window) == pytest.approx(7 / 8)
    assert open_share("Tu 06:00-14:00", window) == 0.0
    assert open_share("not hours", window) is None


def _at(text: str) -> Any:
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(text)


# --- the estimate on the golden world -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("world"))


def estimate(world: Path, coas: dict[str, list[dict[str, Any]]], tmp: Path) -> dict[str, dict[str, Any]]:
    plan, layerset = open_plan(write_plan(tmp, world, coas, **DAY))
    return {coa["id"]: coa["risk"] for coa in assess(plan, layerset).to_dict()["coas"]}


def test_the_mortar_near_the_hospital_names_its_figures_and_basis(world: Path, tmp_path: Path) -> None:
    risk = estimate(
        world, {"A": [point("mortar_60mm", HOSPITAL[0] + 50, HOSPITAL[1], observer=False, munitions=12)]}, tmp_path
    )["A"]
    [blast] = risk["mechanisms"]
    assert blast["parameters"]["rounds"] == 12 and blast["parameters"]["observed"] is False
    assert blast["parameters"]["cep_m"] == pytest.approx(120)
    assert "Carleton" in blast["basis"]
    hospital = next(s for s in blast["sites"] if s["name"] == "Kalo County Hospital")
    assert hospital["distance_m"] == pytest.approx(50, abs=0.5)
    assert 0 < hospital["struck"] < 1 and hospital["casualties"]["central"] > 0
    assert risk["harms"]["sites_struck"]["central"] > 0
    assert "12 round(s), unobserved fire" in risk["contributions"]["blast"]["explanation"]


def test_a_plan_that_does_not_say_how_many_rounds_or_who_observes_widens_the_range(world: Path, tmp_path: Path) -> None:
    told = point("mortar_60mm", 700, 2500, observer=False, munitions=6)
    silent = point("mortar_60mm", 700, 2500)
    risks = estimate(world, {"told": [told], "silent": [silent]}, tmp_path)
    told_c, silent_c = risks["told"]["casualties"], risks["silent"]["casualties"]
    assert silent_c["central"] == pytest.approx(told_c["central"], rel=1e-4)  # the same assumption at the centre
    assert silent_c["low"] < told_c["low"] and silent_c["high"] > told_c["high"]
    assert any("munitions" in reason for reason in risks["silent"]["widened_by"])
    assert any("observer" in reason for reason in risks["silent"]["widened_by"])


def test_people_confined_by_a_cordon_are_the_people_present_inside_it(world: Path, tmp_path: Path) -> None:
    # 200 x 200 m in the town: 4 pixels of 20 residents, 65 % of them at home over a 07:00-11:00 window.
    risk = estimate(
        world, {"A": [shape("cordon_search", square(600, 2400, 100), outer_m=200, duration_h=3)]}, tmp_path
    )["A"]
    share = risk["present"]["home_share"]
    assert risk["harms"]["people_confined"]["central"] == pytest.approx(80 * share, rel=1e-6)
    assert risk["harms"]["person_hours_confined"]["central"] == pytest.approx(80 * share * 3, rel=1e-6)


def test_no_one_is_counted_twice_when_two_elements_reach_the_same_people(world: Path, tmp_path: Path) -> None:
    one = [point("mortar_60mm", 700, 2500, observer=False, munitions=6)]
    two = [*one, {**point("mortar_60mm", 700, 2500, observer=False, munitions=6), "id": "mortar-2"}]
    risks = estimate(world, {"one": one, "two": two}, tmp_path)
    single, double = risks["one"]["casualties"]["central"], risks["two"]["casualties"]["central"]
    # Twice the rounds on the same aimpoint: more harm, but less than twice (the same people cannot die twice).
    assert single < double < 2 * single
    assert double == pytest.approx(
        estimate(world, {"twelve": [point("mortar_60mm", 700, 2500, observer=False, munitions=12)]}, tmp_path)[
            "twelve"
        ]["casualties"]["central"],
        rel=1e-6,
    )
    shares = [m["casualties"]["central"] for m in risks["two"]["mechanisms"]]
    assert sum(shares) == pytest.approx(double, rel=1e-6)


def test_shelters_under_rotor_wash_in_a_displacement_site(world: Path, tmp_path: Path) -> None:
    centre = ((CAMP[0] + CAMP[2]) / 2, (CAMP[1] + CAMP[3]) / 2)
    risk = estimate(world, {"A": [point("helicopter_lz", *centre)]}, tmp_path)["A"]
    # 14,200 people over 600 x 600 m; within 50 m everything is at full intensity, fading to 150 m.
    density = 14_200 / 600**2
    weighted = density * (math.pi * 50**2 + 2 * math.pi * integrate.quad(lambda r: r * (150 - r) / 100, 50, 150)[0])
    shelters = risk["harms"]["shelters_at_risk"]["central"]
    assert shelters == pytest.approx(weighted * 0.3 / 5, rel=0.05)
    assert risk["harms"]["people_losing_shelter"]["central"] == pytest.approx(shelters * 5, rel=1e-6)


# --- laws -----------------------------------------------------------------------------------------------------

LAWS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@LAWS
@given(rounds=st.integers(1, 40), more=st.integers(1, 40), x=st.floats(300, 1700), y=st.floats(300, 3700))
def test_more_rounds_never_lower_the_estimate(
    world: Path, tmp_path_factory: pytest.TempPathFactory, rounds: int, more: int, x: float, y: float
) -> None:
    risks = estimate(
        world,
        {
            "few": [point("mortar_60mm", x, y, observer=False, munitions=rounds)],
            "many": [point("mortar_60mm", x, y, observer=False, munitions=rounds + more)],
        },
        tmp_path_factory.mktemp("p"),
    )
    for figure in ("casualties", "index"):
        for level in ("low", "central", "high"):
            assert risks["many"][figure][level] >= risks["few"][figure][level] - 1e-9


@LAWS
@given(cep=st.floats(20, 150), grow=st.floats(1, 100), rounds=st.integers(1, 30))
def test_a_larger_delivery_error_never_lowers_the_estimate_where_people_are_spread_evenly(
    tmp_path_factory: pytest.TempPathFactory, cep: float, grow: float, rounds: int
) -> None:
    # In the town's even 2,000 people per km² (no site near the aimpoint), a wider spread of rounds overlaps
    # less and so harms at least as many. Where people crowd at the aimpoint it lowers the peak instead.
    root = tmp_path_factory.mktemp("cep")
    table = root / "effects.yaml"
    base = (Path(__file__).resolve().parent.parent / "planner/effects_default.yaml").read_text()
    table.write_text(base)
    results = []
    for error in (cep, cep + grow):
        text = base.replace("cep_unobserved_m: 120", f"cep_unobserved_m: {error}")
        table.write_text(text)
        world = write_world(root / f"w{error}")
        plan_path = write_plan(
            root, world, {"A": [point("mortar_60mm", 700, 1900, observer=False, munitions=rounds)]}, **DAY
        )
        plan_text = plan_path.read_text() + f"effects_table: {table}\n"
        plan_path.write_text(plan_text)
        plan, layerset = open_plan(plan_path)
        results.append(assess(plan, layerset).to_dict()["coas"][0]["risk"]["casualties"]["central"])
    assert results[1] >= results[0] * (1 - 1e-3)


@LAWS
@given(people=st.floats(0.5, 50), factor=st.floats(1, 5), case=st.sampled_from(["mortar", "lz", "cordon", "convoy"]))
def test_more_people_never_lower_the_estimate_and_ranges_hold(
    tmp_path_factory: pytest.TempPathFactory, people: float, factor: float, case: str
) -> None:
    from harm_world import line  # noqa: PLC0415

    elements = {
        "mortar": [point("mortar_60mm", 800, 2000, observer=True, munitions=4)],
        "lz": [point("helicopter_lz", 800, 2000)],
        "cordon": [shape("cordon_search", square(800, 2000, 150), outer_m=200)],
        "convoy": [shape("convoy", line((300, 1000), (1700, 1000)))],
    }[case]
    found = []
    for density in (people, people * factor):
        root = tmp_path_factory.mktemp("people")
        world = write_world(root)
        _scale_raster(root / "pop.tif", density)
        plan, layerset = open_plan(write_plan(root, world, {"A": elements}, **DAY))
        found.append(assess(plan, layerset).to_dict()["coas"][0]["risk"])
    for risk in found:
        for figure in [risk["casualties"], risk["index"], *[m["casualties"] for m in risk["mechanisms"]]]:
            assert figure["low"] <= figure["central"] <= figure["high"]
        assert sum(c["share_pct"] for c in risk["contributions"].values()) == pytest.approx(100, abs=0.05) or (
            risk["index"]["central"] == 0
        )
    for level in ("low", "central", "high"):
        assert found[1]["index"][level] >= found[0]["index"][level] - 1e-9
        assert found[1]["casualties"][level] >= found[0]["casualties"][level] - 1e-9


def _scale_raster(path: Path, town: float) -> None:
    import rasterio  # noqa: PLC0415

    with rasterio.open(path, "r+") as dst:
        values = dst.read(1)
        values[:, : values.shape[1] // 2] = town
        dst.write(values, 1)
