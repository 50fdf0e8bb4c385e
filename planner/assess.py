"""The assessment pipeline, top to bottom: effects zones, exposure, threat context, risk surface, access on the
road network, risk per COA.

``assess(plan, layerset)`` is the one entry point the command line, the dashboard and the reports call.
Every step is a public function of its own module and can be run alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import Transformer

from planner import __version__
from planner.access import Access, RouteOption, access
from planner.catalogue import BASE_LANGUAGE, Catalogue, load_catalogue
from planner.checklist import Checklist, Situation, evaluate, render, share
from planner.effects import EffectsTable, Zone, element_zone, load_effects_table
from planner.exposure import Exposure, ZoneFigures, exposure
from planner.geo import WGS84, working_crs
from planner.harm import HarmEstimate, Range, estimate_harm, people_present
from planner.layers._table import Area
from planner.layers.manifest import LayerSet
from planner.layers.model import Flag
from planner.past_harm import HarmHistory
from planner.places import Gazetteer
from planner.plan import COA, Plan
from planner.risk import Comparison, Risk, compare, comparison_text, explain, reasons_text, risk
from planner.settings import Settings
from planner.surface import RiskSurface, coa_window, risk_surface
from planner.threat import ThreatContext, threat_context

if TYPE_CHECKING:
    from planner.scale.sweep import BetterPosition


@dataclass
class COAResult:
    coa: COA
    zones: list[Zone]
    exposure: Exposure
    threats: ThreatContext
    access: Access
    risk: Risk
    checklist: Checklist = field(default_factory=lambda: Checklist([], []))


@dataclass
class Assessment:
    """Everything one assessment found, with what it was computed from."""

    plan: Plan
    layerset: LayerSet
    settings: Settings
    effects: EffectsTable
    crs: str
    coas: list[COAResult]
    comparison: Comparison
    surface: RiskSurface
    catalogue: Catalogue
    warnings: list[Flag] = field(default_factory=list)
    history: HarmHistory = field(default_factory=HarmHistory)

    def to_dict(self, lang: str = BASE_LANGUAGE) -> dict[str, Any]:
        """The result as plain JSON data (exact figures; rounding is for display only), words in ``lang``."""
        return {
            "plan": {
                "name": self.plan.name,
                "sha256": self.plan.sha256,
                "path": str(self.plan.path),
                "fictional": self.plan.fictional or self.layerset.fictional,
                "window": {"start": self.plan.window.start.isoformat(), "end": self.plan.window.end.isoformat()},
                "partner_force": self.plan.partner_force,
            },
            "area": self.layerset.area,
            "working_crs": self.crs,
            "coas": [
                _coa_dict(result, self.effects, lang)
                | {"checklist": render(result.checklist, self.catalogue, lang, result.coa.id)}
                for result in self.coas
            ],
            "comparison": {
                "ranking": self.comparison.ranking,
                "too_close": [list(pair) for pair in self.comparison.too_close],
                "summary": comparison_text(
                    self.comparison.ranking,
                    self.comparison.too_close,
                    {r.coa.id: r.risk for r in self.coas},
                    self.settings.risk,
                    lang,
                ),
            },
            "surface": {
                "crs": self.crs,
                "cell_m": self.surface.cell_m,
                "shape": list(self.surface.shape),
                "bounds": list(self.surface.bounds),
            },
            "provenance": {
                "layers": [
                    {
                        "id": layer.id,
                        "kind": layer.kind,
                        "path": str(layer.path),
                        "sha256": layer.sha256,
                        "as_of": layer.as_of.isoformat() if layer.as_of else None,
                    }
                    | ({"read_within": list(area)} if (area := getattr(layer, "area", None)) else {})
                    for layer in self.layerset
                ],
                "layerset": str(self.layerset.path),
                "effects_table": self.effects.source,
                "settings": self.settings.source,
                "settings_sha256": self.settings.sha256,
                "catalogue": self.catalogue.source,
                "version": __version__,
                "past_harm": self.history.to_dict(),
            },
            "warnings": [_flag_dict(f) for f in self.warnings],
        }


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 3)


def _zone_dict(figures: ZoneFigures) -> dict[str, Any]:
    return {
        "people": _number(figures.people),
        "people_weighted": _number(figures.people_weighted),
        "coverage": round(figures.coverage, 4),
        "displaced": _number(figures.displaced),
        "displaced_weighted": _number(figures.displaced_weighted),
        "displaced_unknown_sites": figures.displaced_unknown_sites,
    }


def _text(value: Any) -> str | None:
    """A text field of a layer row; a blank cell (NaN in the frame) is None, never NaN in JSON."""
    return value if isinstance(value, str) else None


def _flag_dict(flag: Flag) -> dict[str, Any]:
    return {"code": flag.code, "layer": flag.layer, "message": flag.message}


def _range_dict(r: Range) -> dict[str, float]:
    return {"low": round(r.low, 4), "central": round(r.central, 4), "high": round(r.high, 4)}


def risk_dict(found: Risk, lang: str) -> dict[str, Any]:
    harm: HarmEstimate = found.harm
    total = harm.index.central
    return {
        "score": found.score,
        "level": found.level,
        "score_range": list(found.score_range),
        "casualties": _range_dict(harm.casualties),
        "harms": {key: _range_dict(r) for key, r in harm.harms.items()},
        "index": _range_dict(harm.index),
        "present": {"home_share": round(harm.home_share, 4), "window_hours": round(harm.window_hours, 2)},
        "widened_by": reasons_text(harm.widened_by, lang),
        "mechanisms": [
            {
                "element": f.element,
                "activity": f.activity,
                "mechanism": f.mechanism,
                "casualties": _range_dict(f.casualties),
                "harms": {key: _range_dict(r) for key, r in f.harms.items()},
                "people_reached": _range_dict(f.people_reached),
                "residents_reached": _range_dict(f.residents_reached),
                "value": _range_dict(f.value),
                "share_pct": round(100 * f.value.central / total, 2) if total > 0 else 0.0,
                "parameters": f.parameters,
                "basis": f.basis,
                "widened_by": reasons_text(f.widened_by, lang),
                "sites": [
                    {
                        "layer": s.layer,
                        "id": s.id,
                        "name": s.name,
                        "category": s.category,
                        "distance_m": round(s.distance_m, 1),
                        "people_present": _range_dict(s.people_present),
                        "casualties": _range_dict(s.casualties),
                        "struck": None if s.struck is None else round(s.struck, 4),
                        "shelters": None if s.shelters is None else _range_dict(s.shelters),
                        "losing_care": None if s.losing_care is None else _range_dict(s.losing_care),
                        "widened_by": reasons_text(s.widened_by, lang),
                    }
                    for s in f.sites
                ],
            }
            for f in harm.mechanisms
        ],
        "harm_by_others": {
            "threat_known": harm.threat_known,
            "value": _range_dict(harm.others_value),
            "elements": [
                {
                    "element": t.element,
                    "reports": t.reports,
                    "attacks_on_civilians": t.attacks_on_civilians,
                    "nearest_m": None if t.nearest_m is None else round(t.nearest_m, 1),
                    "latest": t.latest,
                    "weighted": round(t.weighted, 4),
                    "threat": _range_dict(t.threat),
                    "people_engaged": _range_dict(t.people_engaged),
                    "value": _range_dict(t.value),
                }
                for t in harm.by_others
            ],
        },
        "contributions": {
            k: {
                "share_pct": round(c.share_pct, 2),
                "value": round(c.value, 4),
                "explanation": c.explanation if lang == "en" else explain(k, harm, None, lang),
            }
            for k, c in found.contributions.items()
        },
    }


def _coa_dict(result: COAResult, effects: EffectsTable, lang: str) -> dict[str, Any]:
    ex, threats = result.exposure, result.threats
    elements = {element.id: element for element in result.coa.elements}
    recent = threats.most_recent
    return {
        "id": result.coa.id,
        "name": result.coa.name,
        "risk": risk_dict(result.risk, lang),
        "exposure": {zone: _zone_dict(figs) for zone, figs in ex.zones.items()}
        | {"flags": {figure: [_flag_dict(f) for f in flags] for figure, flags in ex.flags.items()}},
        "elements": [
            {
                "id": z.element,
                "activity": z.activity,
                "activity_label": effects[z.activity].label,
                "core_m": z.core_m,
                "outer_m": z.outer_m,
                "radii_from": z.radii_from,
                # Where it is (EPSG:4326, 6 decimals: 0.1 m) and its shape: the zone can be drawn again from
                # the record alone, to place the harm observed after the operation
                "shape": elements[z.element].shape_kind,
                "geometry": shapely.geometry.mapping(
                    shapely.transform(elements[z.element].geometry, lambda xy: np.round(xy, 6))
                ),
                "exposure": {zone: _zone_dict(figs) for zone, figs in ex.by_element[z.element].items()},
            }
            for z in result.zones
        ],
        "sites": [
            {
                "layer": h.layer,
                "id": h.id,
                "name": _text(h.name),
                "category": h.category,
                "subtype": _text(h.subtype),
                "zone": h.zone,
                "distance_m": round(h.distance_m, 1),
                "element": h.element,
                "intensity": round(h.intensity, 4),
                "functional": h.functional,
                "population": _number(h.population),
                "source_row": h.source_row,
            }
            for h in ex.sites
        ],
        "threats": {
            "distance_m": threats.distance_m,
            "window_days": threats.window_days,
            "count": len(threats.reports),
            "by_kind": threats.by_kind,
            "civilian_targeting": threats.civilian_targeting,
            "weighted_total": round(threats.weighted_total, 4),
            "most_recent": None
            if recent is None
            else {
                "event_id": recent.event_id,
                "date": recent.date,
                "kind": recent.kind,
                "distance_m": round(recent.distance_m, 1),
            },
            "reports": [
                {
                    "layer": r.layer,
                    "event_id": r.event_id,
                    "date": r.date,
                    "kind": r.kind,
                    "distance_m": round(r.distance_m, 1),
                    "weight": round(r.weight, 4),
                }
                for r in threats.reports
            ],
            "flags": [_flag_dict(f) for f in threats.flags],
        },
        "access": _access_dict(result.access),
    }


def _access_dict(found: Access) -> dict[str, Any]:
    health = found.health
    return {
        "season": found.season,
        "network_edges": found.network_edges,
        "closures": [
            {
                "road_id": c.road_id,
                "road_class": c.road_class,
                "element": c.element,
                "length_m": round(c.length_m, 1),
                "sole_link": c.sole_link,
                "bridge": c.bridge,
            }
            for c in found.closures
        ],
        "health": None
        if health is None
        else {
            "limit_min": health.limit_min,
            "facilities": health.facilities,
            "people_worse": _number(health.people_worse),
            "worse_by_min": round(health.worse_by_min, 1),
            "people_beyond_before": _number(health.people_beyond_before),
            "people_beyond_during": _number(health.people_beyond_during),
            "people_newly_beyond": _number(health.people_newly_beyond),
            "people_off_network": _number(health.people_off_network),
            "sites": [
                {
                    "layer": p.layer,
                    "id": p.id,
                    "name": p.name,
                    "people": _number(p.people),
                    "before_min": p.before_min,
                    "during_min": p.during_min,
                    "on_network": p.on_network,
                    "snap_m": None if p.snap_m is None else round(p.snap_m, 1),
                }
                for p in health.sites
            ],
        },
        "cut_off": [
            {
                "kind": c.kind,
                "name": c.name,
                "people": _number(c.people),
                "lost": list(c.lost),
                "closed_roads": list(c.closed_roads),
            }
            for c in found.cut_off
        ],
        "routes": [
            {
                "element": r.element,
                "people_along": _number(r.people_along),
                "sites": r.sites,
                "markets": r.markets,
                "window": r.window,
                "planned": _route_dict(r.planned),
                "alternatives": [_route_dict(a) for a in r.alternatives],
                "sole_links": list(r.sole_links),
                "earth_roads": list(r.earth_roads),
            }
            for r in found.routes
        ],
        "casevac": [
            {
                "element": c.element,
                "patients": c.patients,
                "facility": c.facility,
                "time_min": c.time_min,
                "reason": c.reason,
            }
            for c in found.casevac
        ],
        "flags": [_flag_dict(f) for f in found.flags],
    }


def _route_dict(option: RouteOption | None) -> dict[str, Any] | None:
    if option is None:
        return None
    return {
        "time_min": None if math.isnan(option.time_min) else option.time_min,
        "length_km": option.length_km,
        "people_along": _number(option.people_along),
        "roads": list(option.roads),
    }


def effects_zones(plan: Plan, effects: EffectsTable, crs: Any) -> dict[str, list[Zone]]:
    """Step 1: the core and outer zone of every element, per COA, in the working CRS."""
    return {coa.id: [element_zone(element, effects, crs) for element in coa.elements] for coa in plan.coas}


def reading_area(
    plan: Plan, settings: Settings | None = None, effects: EffectsTable | None = None, *, reach_m: float = 0.0
) -> Area:
    """The box (degrees) of layer data an assessment of ``plan`` can ask for: every outer zone, plus the risk
    surface's margin and a cell for its snapping, plus the margin the road network is built over (or the
    distance threat reports count within, if wider), plus a kilometre to spare. ``load_layerset(area=...)``
    reads roads and threat reports only there. ``reach_m`` widens it for a position sweep, whose candidates
    move an element that far."""
    settings = settings or Settings()
    effects = effects or load_effects_table(plan.effects_table)
    crs = plan_crs(plan)
    outer = [zone.outer for zones in effects_zones(plan, effects, crs).values() for zone in zones]
    network = settings.surface.margin_m + settings.surface.cell_m + settings.access.margin_m
    margin = max(network, settings.threat.distance_m) + 1_000.0 + reach_m
    west, south, east, north = shapely.union_all(outer).buffer(margin, quad_segs=2).envelope.bounds
    to_degrees = Transformer.from_crs(crs, WGS84, always_xy=True)
    west, south, east, north = to_degrees.transform_bounds(west, south, east, north, densify_pts=21)
    return float(west), float(south), float(east), float(north)


def plan_crs(plan: Plan) -> Any:
    """The working CRS: the UTM zone of the plan's footprint."""
    west, south, east, north = shapely.union_all([e.geometry for _, e in plan.elements]).bounds
    return working_crs((west, south, east, north))


