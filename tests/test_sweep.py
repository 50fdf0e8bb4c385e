"""Position sweeps (``primum sweep``): the same estimate as the assessment at every candidate position, the
plan's constraints, the ranking, P16, and the same result in this process and on Dask's workers."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import yaml
from exactextract import exact_extract
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from planner.assess import assess
from planner.assess import assess as run_assessment
from planner.cli import app
from planner.errors import InputError
from planner.geo import WGS84, transformer
from planner.plan import load_plan, open_plan
from planner.scale.sweep import Sweep, load_better, offsets, sweep

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "scenarios" / "sample.yaml"
UTM36N = "EPSG:32636"


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def lz1() -> Sweep:
    """The sample's landing zone beside the PoC site, swept 500 m around on a 250 m grid, in this process."""
    return sweep(SAMPLE, "A", "lz-1", within_m=500, step_m=250)


def _metres(lon: float, lat: float) -> shapely.Point:
    return shapely.Point(transformer(WGS84, UTM36N).transform(lon, lat))


def _poc_site() -> shapely.Geometry:
    sites = gpd.read_file(ROOT / "data" / "sample" / "idp_sites.geojson").to_crs(UTM36N)
    return sites.geometry[sites["name"] == "Alpha PoC Site"].iloc[0]


@settings(max_examples=40)
@given(st.floats(50, 3000), st.floats(20, 1000))
def test_the_grid_holds_every_position_within_the_distance_once_with_the_planned_one_first(
    within: float, step: float
) -> None:
    grid = offsets(within, step)
    assert grid[0] == (0.0, 0.0)
    assert len(set(grid)) == len(grid)
    assert all((east**2 + north**2) ** 0.5 <= within + 1e-6 for east, north in grid)
    # symmetric: a grid point and its mirror images are both in or both out
    assert {(-e, n) for e, n in grid} == set(grid) == {(e, -n) for e, n in grid}
    assert ((step, 0.0) in grid) == (step <= within)


def test_the_planned_position_gets_the_assessments_own_figures(lz1: Sweep) -> None:
    plan, layerset = open_plan(SAMPLE)
    alone = assess(plan.__class__(**{**plan.__dict__, "coas": (plan.coas[0],)}), layerset)
    assert lz1.planned.offset_m == (0.0, 0.0)
    assert lz1.planned.score == alone.coas[0].risk.score
    assert lz1.planned.risk == alone.to_dict()["coas"][0]["risk"]


def test_the_best_position_for_the_landing_zone_by_the_poc_site_is_farther_from_it_and_does_less_harm(
    lz1: Sweep,
) -> None:
    site = _poc_site()
    planned, best = lz1.planned, lz1.kept[0]
    assert planned.risk is not None and best.risk is not None and best.score is not None
    planned_gap = site.distance(_metres(*planned.position))
    best_gap = site.distance(_metres(*best.position))
    assert planned_gap == pytest.approx(100.5, abs=1)  # inside the landing zone's 150 m outer zone
    assert best_gap - planned_gap == pytest.approx(49, abs=1)  # at the edge of the outer zone, past the shelters
    # By how much: the landing zone's own expected casualties (rotor wash on the site's shelters) go from
    # 0.019 to 0.002, and the COA's score falls from 91.85 to 91.83
    planned_own, best_own = (
        sum(m["casualties"]["central"] for m in risk["mechanisms"] if m["element"] == "lz-1")
        for risk in (planned.risk, best.risk)
    )
    assert planned_own == pytest.approx(0.0187, abs=0.0005)
    assert best_own == pytest.approx(0.0024, abs=0.0005)  # an eighth: the outer zone barely grazes the site
    fewer = planned.risk["casualties"]["central"] - best.risk["casualties"]["central"]
    assert fewer == pytest.approx(planned_own - best_own, abs=0.001)  # the COA's fall is the element's own
    assert planned.score - best.score == pytest.approx(0.02, abs=0.005)  # type: ignore[operator]
    better = lz1.better
    assert better is not None and better.position == best.position and better.moved_m == round(best.moved_m, 1)


def test_candidates_whose_core_reaches_the_poc_site_are_set_aside(lz1: Sweep) -> None:
    site = _poc_site()
    refused = [c for c in lz1.candidates if "inside_displacement_site" in c.refused]
    assert refused, "the 250 m grid crosses the PoC site"
    for candidate in lz1.candidates:  # lz-1's core is 50 m round its position
        inside = site.distance(_metres(*candidate.position)) <= 50
        assert ("inside_displacement_site" in candidate.refused) == inside, candidate.offset_m
    assert all(c not in lz1.kept for c in refused)


