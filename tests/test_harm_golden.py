"""The harm estimate against what a PoC adviser would say: a golden set of hand-made cases.

Each case is one COA over the golden world (``harm_world.py``). The adviser's judgement is written down as
tiers (0 negligible ... 4 extreme) and as orderings and levels stated outright; the estimate must agree with
the tiers at a Kendall tau of at least 0.8, and with every stated ordering and level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harm_world import (
    CAMP,
    CENTROID,
    CHURCH,
    HOSPITAL,
    MARKET,
    line,
    point,
    shape,
    square,
    write_plan,
    write_world,
)
from scipy.stats import kendalltau

from planner.assess import assess
from planner.plan import open_plan

# A Thursday market morning; the same convoy on a Tuesday night.
DAY = {"start": "2025-06-05T07:00:00+03:00", "end": "2025-06-05T11:00:00+03:00"}
NIGHT = {"start": "2025-06-03T22:00:00+03:00", "end": "2025-06-04T02:00:00+03:00"}

NEAR_HOSPITAL = (HOSPITAL[0] + 50, HOSPITAL[1])
CAMP_CENTRE = ((CAMP[0] + CAMP[2]) / 2, (CAMP[1] + CAMP[3]) / 2)
MARKET_ROAD = line((MARKET[0] - 600, MARKET[1]), (MARKET[0] + 600, MARKET[1]))

# case: (elements, window, tier). Tiers are the adviser's levels: 0 negligible, 1 low, 2 medium, 3 high, 4 extreme.
CASES: dict[str, tuple[list[dict[str, Any]], dict[str, str], int]] = {
    "lz_open": ([point("helicopter_lz", 3700, 300)], DAY, 0),
    "patrol_open": ([shape("patrol", line((3300, 200), (3900, 200)))], DAY, 0),
    "convoy_open": ([shape("convoy", line((3300, 1800), (3900, 1800)))], DAY, 1),
    "cordon_open": ([shape("cordon_search", square(3500, 1200, 100), outer_m=200)], DAY, 1),
    "patrol_church": (
        [shape("patrol", line((CHURCH[0] - 300, CHURCH[1] + 7), (CHURCH[0] + 300, CHURCH[1] + 7)))],
        DAY,
        1,
    ),
    "convoy_market_night": ([shape("convoy", MARKET_ROAD)], NIGHT, 1),
    "assembly_open": ([point("assembly_area", 3600, 3700)], DAY, 1),
    "mortar_fields_observed_3": ([point("mortar_60mm", 3500, 700, observer=True, munitions=3)], DAY, 1),
    "lz_by_camp": ([point("helicopter_lz", CAMP[2] + 150, CAMP_CENTRE[1])], DAY, 2),
    "cordon_town_small": ([shape("cordon_search", square(600, 2400, 100), outer_m=200)], DAY, 1),
    "convoy_market_day": ([shape("convoy", MARKET_ROAD)], DAY, 2),
    "assembly_town_attacks": ([point("assembly_area", 900, 2800)], DAY, 2),
    "cordon_town_centroid": ([shape("cordon_search", square(CENTROID[0], CENTROID[1], 100), outer_m=200)], DAY, 2),
    "cordon_town_large": ([shape("cordon_search", square(700, 2000, 300), outer_m=300)], DAY, 2),
    "small_arms_town": ([point("small_arms", 1200, 1800)], DAY, 3),
    "lz_in_camp": ([point("helicopter_lz", *CAMP_CENTRE)], DAY, 3),
    "mortar_hospital_observed_3": ([point("mortar_60mm", *NEAR_HOSPITAL, observer=True, munitions=3)], DAY, 3),
    "mortar_hospital_unobserved_12": ([point("mortar_60mm", *NEAR_HOSPITAL, observer=False, munitions=12)], DAY, 4),
    "artillery_town_6": ([point("artillery_155mm", 700, 2500, observer=False, munitions=6)], DAY, 4),
    "mortar_hospital_unobserved_60": ([point("mortar_60mm", *NEAR_HOSPITAL, observer=False, munitions=60)], DAY, 4),
}


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case assessed: its COA's result as JSON data, by case name."""
    root = tmp_path_factory.mktemp("golden")
    layers = write_world(root)
    results: dict[str, dict[str, Any]] = {}
    for window in (DAY, NIGHT):
        cases = {case: elements for case, (elements, w, _) in CASES.items() if w is window}
        plan, layerset = open_plan(write_plan(root, layers, cases, **window))
        results |= {coa["id"]: coa for coa in assess(plan, layerset).to_dict()["coas"]}
    return results


def score(golden: dict[str, dict[str, Any]], case: str) -> float:
    return float(golden[case]["risk"]["score"])


def test_the_estimate_ranks_the_cases_as_an_adviser_would(golden: dict[str, dict[str, Any]]) -> None:
    tiers = [CASES[case][2] for case in CASES]
    scores = [score(golden, case) for case in CASES]
    tau = kendalltau(tiers, scores).statistic
    print(f"Kendall tau between the adviser's tiers and the scores: {tau:.3f}")
    for case in sorted(CASES, key=lambda c: score(golden, c)):
        risk = golden[case]["risk"]
        c = risk["casualties"]
        figures = f"{risk['score']:5.1f} {risk['level']:8} {c['central']:.2f} ({c['low']:.2f}-{c['high']:.2f})"
        print(f"  {case:32} tier {CASES[case][2]}  {figures}")
    assert len(CASES) >= 20
    assert tau >= 0.8