def coa_results(
    plan: Plan, layerset: LayerSet, settings: Settings, effects: EffectsTable
) -> tuple[Any, list[COAResult], RiskSurface, Gazetteer]:
    """Every COA's zones, exposure, threat context, access and risk, without the checklist: the estimate
    itself, which a position sweep repeats per candidate exactly as the assessment makes it."""
    crs = plan_crs(plan)
    zones = effects_zones(plan, effects, crs)
    with ExitStack() as stack:
        raster = stack.enter_context(layerset.population.open()) if layerset.population else None
        exposures = {coa.id: exposure(zones[coa.id], layerset, crs, raster) for coa in plan.coas}
    threats = {
        coa.id: threat_context(zones[coa.id], layerset, plan.window.start, crs, settings.threat) for coa in plan.coas
    }
    all_reports = {(r.layer, r.event_id): r for context in threats.values() for r in context.reports}
    surface = risk_surface(zones, list(all_reports.values()), layerset, crs, settings)
    presence = people_present(surface, layerset, plan.window, crs, settings.harm)
    gazetteer = Gazetteer(layerset, crs)  # names places in words, built on the first one asked for
    results = []
    for coa in plan.coas:
        coa_access = access(
            plan,
            coa,
            zones[coa.id],
            layerset=layerset,
            crs=crs,
            surface=surface,
            hits=exposures[coa.id].sites,
            effects=effects,
            settings=settings.access,
            gazetteer=gazetteer,
        )
        # Each COA over its own study area of the surface: its cost follows its footprint, not the plan's
        lost = coa_access.health.lost_cells if coa_access.health is not None else None
        rows, cols = coa_window(surface, zones[coa.id], settings, also=lost)
        mine = presence.window(rows, cols)
        harm = estimate_harm(coa, zones[coa.id], mine, threats[coa.id], coa_access, effects, settings.harm)
        surface.score[coa.id] = np.zeros(surface.shape)
        surface.score[coa.id][rows[0] : rows[1], cols[0] : cols[1]] = harm.cells.reshape(mine.shape)
        for cell, value in harm.cells_outside.items():
            surface.score[coa.id].flat[cell] += value
        coa_risk = risk(harm, settings.risk)
        results.append(COAResult(coa, zones[coa.id], exposures[coa.id], threats[coa.id], coa_access, coa_risk))
    return crs, results, surface, gazetteer


