"""The precaution checklist of one COA: every rule of the catalogue evaluated against what the assessment found.

Each trigger type is a function that returns evidence: plain data (which site, element, distance, zone,
people, reports, roads) from which the item's words are rendered in any language. A trigger the data cannot
decide (no layer, unknown opening hours, no names for the partner force) returns evidence marked with what is
missing, so the rule is raised as a prompt for the adviser instead of being dropped. Rules with no evidence
are listed as checked and not raised.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyproj import CRS

from planner.access import Access
from planner.catalogue import MESSAGES as MESSAGE_FIELDS
from planner.catalogue import (
    SEVERITIES,
    TRANSLATED_FIELDS,
    Catalogue,
    CatalogueFile,
    ReportsTrigger,
    Rule,
    placeholders,
)
from planner.effects import EffectsTable, Zone
from planner.exposure import FULL_COVERAGE, Exposure, SiteHit, ZoneFigures, coa_zones, sites_in_zones
from planner.geo import to_mgrs
from planner.layers.manifest import LayerSet
from planner.layers.model import BeyondArea, Flag
from planner.layers.sites import open_during
from planner.past_harm import Lesson, PastHarm, Support, near_footprint
from planner.places import AT_M, Gazetteer
from planner.risk import casualty_text, round_people
from planner.settings import Settings
from planner.threat import ThreatContext
from planner.words import activity_name, distance, number
from planner.words import words as interface_words

if TYPE_CHECKING:
    from planner.plan import COA, Plan
    from planner.scale.sweep import BetterPosition

# Placeholders that count people: rounded like every people figure Primum shows.
PEOPLE_FIELDS = ("people", "people_core", "displaced", "value")
# Events listed by id in an item's evidence, latest first; the rest are counted and found on the map.
LISTED_EVENTS = 3
# Road ids written out in an evidence line; the rest are counted and drawn on the map.
LISTED_ROADS = 5
# Local hours of darkness: a window reaching into them is a night operation for the search rules.
NIGHT_HOURS = (19, 6)


@dataclass(frozen=True)
class Situation:
    """What the rules of one COA look at."""

    plan: Plan
    coa: str
    zones: list[Zone]
    exposure: Exposure
    threats: ThreatContext
    access: Access
    scores: dict[str, float]  # every COA's risk score, for the comparison rule
    layerset: LayerSet
    crs: CRS
    effects: EffectsTable
    settings: Settings
    warnings: list[Flag] = field(default_factory=list)
    gazetteer: Gazetteer | None = None  # names places in the evidence; MGRS only without it
    past_harm: tuple[PastHarm, ...] = ()  # this force's harm after earlier operations, from the record in use
    support: tuple[Support, ...] = ()  # the record's register of support to partner forces (HRDDP)
    better: tuple[BetterPosition, ...] = ()  # position sweeps' best candidates that do less harm than planned


@dataclass(frozen=True)
class Evidence:
    """One reason an item is raised; ``missing`` names what the data lacks when it cannot decide."""

    trigger: int  # position of the trigger in the rule
    subject: str  # what the precaution is about (a site, an element, a place, a language)
    data: dict[str, Any]
    missing: str = ""
    key: tuple[Any, ...] = ()  # evidence with the same key is kept once

    @property
    def decided(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Item:
    rule: str
    severity: str
    owner: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    # The COAs raising this same item with the same evidence (this one included): reviewed once for all.
    coas: tuple[str, ...] = ()
    # Lessons of past harm recorded against this rule, an activity its evidence names, or a harm it lists.
    lessons: tuple[Lesson, ...] = ()

    @property
    def kind(self) -> str:
        """``finding`` when the data raised it, ``prompt`` when only the lack of data did."""
        return "finding" if any(e.decided for e in self.evidence) else "prompt"


@dataclass(frozen=True)
class Checklist:
    items: list[Item]
    not_raised: list[str]  # rules evaluated and not raised
    context: list[Item] = field(default_factory=list)  # about the area, not the operation: shown, not reviewed


def evaluate(catalogue: Catalogue, situation: Situation) -> Checklist:
    """Every rule of ``catalogue`` for one COA: items raised, most severe first and findings before prompts;
    area-wide conditions apart, as context; and the rules not raised."""
    items: list[Item] = []
    context: list[Item] = []
    quiet: list[str] = []
    for rule_id, rule in catalogue.rules.items():
        evidence = _deduplicated(_rule_evidence(rule, situation))
        if evidence:
            lessons = _lessons(rule_id, evidence, situation.past_harm)
            raised = Item(rule_id, rule.severity, tuple(rule.owner), tuple(evidence), (situation.coa,), lessons)
            (context if rule.context else items).append(raised)
        else:
            quiet.append(rule_id)
    items.sort(key=lambda item: (SEVERITIES.index(item.severity), item.kind != "finding", _natural(item.rule)))
    return Checklist(items, sorted(quiet, key=_natural), context)


def share(checklists: dict[str, Checklist], catalogue: Catalogue) -> dict[str, Checklist]:
    """Each item marked with every COA that raises it with the same evidence, so that it is reviewed once.

    The same evidence is what a reviewer reads: the rule, and every figure and name its evidence lines show,
    element names included. A site in the zones of differently named elements, or another count of reports,
    is another item; a distance the lines do not show does not make one.
    """
    raised_by: dict[tuple[Any, ...], list[str]] = {}
    signatures = {
        (coa, item.rule): _signature(item, catalogue.rules[item.rule])
        for coa, checklist in checklists.items()
        for item in checklist.items
    }
    for (coa, _), signature in signatures.items():
        raised_by.setdefault(signature, []).append(coa)
    return {
        coa: replace(
            checklist,
            items=[replace(i, coas=tuple(raised_by[signatures[coa, i.rule]])) for i in checklist.items],
        )
        for coa, checklist in checklists.items()
    }


def _lessons(rule_id: str, evidence: list[Evidence], past: tuple[PastHarm, ...]) -> tuple[Lesson, ...]:
    """The lessons to show beside an item: those about its rule, about an activity its evidence names, and
    the general lessons of the harm records it lists."""
    named = {str(e.data.get(key)) for e in evidence for key in ("activity_id", "harm") if e.data.get(key)}
    return tuple(
        lesson
        for harm in past
        for lesson in harm.lessons
        if lesson.about == rule_id or lesson.about in named or (not lesson.about and harm.id in named)
    )


def _signature(item: Item, rule: Rule) -> tuple[Any, ...]:
    def shown(entry: Evidence) -> str:
        template = MESSAGE_FIELDS.get(entry.missing, ()) if entry.missing else rule.triggers[entry.trigger].evidence
        names = set(template) if entry.missing else placeholders(str(template))
        return json.dumps({k: v for k, v in entry.data.items() if k in names}, sort_keys=True, default=str)

    evidence = sorted((e.trigger, e.subject, e.missing, shown(e)) for e in item.evidence)
    return (item.rule, item.severity, tuple(evidence))


def _natural(rule_id: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", rule_id))


def _rule_evidence(rule: Rule, situation: Situation) -> list[Evidence]:
    found: list[Evidence] = []
    for i, trigger in enumerate(rule.triggers):
        if any(getattr(situation.plan, key) != value for key, value in trigger.when_plan.items()):
            continue
        if trigger.when_activity and not _zones_of(trigger.when_activity, situation):
            continue
        found.extend(_EVALUATORS[trigger.type](trigger, situation, i))
    return found


def _deduplicated(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for entry in evidence:
        key = entry.key or (
            entry.trigger,
            entry.subject,
            entry.missing,
            json.dumps(entry.data, sort_keys=True, default=str),
        )
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


# --- sites -----------------------------------------------------------------------------------------------


def _sites(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    wanted = set(trigger.categories)
    found: list[Evidence] = []
    if "displacement" in wanted and not s.layerset.of_kind("displacement"):
        found.append(Evidence(i, "", {}, "no_displacement_layer"))
    other = sorted(wanted - {"displacement"})
    if other and not s.layerset.of_kind("sites"):
        found.append(Evidence(i, "", {"categories": other}, "no_sites_layer"))
    zones = _zones_of(trigger.activity, s)
    if not zones:
        return found
    activities = {z.element: z.activity for z in zones}
    hits = s.exposure.sites if len(zones) == len(s.zones) else _hits(zones, s)
    for hit in hits:
        if hit.category not in wanted or hit.zone not in trigger.zones:
            continue
        if hit.category == "displacement" and hit.population is not None and round_people(hit.population) < 1:
            continue  # a site whose count says nobody lives there now ("no caseload"): no line to review
        data = _site_data(hit, activities[hit.element], s)
        missing = ""
        if trigger.open_in_window:
            hours = hit.hours or hit.usual_hours
            is_open = open_during(hours, s.plan.window.start, s.plan.window.end)
            if is_open is False:
                continue
            missing = "" if is_open else "hours_unknown"
        found.append(Evidence(i, data["site"], data, missing, key=(hit.layer, hit.id)))
    return found


def _zones_of(classes: list[str], s: Situation) -> list[Zone]:
    """The COA's zones whose activity is of any of ``classes`` (all of them when none is given)."""
    if not classes:
        return s.zones
    return [z for z in s.zones if s.effects[z.activity].classes & set(classes)]