@pytest.mark.parametrize(
    ("more", "less"),
    [
        ("mortar_hospital_unobserved_60", "mortar_hospital_unobserved_12"),  # more rounds
        ("mortar_hospital_unobserved_12", "mortar_hospital_observed_3"),  # unobserved, more rounds
        ("mortar_hospital_observed_3", "mortar_fields_observed_3"),  # people and a hospital at the aimpoint
        ("convoy_market_day", "convoy_market_night"),  # the market is open, people are out
        ("lz_in_camp", "lz_by_camp"),
        ("lz_by_camp", "lz_open"),
        ("cordon_town_large", "cordon_town_small"),
        ("cordon_town_small", "cordon_open"),
        ("assembly_town_attacks", "assembly_open"),  # recent attacks: the position draws fire
        ("patrol_church", "patrol_open"),
    ],
)
def test_stated_orderings_hold(golden: dict[str, dict[str, Any]], more: str, less: str) -> None:
    assert score(golden, more) > score(golden, less)
    assert golden[more]["risk"]["index"]["central"] > golden[less]["risk"]["index"]["central"]


def test_a_mortar_by_a_hospital_is_high_and_far_above_a_patrol_past_a_church(
    golden: dict[str, dict[str, Any]],
) -> None:
    mortar, patrol = golden["mortar_hospital_observed_3"]["risk"], golden["patrol_church"]["risk"]
    assert mortar["level"] in ("high", "extreme")
    assert mortar["score"] - patrol["score"] >= 30  # a clear margin, never "too close to call"
    assert golden["mortar_hospital_unobserved_12"]["risk"]["level"] == "extreme"


def test_a_landing_zone_inside_a_displacement_site_is_at_least_high(golden: dict[str, dict[str, Any]]) -> None:
    risk = golden["lz_in_camp"]["risk"]
    assert risk["level"] in ("high", "extreme")
    rotor = next(m for m in risk["mechanisms"] if m["mechanism"] == "rotor_wash")
    camp = next(s for s in rotor["sites"] if s["name"] == "Alpha PoC Site")
    assert camp["distance_m"] == 0.0 and camp["shelters"]["central"] > 10
    assert risk["harms"]["people_losing_shelter"]["central"] > 50


def test_a_town_centroid_list_is_never_extreme_alone_and_its_range_says_why(
    golden: dict[str, dict[str, Any]],
) -> None:
    risk = golden["cordon_town_centroid"]["risk"]
    assert risk["level"] != "extreme"
    assert any("town centroid" in reason for reason in risk["widened_by"])
    # Kept on their one point, the 38,700 people would all be inside the cordon: that is the high end only.
    confined = risk["harms"]["people_confined"]
    assert confined["high"] > 38_000 > 10 * confined["central"]


def test_the_market_day_difference_is_in_the_evidence(golden: dict[str, dict[str, Any]]) -> None:
    day = next(m for m in golden["convoy_market_day"]["risk"]["mechanisms"] if m["mechanism"] == "traffic")
    night = next(m for m in golden["convoy_market_night"]["risk"]["mechanisms"] if m["mechanism"] == "traffic")
    market_day = next(s for s in day["sites"] if s["name"] == "Kalo Market")
    market_night = next(s for s in night["sites"] if s["name"] == "Kalo Market")
    assert market_day["people_present"]["central"] == pytest.approx(400)  # open all the window
    assert market_night["people_present"]["central"] == 0
    assert golden["convoy_market_day"]["risk"]["present"]["home_share"] < 0.8
    assert golden["convoy_market_night"]["risk"]["present"]["home_share"] == 1.0


def test_an_unknown_threat_widens_the_range_and_is_said(tmp_path: Path) -> None:
    cordon = [shape("cordon_search", square(900, 2800, 100), outer_m=200)]
    results = {}
    for threats in (True, False):
        layers = write_world(tmp_path / str(threats), threats=threats)
        plan, layerset = open_plan(write_plan(tmp_path, layers, {"A": cordon}, **DAY))
        results[threats] = assess(plan, layerset).to_dict()["coas"][0]["risk"]
    known, unknown = results[True], results[False]
    assert unknown["harm_by_others"]["threat_known"] is False
    assert any("unknown, not calm" in reason for reason in unknown["widened_by"])
    assert "unknown" in unknown["contributions"]["harm_by_others"]["explanation"]
    threat = unknown["harm_by_others"]["elements"][0]["threat"]
    assert threat["low"] == 0 and threat["high"] == 1 and threat["central"] > 0  # never counted as calm
    assert unknown["index"]["high"] >= known["index"]["high"]
    assert unknown["index"]["high"] - unknown["index"]["low"] > known["index"]["high"] - known["index"]["low"]
