"""Operation plans: COAs and elements, positions in every notation, and every mistake named by its key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from planner.errors import InputError
from planner.plan import load_plan, open_plan
from planner.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def write_plan(tmp_path: Path, coas: list[dict[str, object]], **top: object) -> Path:
    plan = {
        "name": "Test",
        "layers": str(ROOT / "layers/sample.yaml"),
        "window": {"start": "2026-12-03T05:00:00+03:00", "end": "2026-12-03T13:00:00+03:00"},
        **top,
        "coas": coas,
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def coa(*elements: dict[str, object]) -> dict[str, object]:
    return {"id": "A", "name": "A", "elements": list(elements)}


def test_sample_plan_reads_with_every_notation() -> None:
    plan, layerset = open_plan(ROOT / "scenarios/sample.yaml")
    assert [c.id for c in plan.coas] == ["A", "B", "C"]
    shapes = {e.id: e.shape_kind for _, e in plan.elements}
    assert shapes["cordon-1"] == "area" and shapes["convoy-1"] == "route" and shapes["lz-1"] == "point"
    mortar = next(e for _, e in plan.elements if e.id == "mortar-1")  # written in DMS
    assert mortar.geometry.x == pytest.approx(33.5839, abs=1e-4) and mortar.geometry.y == pytest.approx(
        6.2086, abs=1e-4
    )
    assert layerset.fictional and plan.fictional


def test_plan_hash_covers_geometry_files(tmp_path: Path) -> None:
    (tmp_path / "areas.geojson").write_text((ROOT / "scenarios/sample_areas.geojson").read_text())
    path = write_plan(
        tmp_path,
        [
            coa(
                {
                    "id": "c",
                    "activity": "cordon_search",
                    "geometry_file": "areas.geojson",
                    "feature": "cordon-west-edge",
                }
            )
        ],
    )
    before = load_plan(path).sha256
    (tmp_path / "areas.geojson").write_text(
        (ROOT / "scenarios/sample_areas.geojson").read_text().replace("west edge", "western edge")
    )
    assert load_plan(path).sha256 != before


@pytest.mark.parametrize(
    ("element", "where", "says"),
    [
        (
            {"id": "x", "activity": "airstrike_big", "position": [33.6, 6.2]},
            "coas.A.elements.x.activity",
            "unknown activity 'airstrike_big'",
        ),
        ({"id": "x", "activity": "patrol", "position": "36NWM123"}, "coas.A.elements.x.position", "even number"),
        ({"id": "x", "activity": "patrol", "position": "6.2, 33.6"}, "coas.A.elements.x.position", "hemisphere"),
        ({"id": "x", "activity": "patrol"}, "coas.0.elements.0", "exactly one of position, geometry or geometry_file"),
        (
            {"id": "x", "activity": "patrol", "position": [33.6, 6.2], "core_m": 200, "outer_m": 100},
            "coas.0.elements.0",
            "outer_m (100.0) must be at least core_m",
        ),
        (
            {"id": "x", "activity": "cordon_search", "geometry": {"type": "Polygon", "coordinates": [[[33.6, 6.2]]]}},
            "coas.A.elements.x.geometry",
            "not a GeoJSON geometry",
        ),
        (
            {"id": "x", "activity": "cordon_search", "geometry_file": "missing.geojson"},
            "coas.A.elements.x.geometry_file",
            "file not found",
        ),
    ],
)
def test_element_mistakes_are_named(tmp_path: Path, element: dict[str, object], where: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        load_plan(write_plan(tmp_path, [coa(element)]))
    assert caught.value.problems[0].where == where
    assert says in caught.value.problems[0].message


def test_all_mistakes_of_a_plan_come_together(tmp_path: Path) -> None:
    path = write_plan(
        tmp_path,
        [
            coa(
                {"id": "x", "activity": "nope", "position": [33.6, 6.2]},
                {"id": "x", "activity": "patrol", "position": "36NWM1"},
            )
        ],
    )
    with pytest.raises(InputError) as caught:
        load_plan(path)
    assert len(caught.value.problems) == 3  # unknown activity, duplicate id, malformed MGRS


def test_window_needs_an_offset_and_an_order(tmp_path: Path) -> None:
    element = {"id": "x", "activity": "patrol", "position": [33.6, 6.2]}
    naive = write_plan(tmp_path, [coa(element)], window={"start": "2026-12-03T05:00:00", "end": "2026-12-03T13:00:00"})
    with pytest.raises(InputError, match=r"window.start: .*needs a UTC offset"):
        load_plan(naive)
    backwards = write_plan(
        tmp_path, [coa(element)], window={"start": "2026-12-03T13:00:00+03:00", "end": "2026-12-03T05:00:00+03:00"}
    )
    with pytest.raises(InputError, match="must end after it starts"):
        load_plan(backwards)


def test_element_outside_every_layer_is_refused(tmp_path: Path) -> None:
    # A valid MGRS reference copied from another area (Juba) lies 2° away from the sample area.
    path = write_plan(tmp_path, [coa({"id": "lz-far", "activity": "helicopter_lz", "position": "36NUL4253536248"})])
    with pytest.raises(InputError, match=r"coas.A.elements.lz-far: lies outside every layer of 'Kalo"):
        open_plan(path)


def test_a_missions_own_effects_table(tmp_path: Path) -> None:
    table = {
        "name": "Mission table",
        "activities": {
            "drone_strike": {
                "label": "Drone",
                "core_m": 30,
                "outer_m": 90,
                "basis": "mission SOP",
                "explosive": True,
                "mechanisms": {
                    "blast": {
                        "casualty_area_m2": 900,
                        "cep_observed_m": 5,
                        "cep_unobserved_m": 15,
                        "rounds": 1,
                        "exposed_share": 0.5,
                        "basis": "mission SOP",
                    }
                },
            }
        },
    }
    (tmp_path / "effects.yaml").write_text(yaml.safe_dump(table))
    path = write_plan(
        tmp_path, [coa({"id": "d", "activity": "drone_strike", "position": [33.6, 6.2]})], effects_table="effects.yaml"
    )
    assert load_plan(path).effects_table == tmp_path / "effects.yaml"
    wrong = write_plan(
        tmp_path, [coa({"id": "d", "activity": "mortar_60mm", "position": [33.6, 6.2]})], effects_table="effects.yaml"
    )
    with pytest.raises(InputError, match=r"unknown activity 'mortar_60mm'.*effects table: .*effects.yaml"):
        load_plan(wrong)


def test_an_explosive_activity_without_what_its_rounds_do_is_refused(tmp_path: Path) -> None:
    table = {
        "name": "Old mission table",
        "activities": {
            "rockets": {"label": "Rockets", "core_m": 50, "outer_m": 300, "basis": "SOP", "explosive": True}
        },
    }
    (tmp_path / "effects.yaml").write_text(yaml.safe_dump(table))
    path = write_plan(
        tmp_path, [coa({"id": "r", "activity": "rockets", "position": [33.6, 6.2]})], effects_table="effects.yaml"
    )
    with pytest.raises(InputError, match=r"activities\.rockets.*explosive activity needs a `mechanisms: \{blast"):
        load_plan(path)


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            {"geometry": {"type": "Hexagon", "coordinates": [[[33.6, 6.2], [33.61, 6.2], [33.61, 6.21], [33.6, 6.2]]]}},
            r"elements\.x\.geometry: not a GeoJSON geometry \(Unknown geometry type: 'hexagon'\)",
        ),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[[33.6, 6.2], [33.61, 6.2], [33.61, 6.21]]]}},
            r"elements\.x\.geometry: a polygon ring does not end where it starts.*repeat the first",
        ),
        ({"position": [33.6, 6.2], "outer_m": 1e12}, r"elements\.x\.outer_m: 1e\+12 m is beyond the 50000 m"),
    ],
)
def test_geometry_and_radii_a_plan_cannot_use_are_refused_naming_the_key(
    tmp_path: Path, element: dict[str, object], expected: str
) -> None:
    path = write_plan(tmp_path, [coa({"id": "x", "activity": "cordon_search", **element})])
    with pytest.raises(InputError, match=expected):
        load_plan(path)


def test_a_plan_of_more_elements_than_are_assessed_at_once_is_refused(tmp_path: Path) -> None:
    elements = [{"id": f"e{i}", "activity": "patrol", "position": [33.6, 6.2]} for i in range(501)]
    path = write_plan(tmp_path, [coa(*elements)])
    with pytest.raises(InputError, match="501 elements in all: at most 500"):
        load_plan(path)
    # A mission with larger machines raises the limit in its settings.
    (tmp_path / "mission.toml").write_text("[limits]\nmax_elements = 600\n")
    assert len(load_plan(path, limits=load_settings(tmp_path / "mission.toml").limits).coas[0].elements) == 501


def test_inputs_are_kept_as_resolved_paths_whatever_folder_a_command_runs_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    plan, layerset = open_plan("scenarios/sample.yaml")
    assert plan.path == ROOT / "scenarios/sample.yaml" and plan.path.is_absolute()
    assert layerset.path == ROOT / "layers/sample.yaml"
    assert all(f.is_absolute() for f in plan.files)
    (tmp_path / "mission.toml").write_text("[risk]\nscale = 3.0\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings("mission.toml").source == str(tmp_path / "mission.toml")
