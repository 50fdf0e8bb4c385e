"""Access in whole assessments: a cordon that cuts a village off, seasons, CASEVAC, real Juba roads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from affine import Affine
from conftest import require_realdata
from pyproj import Transformer
from world import ORIGIN, lonlat, make_world

from planner.access import _places
from planner.assess import assess, plan_crs
from planner.network import build_graph
from planner.outputs import bundle
from planner.plan import open_plan
from planner.redaction import Redaction
from planner.risk import reasons_text
from planner.settings import AccessSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32636", always_xy=True)

# The hand-made world is 1 km square with 10 people in each 100 m pixel; the cordon covers x 300-600 m,
# y 400-700 m. One main road crosses it west to east; the only clinic is at the east end.
MAIN = ("main", "primary", "All Season", [(50, 550), (950, 550)])
BYPASS = ("bypass", "track", "Dry Season Only", [(50, 550), (50, 100), (950, 100), (950, 550)])
CLINIC = [("clinic", "East clinic", 900, 560)]


def run(tmp_path: Path, roads: list, **plan_extra: object):
    plan, layers = open_plan(make_world(tmp_path, sites=CLINIC, roads=roads, plan_extra=plan_extra))
    return assess(plan, layers, Settings(surface={"margin_m": 300}))  # the study area holds the whole world


def test_a_cordon_on_the_only_road_cuts_the_west_of_the_village_off_from_its_clinic(tmp_path: Path) -> None:
    result = run(tmp_path, [MAIN]).coas[0]
    found = result.access
    assert [(c.road_id, c.element) for c in found.closures] == [("main", "cordon-1")]
    # Every cell joins the main road at its own x. West of the cordon (centres x 50-250 m) a cell can only
    # drive west, away from the clinic; beside the road inside the cordon (x 350-550 m) it cannot drive at all;
    # east of it (x 650 m on) nothing changes. 30 cells of 10 people in each of the two groups.
    communities = sorted((c for c in found.cut_off if c.kind == "community"), key=lambda c: c.x)
    assert [(c.people, c.lost, c.closed_roads) for c in communities] == [(300, ("health",), ("main",))] * 2
    west, inside = (c.x - ORIGIN[0] for c in communities)  # the most populated cell of each group
    assert west < 300 < inside < 600
    assert found.health is not None
    assert found.health.people_newly_beyond == pytest.approx(600)  # cut off counts as beyond reach, not zero
    # The harm estimate carries them as people losing care, caused by the cordon that closes the road.
    [restriction] = [f for f in result.risk.harm.mechanisms if f.mechanism == "movement_restriction"]
    assert restriction.element == "cordon-1"
    assert restriction.harms["people_losing_care"].central == pytest.approx(600)
    assert "600 people losing health care" in result.risk.contributions["movement_restriction"].explanation


def test_a_closure_is_the_closed_piece_of_road_not_the_whole_road(tmp_path: Path) -> None:
    """A side road meets the main road at x 800 m, east of the cordon: the cordon closes the main road's piece
    from 50 to 800 m, and the map and the exports draw that piece, not the road on to 950 m."""
    main = ("main", "primary", "All Season", [(50, 550), (800, 550), (950, 550)])
    side = ("side", "track", "All Season", [(800, 550), (800, 950)])
    assessment = run(tmp_path, [main, side])
    [closure] = assessment.coas[0].access.closures
    assert (closure.road_id, closure.length_m) == ("main", pytest.approx(750))
    assert closure.geometry is not None
    x, y = TO_UTM.transform(*np.array(closure.geometry.coords).T)
    assert x - ORIGIN[0] == pytest.approx([50, 800], abs=0.01)
    assert y - (ORIGIN[1] - 1000) == pytest.approx([550, 550], abs=0.01)
    [drawn] = bundle(assessment, Redaction()).layers["closures"].geometry  # on the map and in every export
    assert drawn.equals_exact(closure.geometry, 1e-9)


def test_the_camp_reaches_the_clinic_in_a_walk_and_a_drive_unchanged_by_the_cordon(tmp_path: Path) -> None:
    found = run(tmp_path, [MAIN]).coas[0].access
    assert found.health is not None
    assert found.health.people_beyond_before == 0
    # The camp's point (x 650 m) lies on the main road east of the cordon: it drives along the road to the
    # clinic's point of it (x 900 m) at 60 km/h, and walks the 10 m from the road to the clinic.
    [camp] = found.health.sites
    walk = 4 / 3.6  # m/s
    expected = ((camp.snap_m + 10) / walk + 250 / (60 / 3.6)) / 60
    assert camp.snap_m == pytest.approx(0, abs=0.5)
    assert camp.before_min == pytest.approx(expected, abs=0.05)
    assert camp.during_min == camp.before_min


def test_a_dry_season_bypass_keeps_the_village_connected_until_the_rains(tmp_path: Path) -> None:
    (tmp_path / "dry").mkdir()
    (tmp_path / "rainy").mkdir()
    dry = run(tmp_path / "dry", [MAIN, BYPASS]).coas[0].access
    rainy = run(tmp_path / "rainy", [MAIN, BYPASS], season="rainy").coas[0].access
    # In the dry season the west of the village drives round by the bypass, and the people beside the shut
    # road outside the cordon walk on to the bypass; only the 9 cells inside the cordon are held there.
    [held] = [c for c in dry.cut_off if c.kind == "community"]
    assert (held.people, held.closed_roads) == (90, ("main",))
    assert 300 < held.x - ORIGIN[0] < 600 and 400 < held.y - (ORIGIN[1] - 1000) < 700
    assert dry.health is not None and dry.health.people_worse == pytest.approx(510)  # the detours are slower
    # In the rains the bypass is closed: the west of the village and everyone by the shut road are cut off
    assert [c.people for c in rainy.cut_off if c.kind == "community"] == [pytest.approx(300)] * 2


def test_no_roads_layer_is_flagged_as_unknown_access_not_as_fine(tmp_path: Path) -> None:
    result = assess(*open_plan(make_world(tmp_path)))
    found = result.coas[0].access
    assert found.health is None
    assert [f.code for f in found.flags] == ["no_data"]
    reasons = reasons_text(result.coas[0].risk.harm.widened_by)
    assert any("access on the road network is unknown" in reason for reason in reasons)


def test_casevac_from_the_cordon_uses_the_forces_own_closed_road(tmp_path: Path) -> None:
    result = run(tmp_path, [MAIN], un_medical=[{"name": "UN clinic", "position": [31.5, 5.4]}]).coas[0]
    [civilian] = [c for c in result.access.casevac if c.patients == "civilian"]
    assert civilian.facility is None  # the world has no hospital, only a clinic: said, not invented
    assert "no functioning hospital" in civilian.reason
    [un] = [c for c in result.access.casevac if c.patients == "UN"]
    assert (
        un.time_min is None and "from any passable road of the network" in un.reason
    )  # the UN clinic given is far off the network


def test_casevac_drives_along_the_road_the_element_and_the_hospital_stand_by(tmp_path: Path) -> None:
    """The cordon's point (x 450 m) lies on the main road, the hospital 10 m off it at x 900 m: CASEVAC drives
    the 450 m between them at 60 km/h and walks the 10 m, 36 s in all; it does not walk 400 m to the road's
    west end and drive back past the cordon (7.7 min)."""
    hospital = [("hospital", "East hospital", 900, 560)]
    plan, layers = open_plan(make_world(tmp_path, sites=hospital, roads=[MAIN]))
    result = assess(plan, layers, Settings(surface={"margin_m": 300}))
    [civilian] = [c for c in result.coas[0].access.casevac if c.patients == "civilian"]
    assert civilian.facility == "East hospital"
    assert civilian.time_min == pytest.approx((450 / (60 / 3.6) + 10 / (4 / 3.6)) / 60, abs=0.05)
    assert civilian.geometry is not None
    x, y = TO_UTM.transform(*np.array(civilian.geometry.coords).T)
    assert sorted(x - ORIGIN[0]) == pytest.approx([450, 900], abs=1)
    assert y - (ORIGIN[1] - 1000) == pytest.approx([550, 550], abs=1)


def test_route_alternatives_start_and_end_where_the_route_meets_the_road(tmp_path: Path) -> None:
    """A convoy from x 300 to 700 m along the main road, whose junctions are at its ends (x 50 and 950 m):
    the first way is the 400 m between the convoy's own ends, not the whole road between its junctions; the
    next goes round by the dry-season bypass, 250 m back along the main road at each end."""
    line = {"type": "LineString", "coordinates": [lonlat(300, 550), lonlat(700, 550)]}
    convoy = {"id": "convoy-1", "activity": "convoy", "geometry": line}
    plan, layers = open_plan(make_world(tmp_path, sites=CLINIC, roads=[MAIN, BYPASS], elements=[convoy]))
    [route] = assess(plan, layers, Settings(surface={"margin_m": 300})).coas[0].access.routes
    direct, bypass = route.alternatives
    assert (direct.length_km, direct.roads) == (pytest.approx(0.4, abs=0.01), ("main",))
    assert direct.time_min == pytest.approx(400 / (60 / 3.6) / 60, abs=0.05)
    assert (bypass.length_km, bypass.roads) == (pytest.approx(2.3, abs=0.01), ("main", "bypass"))
    x, _ = TO_UTM.transform(*np.array(direct.geometry.coords).T)
    assert sorted(x - ORIGIN[0]) == pytest.approx([300, 700], abs=1)


def test_sample_plan_access_differs_by_coa() -> None:
    result = assess(*open_plan(ROOT / "scenarios" / "sample.yaml"))
    by_id = {r.coa.id: r.access for r in result.coas}
    assert by_id["C"].closures == []  # the Nyal track cordon closes no mapped road
    assert [c.road_id for c in by_id["B"].closures] == ["main-west"]
    # The cordon shuts the main road at the west edge of town: the people along the road west of it can only
    # drive west, to its dead end, and the people beside the road inside the cordon nowhere
    west, held = sorted((c for c in by_id["B"].cut_off if c.kind == "community"), key=lambda c: c.x)
    for community in (west, held):
        assert community.lost == ("health", "market", "water")
        assert community.closed_roads == ("main-west",)
    # Named as field staff say a place, for the command line and the JSON: no grid figures
    assert west.name == "449 populated cell(s) 1.7 km W of Kalo town (36N WM 6285 8515)"
    assert held.name == "54 populated cell(s) 1.1 km W of Kalo town (36N WM 6345 8525)"
    [route] = by_id["B"].routes
    assert [m["name"] for m in route.markets] == ["Kalo Market"]
    assert route.markets[0]["open_during"] is True  # Thursday market, operation on a Thursday morning
    assert route.alternatives, "the network offers at least the direct route"
    assert all(c.time_min is not None for c in by_id["A"].casevac)


@pytest.mark.realdata
def test_juba_roads_reach_every_facility_and_the_un_house_sites_find_a_hospital() -> None:
    require_realdata()
    plan, layers = open_plan(ROOT / "tests" / "scenarios" / "juba_poc.yaml")
    # The Logistics Cluster roads of 2016 hold the main roads only: walking legs up to 5 km are accepted.
    settings = Settings(access=AccessSettings(max_snap_m=5_000))
    result = assess(plan, layers, settings)
    crs = plan_crs(plan)
    graph = build_graph(layers.layers["roads"], crs, result.surface.bounds, settings.access, "dry")
    assert len(graph) > 1_000
    area = shapely.box(*result.surface.bounds)
    for layer_id in ("health", "hospitals_osm"):
        index = layers.layers[layer_id].projected(crs)
        inside = shapely.point_on_surface(index.geometries[shapely.intersects(index.geometries, area)])
        # Joined at the nearest point of a road, not its nearest junction (up to 2.4 km off in these roads)
        distance = graph.land(shapely.get_x(inside), shapely.get_y(inside), None).walk_m
        assert distance.max() < 1_000, f"{layer_id}: a facility {distance.max():.0f} m from the roads"
    lz = result.coas[0].access
    assert lz.health is not None
    reach = {s.name: s for s in lz.health.sites}
    for name in ("Juba UN House PoC1", "Juba UN House PoC2", "Juba UN House PoC3"):
        assert reach[name].before_min is not None and reach[name].before_min < 90
    casevac = {c.patients: c for c in lz.casevac}
    assert casevac["civilian"].facility is not None and casevac["civilian"].time_min is not None
    # The UN hospital in Tomping, 9 km away as the crow flies, is reached by road: these roads draw many
    # T-junctions without a shared vertex and roads as several lines, which used to leave it in another part
    # of the network. Some small parts remain, and are flagged.
    assert casevac["UN"].facility == "UNMISS Level 2 Hospital"
    assert casevac["UN"].time_min is not None and 15 < casevac["UN"].time_min < 60
    assert "disconnected_roads" in {f.code for f in lz.flags}


def test_roads_that_all_lie_far_from_the_footprint_give_a_finding_not_a_crash(tmp_path: Path) -> None:
    far_road = ("far", "primary", "All Season", [(30_000, 500), (31_000, 500)])  # 30 km east
    found = run(tmp_path, [far_road]).coas[0].access
    assert found.network_edges == 0
    assert found.health is None
    assert [f.code for f in found.flags] == ["no_roads"]


def test_what_a_road_graph_keeps_between_assessments_changes_no_figure() -> None:
    """The junction of each cell and the cells under each road piece are kept with the road graph for the
    next assessment of the same area: another grid, and the first grid again, find what they find when
    nothing was kept."""
    plan, layers = open_plan(ROOT / "scenarios" / "sample.yaml")
    coarse = Settings(surface={"cell_m": 200})

    def figures(settings: Settings) -> list[dict]:
        return [coa["access"] for coa in assess(plan, layers, settings).to_dict()["coas"]]

    first, first_coarse = figures(Settings()), figures(coarse)
    assert figures(Settings()) == first and figures(coarse) == first_coarse
    for graph in _graphs(layers):
        graph._kept.clear()
    assert figures(coarse) == first_coarse and figures(Settings()) == first


def test_a_road_graph_keeps_where_each_cell_joins_it_per_grid(tmp_path: Path) -> None:
    """A graph asked first about a coarser grid over the same area still joins each cell of the finer grid to
    the road nearest its own centre."""
    plan, layers = open_plan(make_world(tmp_path, sites=CLINIC, roads=[MAIN, BYPASS]))
    settings = Settings(surface={"margin_m": 300})
    found = assess(plan, layers, settings)
    fine = found.surface
    [roads] = layers.of_kind("roads")
    graph = build_graph(roads, found.crs, fine.bounds, settings.access, plan.season)
    rows, cols = fine.shape
    coarse = replace(
        fine,
        transform=fine.transform @ Affine.scale(2),
        shape=(rows // 2, cols // 2),
        cell_m=2 * fine.cell_m,
        people=fine.people[: rows // 2 * 2 : 2, : cols // 2 * 2 : 2] * 4,
        derived={},
    )
    _places(coarse, layers, found.crs, graph, settings.access)
    places = _places(replace(fine, derived={}), layers, found.crs, graph, settings.access)
    nearest = graph.land(places.cell_x, places.cell_y, settings.access.max_snap_m)
    assert places.cell_landing.edge.tolist() == nearest.edge.tolist()
    assert places.cell_landing.walk_m.tolist() == nearest.walk_m.tolist()


def _graphs(layers):
    [roads] = layers.of_kind("roads")
    return [v for k, v in roads.derived.items() if isinstance(k, tuple) and k[0] == "road_graph"]