def _hits(zones: list[Zone], s: Situation) -> list[SiteHit]:
    core, _ = coa_zones(zones)
    return sites_in_zones(zones, core, s.layerset, s.crs)


def _site_data(hit: SiteHit, activity: str, s: Situation) -> dict[str, Any]:
    return {
        "site": hit.name or hit.id,
        "category": hit.category,
        "subtype": hit.subtype,
        "layer": hit.layer,
        "row": hit.source_row,
        "element": hit.element,
        "activity": s.effects[activity].label,
        "activity_id": activity,
        "zone": hit.zone,
        "distance_m": round(hit.distance_m, 1),
        "people": hit.population,
        # A place of worship's usual service times stand in for hours it does not give, and say so
        "hours": {"usual": hit.usual_hours} if hit.hours is None and hit.usual_hours else hit.hours,
    }


# --- elements and exposure -------------------------------------------------------------------------------


def _elements(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    found = []
    limits = s.settings.checklist
    elements = {e.id: e for e in _coa(s).elements}
    for zone in _zones_of(trigger.activity, s):
        element = elements[zone.element]
        figures = s.exposure.by_element[zone.element]
        people = None if figures["core"].people is None else figures["core"].people + (figures["outer"].people or 0)
        area_km2 = zone.outer.area / 1e6
        density = None if people is None or area_km2 == 0 else people / area_km2
        centre = zone.geometry.centroid
        data = {
            "element": zone.element,
            "activity": s.effects[zone.activity].label,
            "activity_id": zone.activity,
            "people": people,
            "people_core": figures["core"].people,  # inside a cordon: the people searched and held
            "area_km2": round(area_km2, 4),
            "density_km2": None if density is None else round(density, 1),
            "threshold": limits.populated_area_km2,
            "munitions": element.munitions,
            "sites": [],
            "window": s.plan.window.text,
            "night": at_night(s.plan),
            "where": _where(s, centre.x, centre.y),
        }
        missing = ""
        if trigger.observer is False and element.observer is not False:
            if element.observer:
                continue
            missing = "observer_unknown"
        if trigger.populated:
            if density is None:
                missing = "no_population"
            elif density < limits.populated_area_km2:
                continue
        if trigger.near_civilians:
            camps = [h.name or h.id for h in _hits([zone], s) if h.category == "displacement"] if trigger.camps else []
            data["sites"] = camps
            if not camps and people is None:
                missing = "no_population"
            elif not camps and people is not None and people < float(getattr(limits, trigger.near_at_least)):
                continue
        found.append(Evidence(i, zone.element, data, missing, key=("element", zone.element)))
    return found


def _coa(s: Situation) -> COA:
    return next(c for c in s.plan.coas if c.id == s.coa)


def at_night(plan: Plan) -> bool:
    """Whether the window reaches into the local hours of darkness (``NIGHT_HOURS``)."""
    start, end = plan.window.start, plan.window.end
    if end - start >= timedelta(hours=24):
        return True
    dusk, dawn = NIGHT_HOURS
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        if hour.hour >= dusk or hour.hour < dawn:
            return True
        hour += timedelta(hours=1)
    return False


def _where(s: Situation, x: float, y: float) -> dict[str, Any]:
    """A point of the working CRS in words: the nearest named place of the layers, and MGRS."""
    gazetteer = s.gazetteer or Gazetteer(s.layerset, s.crs)
    return gazetteer.where(x, y).as_dict()


def _exposure(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    if trigger.activity:  # per element: only the people the means of these classes reach
        return [
            found
            for zone in _zones_of(trigger.activity, s)
            for found in _exposure_of(trigger, s, i, s.exposure.by_element[zone.element], zone)
        ]
    return _exposure_of(trigger, s, i, s.exposure.zones, None)


def _exposure_of(
    trigger: Any, s: Situation, i: int, figures: dict[str, ZoneFigures], zone: Zone | None
) -> list[Evidence]:
    zones = ["core"] if trigger.zone == "core" else ["core", "outer"]
    threshold = float(getattr(s.settings.checklist, trigger.at_least))
    people_known = all(figures[z].people is not None for z in zones)
    people = sum(figures[z].people or 0.0 for z in zones) if people_known else None
    weighted = sum(figures[z].people_weighted or 0.0 for z in zones) if people_known else None
    displaced = sum(figures[z].displaced for z in zones)
    coverage = min(figures[z].coverage for z in zones)
    value = {
        "people": people,
        "people_weighted": weighted,
        "people_and_displaced": None if people is None else people + displaced,
    }[trigger.measure]
    subject = zone.element if zone is not None else s.coa
    data = {
        "zone": trigger.zone,
        "element": subject,
        "activity": s.effects[zone.activity].label if zone is not None else "",
        "activity_id": zone.activity if zone is not None else "",
        "people": people,
        "displaced": displaced,
        "value": value,
        "threshold": threshold,
        "coverage_pct": round(coverage * 100, 1),
    }
    if value is None:
        return [Evidence(i, subject, data, "no_population")]
    if value >= threshold:
        return [Evidence(i, subject, data)]
    if coverage < FULL_COVERAGE:  # the uncovered part may hold the people that would cross the threshold
        return [Evidence(i, subject, data, "partial_population")]
    return []


# Essential services people held inside a cordon need, and whether the cordon holds them.
CORDON_NEEDS = ("health", "water", "market")


def _cordon(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    """Cordons that hold people for ``at_least_hours`` or more: how many, how long, and what is inside."""
    threshold = float(getattr(s.settings.checklist, trigger.at_least_hours))
    elements = {e.id: e for e in _coa(s).elements}
    window_h = (s.plan.window.end - s.plan.window.start).total_seconds() / 3600
    found = []
    for zone in _zones_of(["cordon"], s):
        restriction = s.effects[zone.activity].mechanisms.movement_restriction
        if restriction is None or not restriction.confines:
            continue  # a road closure lets people go round it; its harm is the access it cuts
        given = elements[zone.element].duration_h
        hours = min(given, window_h) if given is not None else window_h
        if hours < threshold:
            continue
        inside = sorted(
            {h.category for h in s.exposure.sites if h.element == zone.element and h.zone == "core"} & set(CORDON_NEEDS)
        )
        people = s.exposure.by_element[zone.element]["core"].people
        if people is not None and round_people(people) < 1:
            continue  # nobody is held
        data = {
            "element": zone.element,
            "activity": s.effects[zone.activity].label,
            "activity_id": zone.activity,
            "people": people,
            "hours": round(hours, 1),
            "hours_from": "hours_plan" if given is not None else "hours_window",
            "threshold": threshold,
            "inside": inside,
            "missing_inside": [n for n in CORDON_NEEDS if n not in inside],
        }
        found.append(Evidence(i, zone.element, data, "no_population" if people is None else ""))
    return found


# --- threat reports --------------------------------------------------------------------------------------


def _reports(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    layers = s.layerset.of_kind("threats")
    if not layers:
        return [Evidence(i, "", {}, "no_threat_layer")]
    names: tuple[str, ...] = ()
    if trigger.actors is not None:
        names = s.plan.partner_forces if trigger.actors == "partner" else s.plan.own_force
        if not names:
            return [Evidence(i, "", {}, "no_partner_names" if trigger.actors == "partner" else "no_own_force_names")]
    if trigger.community_source and not any(pd.notna(layer.column("community_source")).any() for layer in layers):
        return [Evidence(i, "", {}, "no_community_data")]
    days = (
        int(getattr(s.settings.checklist, trigger.within_days))
        if trigger.within_days
        else s.settings.threat.window_days
    )
    start = s.plan.window.start.date()
    earliest = (start - timedelta(days=days)).isoformat()
    rows = _near_reports(s) if trigger.scope == "near" else _layer_reports(s, days)
    pattern = _named(names) if names else None
    chosen = [
        r
        for r in rows
        if r["date"] >= earliest
        and r["date"] < start.isoformat()
        and (not trigger.kinds or r["kind"] in trigger.kinds)
        and (not trigger.civilian_targeting or r["civilian_targeting"])
        and (not trigger.community_source or r["community_source"])
        and (pattern is None or pattern.search(r["actors"]))
    ]
    if not chosen:
        return []
    chosen.sort(key=lambda r: (r["date"], r["event_id"]), reverse=True)
    kinds: dict[str, int] = {}
    for r in chosen:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    distances = [r["distance_m"] for r in chosen if r["distance_m"] is not None]
    matched = sorted({n for n in names for r in chosen if _named((n,)).search(r["actors"])})
    data = {
        "count": len(chosen),
        "kinds": dict(sorted(kinds.items())),
        "latest": chosen[0]["date"],
        "nearest_m": round(min(distances), 1) if distances else None,
        "events": [f"{r['layer']}:{r['event_id']}" for r in chosen[:LISTED_EVENTS]],
        "more": max(0, len(chosen) - LISTED_EVENTS),  # the rest are on the map's threat layer
        "actors": matched,
        "days": days,
    }
    return [Evidence(i, f"{len(chosen)}", data)]


def _named(names: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``names`` as a whole name in an actors text ('UN' does not match 'UNKNOWN'), any case."""
    return re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in names), re.IGNORECASE)


def _near_reports(s: Situation) -> list[dict[str, Any]]:
    """The reports the threat context found near the footprint (ids, dates, kinds: never sources)."""
    return [
        {
            "layer": r.layer,
            "event_id": r.event_id,
            "date": r.date,
            "kind": r.kind,
            "civilian_targeting": r.civilian_targeting,
            "community_source": bool(r.community_source),
            "actors": r.actors,
            "distance_m": r.distance_m,
        }
        for r in s.threats.reports
    ]


def reports_beyond_area(plan: Plan, settings: Settings, catalogue: Catalogue) -> BeyondArea:
    """The reports beyond the study area that the rules of ``catalogue`` read for ``plan``: the rules whose
    reports trigger looks at whole layers and applies to the plan, each as far back as its window."""
    start = plan.window.start.date()
    since = community_since = None
    for rule in catalogue.rules.values():
        for trigger in rule.triggers:
            if not isinstance(trigger, ReportsTrigger) or trigger.scope != "layers":
                continue
            if any(getattr(plan, key) != value for key, value in trigger.when_plan.items()):
                continue
            days = int(getattr(settings.checklist, trigger.within_days)) if trigger.within_days else None
            day = start - timedelta(days=days if days is not None else settings.threat.window_days)
            if trigger.community_source:
                community_since = min(community_since or day, day)
            else:
                since = min(since or day, day)
    return BeyondArea(since, community_since)


def _layer_reports(s: Situation, days: int) -> list[dict[str, Any]]:
    """Every report of the threat layers in the window before the operation, wherever it happened."""
    day = pd.Timestamp(s.plan.window.start.date())
    earliest = (day - pd.Timedelta(days=days)).to_datetime64()
    found = []
    for layer in s.layerset.of_kind("threats"):
        if layer.area is not None and (layer.complete_since is None or pd.Timestamp(layer.complete_since) > earliest):
            raise ValueError(
                f"the reports of '{layer.id}' beyond the study area were read "
                f"{'from ' + layer.complete_since.isoformat() if layer.complete_since else 'not at all'}, and a rule "
                f"looks back to {pd.Timestamp(earliest).date().isoformat()}: read the layer set again for this plan"
            )
        dates = layer.column("date")
        rows = np.flatnonzero((dates >= earliest) & (dates < day.to_datetime64()))
        for row in rows:
            actors = layer.column("actors")[row]
            found.append(
                {
                    "layer": layer.id,
                    "event_id": str(layer.column("event_id")[row]),
                    "date": pd.Timestamp(dates[row]).date().isoformat(),
                    "kind": str(layer.column("kind")[row]),
                    "civilian_targeting": bool(layer.column("civilian_targeting")[row]),
                    "community_source": bool(layer.column("community_source")[row]),
                    "actors": actors if isinstance(actors, str) else "",
                    "distance_m": None,
                }
            )
    return found


# --- access on the road network --------------------------------------------------------------------------


def _past_harm(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    """This force's harm recorded after earlier operations near this COA's zones, one line each; with
    ``amends_owed``, only the harm for which amends or condolence are still open."""
    near = near_footprint(list(s.past_harm), s.zones, s.crs, s.settings.threat.distance_m)
    found = []
    for n in near:
        harm = n.harm
        if harm.attributed_to or (trigger.amends_owed and not harm.owed):
            continue  # a partner force's harm is the support register's, not this force's
        activity = s.effects.activities[harm.means].label if harm.means in s.effects.activities else harm.means
        data = {
            "harm": harm.id,
            "day": harm.day,
            "kinds": list(harm.kinds),
            "deaths": _bounds(harm.deaths),
            "injuries": _bounds(harm.injuries),
            "mechanism_id": harm.mechanism,
            "activity_id": harm.means,
            "activity": activity or "—",
            # Where it fell against this COA's zones: part of what the reviewer reads, so of the item's identity
            "placed": {"zone": n.zone, "element": n.element, "distance_m": round(n.distance_m, 1)},
            "where": _where(s, n.x, n.y),
            "state_step": harm.step,
            "state_status": harm.status,
            "community": harm.community or None,
            "owed_decision": harm.owed,
            "owed_response": harm.owed_response,
        }
        found.append(Evidence(i, harm.id, data))
    return found


def _support(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    """Support registered to a partner force this plan names, with a follow-up due by the operation's start
    or a finding open against the unit."""
    if not s.support:
        return []
    if not s.plan.partner_forces:
        return [Evidence(i, "", {}, "no_partner_names")]
    pattern = _named(s.plan.partner_forces)
    start = s.plan.window.start.date().isoformat()
    found = []
    for given in s.support:
        if not (pattern.search(given.partner) or (given.unit and pattern.search(given.unit))):
            continue
        overdue = bool(given.due) and given.due <= start
        # Threat reports naming the unit (the partner when no unit is given) since the support began
        named = _named((given.unit or given.partner,))
        reports = sorted(
            (r for r in _layer_reports(s, s.settings.threat.window_days) if r["date"] >= given.starts),
            key=lambda r: (r["date"], r["event_id"]),
            reverse=True,
        )
        reported = [f"{r['layer']}:{r['event_id']} ({r['date']})" for r in reports if named.search(r["actors"])]
        findings = [*given.findings, *reported[:LISTED_EVENTS]]
        if len(reported) > LISTED_EVENTS:
            findings.append(f"+{len(reported) - LISTED_EVENTS}")
        if overdue or findings:
            data = {
                "support": given.id,
                "support_kind": given.kind,
                "partner": given.partner,
                "unit": given.unit or given.partner,
                "due": given.due if overdue else "",
                "findings": findings,
            }
            found.append(Evidence(i, given.id, data))
    return found


def _bounds(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return str(low) if low == high else f"{low}–{high}"


def _access(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    found = s.access
    if found.network_edges == 0:
        return [Evidence(i, "", {}, "no_roads")]
    finder: Callable[[Any, Situation, int], list[Evidence]] = _ACCESS_FINDINGS[trigger.finding]
    return finder(trigger, s, i)


def _residents_beyond(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    health = s.access.health
    if health is None:
        return [Evidence(i, "", {}, "no_roads")]
    if health.people_beyond_before < 1:
        return []
    data = {"people": health.people_beyond_before, "limit_min": health.limit_min, "facilities": health.facilities}
    return [Evidence(i, "residents", data)]


def _off_network(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    health = s.access.health
    if health is None or round_people(health.people_off_network) < 1:
        return []
    return [Evidence(i, "off_network", {"people": health.people_off_network})]


def _residents_cut(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    health = s.access.health
    if health is None or health.people_newly_beyond < 1:
        return []
    data = {"people": health.people_newly_beyond, "limit_min": health.limit_min, "worse_by_min": health.worse_by_min}
    return [Evidence(i, "residents", data)]


def _sites_beyond(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    """Displacement sites beyond reach of care: made so by the operation, or (``sites_beyond_before``) already."""
    health = s.access.health
    if health is None:
        return []
    already = trigger.finding == "sites_beyond_before"
    found = []
    for place in health.sites:
        if not place.on_network:
            continue  # counted in the off-network figure: its reach is unknown, not beyond
        if place.people is not None and round_people(place.people) < 1:
            continue  # nobody counted there: not a line to review
        before, during = _or_inf(place.before_min), _or_inf(place.during_min)
        worse = during > health.limit_min and during > before
        if (before > health.limit_min) if already else worse:
            data = {
                "place": place.name or place.id,
                "people": place.people,
                "before_min": place.before_min,
                "during_min": place.during_min,
                "limit_min": health.limit_min,
            }
            found.append(Evidence(i, place.name or place.id, data, key=(place.layer, place.id)))
    return found


def _or_inf(minutes: float | None) -> float:
    return math.inf if minutes is None else minutes


def _cut_off(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    """Communities and displacement sites with people in them, or (``sites_cut_off``) essential sites no
    community can reach any more, cut off by the closures."""
    isolated_sites = trigger.finding == "sites_cut_off"
    found = []
    for cut in s.access.cut_off:
        if (cut.kind == "site") != isolated_sites:
            continue
        if not isolated_sites and round_people(cut.people) < 1:
            continue  # nobody there: not a line to review
        lost = [c for c in cut.lost if not trigger.lost or c in trigger.lost]
        place: Any
        if lost:
            subject, place = cut.name, cut.name
            if cut.kind == "community":  # a group of grid cells: named after the nearest place of the layers
                where = _where(s, cut.x, cut.y)
                place = {**where, "homes": True}
                subject = f"{where['name']} ({where['mgrs']})" if where["name"] else str(where["mgrs"])
            data = {
                "place": place,
                "kind": cut.kind,
                "people": cut.people,
                "lost": lost,
                "roads": list(cut.closed_roads),
            }
            found.append(Evidence(i, subject, data))
    return found


def _route_populated(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    """Routes past a market that may be open, and heavy vehicles' routes through populated areas: a patrol
    is meant to be among people; its traffic harms only where crowds gather."""
    heavy = {z.element for z in _zones_of(["heavy_vehicles"], s)}
    found = []
    for route in s.access.routes:
        markets = [str(m["name"]) for m in route.markets if m["open_during"] is not False]
        populated = route.element in heavy and route.people_along >= s.settings.checklist.route_people
        if populated or markets:
            data = {"element": route.element, "people": route.people_along, "markets": markets, "window": route.window}
            found.append(Evidence(i, route.element, data))
    return found


def _heavy(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    heavy = {z.element for z in _zones_of(["heavy_vehicles"], s)}
    found = []
    for route in s.access.routes:
        if route.element not in heavy:
            continue
        if trigger.finding == "heavy_sole_link" and route.sole_links:
            found.append(Evidence(i, route.element, {"element": route.element, "roads": list(route.sole_links)}))
        if trigger.finding == "heavy_rainy_earth" and s.access.season == "rainy" and route.earth_roads:
            data = {"element": route.element, "roads": list(route.earth_roads), "season": s.access.season}
            found.append(Evidence(i, route.element, data))
    return found


def _closed_sole_link(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    roads: dict[str, list[str]] = {}
    for closure in s.access.closures:
        if closure.sole_link or closure.bridge:
            roads.setdefault(closure.element, [])
            if closure.road_id not in roads[closure.element]:
                roads[closure.element].append(closure.road_id)
    return [Evidence(i, ", ".join(ids), {"element": e, "roads": ids}) for e, ids in roads.items()]


_ACCESS_FINDINGS: dict[str, Callable[[Any, Situation, int], list[Evidence]]] = {
    "residents_beyond_reach": _residents_beyond,
    "off_network": _off_network,
    "residents_cut_from_care": _residents_cut,
    "sites_beyond_reach": _sites_beyond,
    "sites_beyond_before": _sites_beyond,
    "cut_off": _cut_off,
    "sites_cut_off": _cut_off,
    "route_populated": _route_populated,
    "heavy_sole_link": _heavy,
    "heavy_rainy_earth": _heavy,
    "closed_sole_link": _closed_sole_link,
}


# --- the plan, the data and the comparison ---------------------------------------------------------------


def _data(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    flags: list[Flag] = [f for figure in s.exposure.flags.values() for f in figure]
    flags += s.threats.flags + s.access.flags + s.warnings
    found = []
    for flag in flags:
        if flag.code in trigger.codes:
            data = {"layer": flag.layer, "code": flag.code, "message": flag.message}
            found.append(Evidence(i, flag.layer, data, key=(flag.code, flag.layer, flag.message)))
    return found


def _languages(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    communities, interpreters = s.plan.community_languages, s.plan.interpreter_languages
    if not communities:
        return [Evidence(i, "", {}, "no_languages")]
    covered = {name.casefold() for name in interpreters}
    missing = [name for name in communities if name.casefold() not in covered]
    if not missing:
        return []
    data = {"missing": missing, "communities": list(communities), "interpreters": list(interpreters)}
    return [Evidence(i, ", ".join(missing), data)]


def _comparison(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    best = min(s.scores, key=lambda coa: (s.scores[coa], coa))
    score = s.scores[s.coa]
    if best == s.coa or score <= s.scores[best]:
        return []
    data = {"score": score, "best": best, "best_score": s.scores[best], "difference": round(score - s.scores[best], 1)}
    return [Evidence(i, best, data)]


def _better_position(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    found = []
    for b in s.better:
        if b.coa != s.coa:
            continue
        data = {
            "element": b.element,
            "grid": to_mgrs(*b.position),
            "position": [round(b.position[0], 6), round(b.position[1], 6)],
            "moved": round(b.moved_m),
            "bearing": b.bearing,
            "casualties": b.casualties["central"],
            "planned_casualties": b.planned_casualties["central"],
            "element_casualties": b.element_casualties,
            "planned_element_casualties": b.planned_element_casualties,
            "score": b.score,
            "planned_score": b.planned_score,
            "candidates": b.candidates,
            "within": round(b.within_m),
        }
        found.append(Evidence(i, b.element, data, key=("better_position", b.element)))
    return found


def _always(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    return [Evidence(i, "", {})]


def _prompt(trigger: Any, s: Situation, i: int) -> list[Evidence]:
    return [Evidence(i, "", {}, trigger.missing)]


_EVALUATORS: dict[str, Callable[[Any, Situation, int], list[Evidence]]] = {
    "site": _sites,
    "element": _elements,
    "exposure": _exposure,
    "cordon": _cordon,
    "reports": _reports,
    "past_harm": _past_harm,
    "support": _support,
    "access": _access,
    "data": _data,
    "languages": _languages,
    "comparison": _comparison,
    "better_position": _better_position,
    "always": _always,
    "prompt": _prompt,
}


# --- words -----------------------------------------------------------------------------------------------


def render(
    checklist: Checklist, catalogue: Catalogue, lang: str, coa: str, *, coarsen_m: float | None = None
) -> dict[str, Any]:
    """The checklist as JSON data in language ``lang``: each item's words with its evidence filled in.

    ``coarsen_m`` is for outputs shared outside the mission: a report's distance to the footprint is then
    written only as "within" the next whole cell, so the evidence cannot narrow the report's position.
    """
    words = catalogue.language(lang)
    items = [_item(item, words, lang, coa, coarsen_m) for item in checklist.items]
    not_raised = [
        {"id": r, "title": words.rules[r].title, "checked": words.rules[r].clear} for r in checklist.not_raised
    ]
    context = [_item(item, words, lang, coa, coarsen_m) for item in checklist.context]
    return {
        "language": lang,
        "catalogue": catalogue.source,
        "items": items,
        "context": context,
        "not_raised": not_raised,
    }


def _item(item: Item, words: CatalogueFile, lang: str, coa: str, coarsen_m: float | None) -> dict[str, Any]:
    rule = words.rules[item.rule]
    decided = [e for e in item.evidence if e.decided]
    # A prompt is about what it could not decide; a finding about what it found.
    subjects = list(dict.fromkeys(e.subject for e in decided or item.evidence if e.subject))
    return {
        "id": item.rule,
        "title": rule.title,
        "text": _fill(
            rule.text,
            {"count": len(decided), "subjects": subjects or [words.labels["concerned"]], "coa": coa},
            words,
            lang,
        ),
        "owner": list(item.owner),
        "owner_label": ", ".join(words.roles[r] for r in item.owner),
        "severity": item.severity,
        "severity_label": words.severities[item.severity],
        "basis": rule.basis,
        "kind": item.kind,
        "source": "rule",
        "coas": list(item.coas or (coa,)),
        "decided_by": rule.decided_by if any(not e.decided for e in item.evidence) else "",
        "evidence": [_evidence(_coarse(e, coarsen_m), rule, words, lang, coa) for e in item.evidence],
        "lessons": [asdict(lesson) for lesson in item.lessons],
    }


def _evidence(entry: Evidence, rule: Rule, words: CatalogueFile, lang: str, coa: str) -> dict[str, Any]:
    template = words.messages[entry.missing] if entry.missing else rule.triggers[entry.trigger].evidence
    shown = {**entry.data, "coa": coa}
    if entry.data.get("activity_id"):  # the activity as the reader's language says it
        shown["activity"] = activity_name(entry.data["activity_id"], str(entry.data["activity"]), lang)
    if "state_step" in entry.data:  # a harm record's review and what is owed, in the reader's language
        shown |= _harm_words(entry.data, lang)
    if "support_kind" in entry.data:
        shown |= _support_words(entry.data, lang)
    return {
        "text": _fill(template, shown, words, lang),
        "decided": entry.decided,
        "missing": entry.missing or None,
        "data": {k: _plain(v) for k, v in entry.data.items()},
    }


def _harm_words(data: dict[str, Any], lang: str) -> dict[str, str]:
    said = interface_words(lang)
    tracking, mechanisms = said["harm_tracking"], said["harm"]["mechanisms"]
    status = tracking["statuses"][data["state_status"]]
    step = tracking["steps"][data["state_step"]]
    state = step if data["state_step"] == "intake" else tracking["state"].format(step=step, status=status)
    where = data["placed"]
    placed = tracking["placed"][where["zone"]].format(
        element=where["element"], distance=distance(float(where["distance_m"]), lang)
    )
    response = data.get("owed_response")
    owed = ""
    if data.get("owed_decision"):
        owed = tracking["owed"].format(
            decision=tracking["statuses"][data["owed_decision"]],
            response=tracking["latest_response"].format(status=tracking["statuses"][response])
            if response
            else tracking["nothing_offered"],
        )
    counts = {"deaths": data["deaths"], "injuries": data["injuries"]}
    what = [tracking["kinds"][kind].format(count=counts.get(kind, "")) for kind in data["kinds"]]
    return {
        "mechanism": mechanisms.get(data["mechanism_id"], data["mechanism_id"]),
        "what": ", ".join(what) or tracking["kinds"]["deaths"].format(count=0),
        "placed": placed,
        "state": state,
        "owed": owed,
    }


def _support_words(data: dict[str, Any], lang: str) -> dict[str, str]:
    said = interface_words(lang)["support"]
    why = [said["overdue"].format(due=data["due"])] if data["due"] else []
    if data["findings"]:
        why.append(said["findings"].format(findings="; ".join(data["findings"])))
    return {"kind": said["kinds"][data["support_kind"]], "why": ", ".join(why)}


def _coarse(entry: Evidence, coarsen_m: float | None) -> Evidence:
    """Evidence for an output shared outside the mission: a report's distance only to the next whole cell, and
    a harm record's place withheld to its cell, as the outputs coarsen the positions themselves."""
    if not coarsen_m:
        return entry
    data = dict(entry.data)
    nearest = data.get("nearest_m")
    if nearest is not None:
        data["nearest_m"] = {"within_m": max(1, math.ceil(float(nearest) / coarsen_m)) * coarsen_m}
    if "harm" in data and "where" in data:
        placed = data["placed"]
        within = math.ceil(float(placed["distance_m"]) / coarsen_m) * coarsen_m
        data |= {"where": {"coarse_km": coarsen_m / 1000}, "placed": {**placed, "distance_m": within}}
    return replace(entry, data=data)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _fill(template: str, data: dict[str, Any], words: CatalogueFile, lang: str) -> str:
    """``template`` with each placeholder's value written for people in ``lang``."""
    values = {name: _word(name, data.get(name), words, lang) for name in placeholders(template)}
    return template.format_map(values)


def _word(name: str, value: Any, words: CatalogueFile, lang: str) -> str:
    if name.endswith("_min"):  # travel times carry their unit; no time means no route, not an unknown
        return words.labels["unreachable"] if value is None else f"{number(float(value), lang)} min"
    if name == "more":  # reports beyond the few listed: where to see them
        return words.labels["more_events"].format(count=number(float(value), lang)) if value else ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return words.labels["unknown"]
    if name.endswith("casualties"):  # expected casualties as the brief writes them (<0.1, 2.3, 14)
        return casualty_text(float(value), lang)
    if isinstance(value, bool):
        return words.labels["yes" if value else "no"]
    if isinstance(value, dict) and "mgrs" in value:
        return place(value, words, lang)
    if isinstance(value, dict) and "usual" in value:
        return f"{value['usual']}, {words.labels['usual_hours']}"
    if isinstance(value, dict) and "coarse_km" in value:  # a place withheld to its cell in a shared output
        return words.labels["coarse_place"].format(km=number(float(value["coarse_km"]), lang))
    if isinstance(value, dict) and "within_m" in value:  # a distance coarsened for outputs shared outside
        return f"≤ {distance(float(value['within_m']), lang)}"
    if name.endswith("_m") and isinstance(value, int | float | np.number):
        return distance(float(value), lang)
    if name in TRANSLATED_FIELDS and isinstance(value, str) and value in words.labels:
        return words.labels[value]
    if isinstance(value, dict):  # counts by kind
        return ", ".join(f"{words.labels.get(k, k)} {number(float(n), lang)}" for k, n in value.items())
    if isinstance(value, int | float | np.number):
        if name in PEOPLE_FIELDS:  # counted as field reports count people, as the risk explanations do
            return number(float(round_people(float(value))), lang)
        return number(float(value), lang)
    if isinstance(value, Iterable) and not isinstance(value, str):
        parts = [_word(name, v, words, lang) for v in value]
        if name == "roads" and len(parts) > LISTED_ROADS:  # the rest are on the map's closures
            parts = [*parts[:LISTED_ROADS], f"+{len(parts) - LISTED_ROADS}"]
        return ", ".join(parts) if parts else "—"
    return str(value)


def place(where: dict[str, Any], words: CatalogueFile, lang: str) -> str:
    """A place as people say it: '1.2 km NE of Kalo town (36N WM 6870 8600)', or its MGRS alone."""
    if where.get("homes"):  # a group of populated cells: the homes around a place
        return words.labels["homes"].format(place=place({**where, "homes": False}, words, lang))
    name = where.get("name")
    if not name:
        return str(where["mgrs"])
    if float(where["distance_m"]) < AT_M:
        return words.labels["where_at"].format(name=name, mgrs=where["mgrs"])
    return words.labels["where"].format(
        distance=distance(float(where["distance_m"]), lang),
        bearing=words.labels[where["bearing"]],
        name=name,
        mgrs=where["mgrs"],
    )
