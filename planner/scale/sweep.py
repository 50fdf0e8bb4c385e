"""Position sweeps: where else could this element go, and how much harm would it do there?

For one element of one COA, every candidate position on a grid within the search distance (a shift of the
whole geometry, for a cordon or a route) is assessed with the same estimate as the assessment
(``assess.coa_results`` on the COA with the element moved). The candidates the plan's constraints rule out
are set aside with the reason; the rest are ranked, least expected harm first, then the smallest move.
Candidates are cut into chunks that run in this process or on Dask's workers; each candidate is assessed
alone, so the result is the same whatever the number of workers.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS

from planner.catalogue import BASE_LANGUAGE
from planner.effects import Zone
from planner.errors import InputError
from planner.exposure import locate_sites, without_areas
from planner.geo import WGS84, to_mgrs, transformer
from planner.plan import COA, Element, Plan, load_plan
from planner.scale.cluster import Progress, run_chunks
from planner.settings import LimitsSettings, Settings

if TYPE_CHECKING:
    from distributed import Client

    from planner.assess import COAResult
    from planner.layers.manifest import LayerSet
    from planner.layers.model import VectorLayer

REFUSALS = {
    "too_far_from_objective": "farther from the objective than the plan allows",
    "inside_displacement_site": "a displacement site reaches into its core zone",
    "site_in_core": "a mapped site lies in its core zone (not open ground)",
    "people_in_core": "people live in its core zone (not open ground)",
    "population_unknown": "no population data for its core zone (open ground cannot be shown)",
}
MAX_CANDIDATES = 40_000  # a 3 km search at 30 m steps; beyond, a step or distance in the wrong unit


@dataclass(frozen=True)
class SweepJob:
    """What every chunk needs: plain values, so a worker process on another machine can load the rest."""

    plan_path: str
    plan_sha256: str
    settings: Settings
    coa: str
    element: str
    crs: str  # the planned footprint's working CRS: every offset is in its metres
    area: tuple[float, float, float, float]  # degrees: the layer data every candidate can ask for
    lang: str


@dataclass(frozen=True)
class Candidate:
    """One position of the element: its offset from the planned one, and what the estimate found there."""

    offset_m: tuple[float, float]  # east, north of the planned position
    position: tuple[float, float]  # lon, lat of the moved element (its centre, for a route or an area)
    refused: tuple[str, ...]  # the constraints it fails (keys of REFUSALS); empty: kept
    score: float | None = None
    harm_index: float | None = None
    risk: dict[str, Any] | None = None  # the same object as an assessment's ``risk``

    @property
    def moved_m(self) -> float:
        return math.hypot(*self.offset_m)

    @property
    def rank_key(self) -> tuple[float, float, float, float]:
        """Least expected harm first, to a hundredth of a casualty-equivalent (finer differences are the
        study area's edges moving with the candidate, not the element), then the shortest move."""
        return (round(self.harm_index or 0.0, 2), round(self.moved_m, 3), *self.offset_m)


@dataclass(frozen=True)
class BetterPosition:
    """The best candidate of a sweep, when it does less harm than the planned position (P16 names it)."""

    coa: str
    element: str
    position: tuple[float, float]
    moved_m: float
    bearing: int  # degrees from grid north
    score: float
    planned_score: float
    casualties: dict[str, float]  # the COA's, with the element there
    planned_casualties: dict[str, float]
    element_casualties: float  # the element's own mechanisms, central
    planned_element_casualties: float
    candidates: int
    within_m: float


@dataclass
class Sweep:
    plan: Plan
    coa: str
    element: str
    within_m: float
    step_m: float
    planned: Candidate
    candidates: list[Candidate]  # every one assessed or refused, in grid order

    @property
    def kept(self) -> list[Candidate]:
        """The candidates that meet every constraint, best first."""
        return sorted((c for c in self.candidates if not c.refused), key=lambda c: c.rank_key)

    @property
    def refused(self) -> dict[str, int]:
        return dict(sorted(Counter(r for c in self.candidates for r in c.refused).items()))

    @property
    def better(self) -> BetterPosition | None:
        kept = self.kept
        if not kept or self.planned.score is None or kept[0].rank_key[0] >= self.planned.rank_key[0]:
            return None
        best = kept[0]
        assert best.risk is not None and best.score is not None and self.planned.risk is not None  # kept: assessed
        return BetterPosition(
            self.coa,
            self.element,
            best.position,
            round(best.moved_m, 1),
            _bearing(*best.offset_m),
            best.score,
            self.planned.score,
            best.risk["casualties"],
            self.planned.risk["casualties"],
            _own_casualties(best.risk, self.element),
            _own_casualties(self.planned.risk, self.element),
            len(self.candidates),
            self.within_m,
        )

    def to_dict(self, top: int = 20) -> dict[str, Any]:
        planned = self.planned
        return {
            "plan": {"name": self.plan.name, "path": str(self.plan.path), "sha256": self.plan.sha256},
            "coa": self.coa,
            "element": self.element,
            "within_m": self.within_m,
            "step_m": self.step_m,
            "assessed": sum(1 for c in self.candidates if c.risk is not None),
            "considered": len(self.candidates),
            "refused": {key: {"count": n, "why": REFUSALS[key]} for key, n in self.refused.items()},
            "planned": _candidate_dict(planned, planned, self.element),
            "candidates": [_candidate_dict(c, planned, self.element) for c in self.kept[:top]],
            "better": dataclasses.asdict(b) if (b := self.better) else None,
        }


def _own_casualties(risk: dict[str, Any], element: str) -> float:
    return round(sum(m["casualties"]["central"] for m in risk["mechanisms"] if m["element"] == element), 4)


def _candidate_dict(candidate: Candidate, planned: Candidate, element: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "position": [round(candidate.position[0], 6), round(candidate.position[1], 6)],
        "mgrs": to_mgrs(*candidate.position),
        "offset_m": [round(v, 1) for v in candidate.offset_m],
        "moved_m": round(candidate.moved_m, 1),
        "refused": list(candidate.refused),
        "risk": candidate.risk,
        "element_casualties": None if candidate.risk is None else _own_casualties(candidate.risk, element),
    }
    if candidate.score is not None and planned.score is not None and candidate.risk and planned.risk:
        found["improvement"] = {
            "score": round(planned.score - candidate.score, 2),
            "casualties_central": round(
                planned.risk["casualties"]["central"] - candidate.risk["casualties"]["central"], 4
            ),
        }
    return found


def _bearing(east: float, north: float) -> int:
    """Degrees from grid north, clockwise, as a planner reads a bearing."""
    return round(math.degrees(math.atan2(east, north))) % 360


def offsets(within_m: float, step_m: float) -> list[tuple[float, float]]:
    """Every grid offset (east, north) within ``within_m`` of the planned position, the planned one first."""
    n = int(within_m // step_m)
    steps = np.arange(-n, n + 1) * step_m
    east, north = np.meshgrid(steps, steps[::-1])
    inside = np.hypot(east, north) <= within_m + 1e-9
    found = [(float(e), float(n_)) for e, n_ in zip(east[inside], north[inside], strict=True)]
    found.remove((0.0, 0.0))
    return [(0.0, 0.0), *found]


def sweep(
    plan_path: str | Path,
    coa_id: str,
    element_id: str,
    *,
    within_m: float,
    step_m: float = 100.0,
    settings: Settings | None = None,
    lang: str = BASE_LANGUAGE,
    client: Client | None = None,
    progress: Progress | None = None,
    chunk_size: int | None = None,
) -> Sweep:
    """Assess ``element_id`` of COA ``coa_id`` at every position within ``within_m`` (grid of ``step_m``)."""
    from planner.assess import plan_crs, reading_area  # noqa: PLC0415 (the assessment imports the checklist)

    settings = settings or Settings()
    plan = load_plan(plan_path, limits=settings.limits)
    coa, element = _element(plan, coa_id, element_id)
    if within_m <= 0 or step_m <= 0:
        raise InputError.single("--within/--step", "", "both must be more than 0 m", "give them in metres")
    about = math.pi * (within_m / step_m) ** 2  # the grid's size, known before it is built
    if about > MAX_CANDIDATES:
        raise InputError.single(
            "--step",
            f"{step_m:g}",
            f"about {about:,.0f} candidates within {within_m:g} m: at most {MAX_CANDIDATES:,} are assessed in one "
            "sweep",
            "take a larger step or a shorter distance (both in metres)",
        )
    grid = offsets(within_m, step_m)
    job = SweepJob(
        str(plan.path),
        plan.sha256,
        settings,
        coa.id,
        element.id,
        plan_crs(plan).to_string(),
        reading_area(plan, settings, reach_m=within_m),
        lang,
    )
    size = chunk_size or max(1, min(50, math.ceil(len(grid) / 64)))
    chunks = [grid[i : i + size] for i in range(0, len(grid), size)]
    found = [c for chunk in run_chunks(assess_chunk, chunks, client=client, progress=progress, job=job) for c in chunk]
    return Sweep(plan, coa.id, element.id, within_m, step_m, found[0], found)


def _element(plan: Plan, coa_id: str, element_id: str) -> tuple[COA, Element]:
    coas = {coa.id: coa for coa in plan.coas}
    if coa_id not in coas:
        raise InputError.single(
            plan.path, f"--coa {coa_id}", "no COA of the plan has this id", f"use one of: {', '.join(coas)}"
        )
    elements = {e.id: e for e in coas[coa_id].elements}
    if element_id not in elements:
        raise InputError.single(
            plan.path,
            f"--element {element_id}",
            f"COA {coa_id} has no element with this id",
            f"use one of: {', '.join(elements)}",
        )
    return coas[coa_id], elements[element_id]


@lru_cache(maxsize=2)
def _opened(plan_path: str, plan_sha256: str, limits: LimitsSettings, area: tuple[float, ...]) -> tuple[Plan, LayerSet]:
    """The plan and its layers, read once per worker process for every chunk of a sweep."""
    from planner.layers.manifest import load_layerset  # noqa: PLC0415
    from planner.layers.model import BeyondArea  # noqa: PLC0415

    plan = load_plan(plan_path, limits=limits)
    if plan.sha256 != plan_sha256:
        raise InputError.single(
            plan_path,
            "",
            "the plan file changed during the sweep, or a worker sees another file at this path",
            "run the sweep again; workers on other machines must see the same files at the same paths",
        )
    # A candidate is assessed without its checklist: no report beyond the area is asked for
    layerset = load_layerset(plan.layers_path, limits=limits, area=area, beyond=BeyondArea())  # type: ignore[arg-type]
    return plan, layerset


def assess_chunk(chunk: list[tuple[float, float]], *, job: SweepJob) -> list[Candidate]:
    """Assess the candidates of one chunk (runs on a worker)."""
    from planner.assess import coa_results, risk_dict  # noqa: PLC0415
    from planner.effects import load_effects_table  # noqa: PLC0415

    plan, layerset = _opened(job.plan_path, job.plan_sha256, job.settings.limits, job.area)
    effects = load_effects_table(plan.effects_table)
    coa, element = _element(plan, job.coa, job.element)
    working = CRS.from_user_input(job.crs)
    to_metres, to_degrees = transformer(WGS84, working), transformer(working, WGS84)
    planned = shapely.transform(element.geometry, to_metres.transform, interleaved=False)
    constraints = element.constraints
    objective, limit = None, constraints.max_from_objective_m
    if constraints.objective is not None and limit is not None:
        objective = shapely.Point(to_metres.transform(*constraints.objective))
    found = []
    for east, north in chunk:
        moved = shapely.affinity.translate(planned, east, north)
        centre = moved if moved.geom_type == "Point" else moved.centroid
        position = tuple(float(v) for v in to_degrees.transform(centre.x, centre.y))
        if objective is not None and limit is not None and moved.distance(objective) > limit:
            found.append(Candidate((east, north), position, ("too_far_from_objective",)))  # type: ignore[arg-type]
            continue
        geometry = shapely.transform(moved, to_degrees.transform, interleaved=False)
        one = dataclasses.replace(element, geometry=geometry)
        moved_coa = dataclasses.replace(coa, elements=tuple(one if e.id == element.id else e for e in coa.elements))
        crs, results, _, _ = coa_results(dataclasses.replace(plan, coas=(moved_coa,)), layerset, job.settings, effects)
        result = results[0]
        found.append(
            Candidate(
                (east, north),
                position,  # type: ignore[arg-type]
                _refusals(result, element, layerset, crs),
                result.risk.score,
                result.risk.harm.index.central,
                risk_dict(result.risk, job.lang),
            )
        )
    return found


def _refusals(result: COAResult, element: Element, layerset: LayerSet, crs: CRS) -> tuple[str, ...]:
    """The constraints of ``element`` that the assessed candidate ``result`` fails."""
    constraints = element.constraints
    zone = next(zone for zone in result.zones if zone.element == element.id)
    refused = []
    if constraints.outside_displacement and _in_core(zone, layerset.of_kind("displacement"), crs):
        refused.append("inside_displacement_site")
    if constraints.open_ground:
        if _in_core(zone, layerset.of_kind("sites"), crs):
            refused.append("site_in_core")
        people = result.exposure.by_element[element.id]["core"].people
        if people is None:
            refused.append("population_unknown")
        elif people >= 1.0:
            refused.append("people_in_core")
    return tuple(refused)


def _in_core(zone: Zone, layers: list[VectorLayer], crs: CRS) -> bool:
    """Whether a site of ``layers`` lies in the zone's core, found as the exposure finds it (figures for a
    whole admin area are no site)."""
    return any(without_areas(layer, locate_sites(layer.projected(crs), [zone])).in_core.any() for layer in layers)


def load_better(path: Path, plan: Plan) -> BetterPosition | None:
    """The better position a sweep's JSON (``primum sweep --json``) found for ``plan``, to raise P16 with."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        made_for, found = data["plan"]["sha256"], data["better"]
        better = None if found is None else BetterPosition(**found)
        if better is not None:
            better = dataclasses.replace(better, position=tuple(better.position), casualties=dict(better.casualties))  # type: ignore[arg-type]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError.single(
            path, "", f"not a sweep's result ({type(exc).__name__}: {exc})", "give the file `primum sweep --json` wrote"
        ) from None
    if made_for != plan.sha256:
        raise InputError.single(
            path,
            "plan.sha256",
            f"this sweep was made for another version of {plan.path.name}",
            "run `primum sweep` again on the plan as it is now",
        )
    if better is not None:
        _element(plan, better.coa, better.element)
    return better