def _plan_with(tmp_path: Path, constraints: dict[str, object]) -> Path:
    raw = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    raw["layers"] = str((SAMPLE.parent / raw["layers"]).resolve())
    lz = {"id": "lz-1", "activity": "helicopter_lz", "position": "36NWM6870086000", "constraints": constraints}
    raw["coas"] = [{"id": "A", "name": "Landing zone only", "elements": [lz]}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _people_within(position: tuple[float, float], radius_m: float) -> float:
    core = gpd.GeoDataFrame(geometry=[_metres(*position).buffer(radius_m, quad_segs=64)], crs=UTM36N)
    found = exact_extract(str(ROOT / "data" / "sample" / "population_100m.tif"), core, "sum", output="pandas")
    return float(found["sum"].iloc[0])


def test_the_plans_constraints_set_candidates_aside_and_say_why(tmp_path: Path) -> None:
    objective = "36NWM6870086000"  # the planned position itself: candidates may move 300 m from it
    plan = _plan_with(tmp_path, {"objective": objective, "max_from_objective_m": 300, "open_ground": True})
    found = sweep(plan, "A", "lz-1", within_m=500, step_m=250)
    for candidate in found.candidates:
        far = candidate.moved_m > 300
        assert ("too_far_from_objective" in candidate.refused) == far
        if far:
            assert candidate.risk is None  # not assessed: the cheap constraint comes first
            continue
        assert candidate.risk is not None and candidate.score == candidate.risk["score"]
        # Open ground against exactextract's count of the raster's people in the 50 m core round the position
        people = _people_within(candidate.position, 50)
        if abs(people - 1.0) > 0.05:  # clear of the 1-person threshold, where rounding could go either way
            assert ("people_in_core" in candidate.refused) == (people >= 1.0), (candidate.offset_m, people)
    # open ground: the town's cells hold people, so candidates in town fail; every kept one is empty ground
    kept = found.kept
    assert all(not c.refused for c in kept)
    assert found.refused.get("people_in_core", 0) + found.refused.get("site_in_core", 0) > 0
    assert found.to_dict()["refused"]["too_far_from_objective"]["count"] == sum(
        c.moved_m > 300 for c in found.candidates
    )


def test_a_constraint_missing_its_pair_is_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"constraints.*objective and max_from_objective_m together"):
        load_plan(_plan_with(tmp_path, {"objective": "36NWM6870086000"}))


def test_the_command_line_sweeps_and_assess_raises_p16_from_its_result(tmp_path: Path, lz1: Sweep) -> None:
    out = tmp_path / "sweep.json"
    code, text, err = cli(
        "sweep",
        str(SAMPLE),
        "--coa",
        "A",
        "--element",
        "lz-1",
        "--within",
        "500",
        "--step",
        "250",
        "--workers",
        "0",
        "--json",
        str(out),
    )
    assert code == 0, err
    result = json.loads(out.read_text(encoding="utf-8"))
    best = result["candidates"][0]
    assert best["position"] == [round(v, 6) for v in lz1.kept[0].position]
    assert set(best) >= {"position", "risk", "improvement", "moved_m", "mgrs"}
    assert best["risk"]["score"] == lz1.kept[0].score
    assert "Best positions" in text and "P16" in text and "lz-1 moved" in text
    # the assessment names the better position in P16, in English and French
    code, text, err = cli("assess", str(SAMPLE), "--sweep", str(out), "--json", "-")
    assert code == 0, err
    p16 = next(i for i in json.loads(text)["coas"][0]["checklist"]["items"] if i["id"] == "P16")
    assert any(f"lz-1 moved {round(best['moved_m'])} m" in e["text"] for e in p16["evidence"])
    plan, layerset = open_plan(SAMPLE)
    better = load_better(out, plan)
    assert better is not None
    french = run_assessment(plan, layerset, better=[better]).to_dict("fr")
    p16 = next(i for i in french["coas"][0]["checklist"]["items"] if i["id"] == "P16")
    assert any("lz-1 déplacé de" in e["text"] for e in p16["evidence"])
    # COA B is not the one swept: its P16 says nothing of lz-1
    b = next(c for c in french["coas"] if c["id"] == "B")
    assert not any("lz-1" in e["text"] for i in b["checklist"]["items"] for e in i["evidence"])


def test_a_sweep_of_another_version_of_the_plan_or_a_wrong_file_is_refused(tmp_path: Path, lz1: Sweep) -> None:
    plan = load_plan(SAMPLE)
    stale = tmp_path / "stale.json"
    data = lz1.to_dict()
    data["plan"]["sha256"] = "0" * 64
    stale.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"made for another version of sample\.yaml"):
        load_better(stale, plan)
    junk = tmp_path / "junk.json"
    junk.write_text("{}", encoding="utf-8")
    code, _, err = cli("assess", str(SAMPLE), "--sweep", str(junk))
    assert code == 2 and "junk.json" in err and "not a sweep's result" in err and "Traceback" not in err
    code, _, err = cli("assess", str(SAMPLE), "--sweep", str(junk), "--record", "--as", "pat")
    assert code == 2 and "--sweep" in err


def test_bad_sweep_requests_are_refused_in_words() -> None:
    code, _, err = cli("sweep", str(SAMPLE), "--coa", "Z", "--element", "lz-1", "--within", "500", "--workers", "0")
    assert code == 2 and "--coa Z" in err and "A, B, C" in err
    code, _, err = cli("sweep", str(SAMPLE), "--coa", "A", "--element", "lz-9", "--within", "500", "--workers", "0")
    assert code == 2 and "lz-9" in err and "cordon-1" in err
    code, _, err = cli(
        "sweep", str(SAMPLE), "--coa", "A", "--element", "lz-1", "--within", "30000", "--step", "10", "--workers", "0"
    )
    assert code == 2 and "at most" in err and "larger step" in err


# --- on Dask: a scheduler and two workers, each a process of its own on loopback --------------------------


def test_a_sweep_on_a_dask_scheduler_equals_the_sweep_in_this_process(dask_scheduler: str, tmp_path: Path) -> None:
    args = ["sweep", str(SAMPLE), "--coa", "A", "--element", "lz-1", "--within", "250", "--step", "250", "--top", "50"]
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    assert cli(*args, "--workers", "0", "--json", str(here))[0] == 0
    code, _, err = cli(*args, "--scheduler", dask_scheduler, "--json", str(there))
    assert code == 0, err
    assert json.loads(there.read_text(encoding="utf-8")) == json.loads(here.read_text(encoding="utf-8"))


def test_a_scheduler_that_does_not_answer_is_said_in_words() -> None:
    code, _, err = cli(
        "sweep", str(SAMPLE), "--coa", "A", "--element", "lz-1", "--within", "250", "--scheduler", "tcp://127.0.0.1:9"
    )
    assert code == 2 and "tcp://127.0.0.1:9" in err and "dask scheduler" in err and "Traceback" not in err