def assess(
    plan: Plan,
    layerset: LayerSet,
    settings: Settings | None = None,
    effects: EffectsTable | None = None,
    catalogue: Catalogue | None = None,
    *,
    history: HarmHistory | None = None,
    better: Sequence[BetterPosition] = (),
) -> Assessment:
    """Assess every COA of ``plan`` against ``layerset``, and raise each COA's precaution checklist.

    ``history`` is this force's harm after earlier operations, as the record in use holds it: harm near a
    footprint and amends still owed there raise their items, and its lessons are shown beside their rules.
    ``better`` are positions sweeps found where an element would do less harm: P16 names them.
    """
    history = history or HarmHistory()
    settings = settings or Settings()
    effects = effects or load_effects_table(plan.effects_table)
    catalogue = catalogue or load_catalogue(settings.checklist.catalogue)
    crs, results, surface, gazetteer = coa_results(plan, layerset, settings, effects)
    comparison = compare({r.coa.id: r.risk for r in results}, settings.risk)
    warnings = layerset.all_flags(plan.window.start.date())
    scores = {r.coa.id: r.risk.score for r in results}
    checklists = {}
    for r in results:
        situation = Situation(
            plan=plan,
            coa=r.coa.id,
            zones=r.zones,
            exposure=r.exposure,
            threats=r.threats,
            access=r.access,
            scores=scores,
            layerset=layerset,
            crs=crs,
            effects=effects,
            settings=settings,
            warnings=warnings,
            gazetteer=gazetteer,
            past_harm=history.records,
            support=history.support,
            better=tuple(better),
        )
        checklists[r.coa.id] = evaluate(catalogue, situation)
    shared = share(checklists, catalogue)  # an item raised alike by several COAs is reviewed once for all of them
    for r in results:
        r.checklist = shared[r.coa.id]
    return Assessment(
        plan,
        layerset,
        settings,
        effects,
        crs.to_string(),
        results,
        comparison,
        surface,
        catalogue,
        warnings,
        history,
    )
