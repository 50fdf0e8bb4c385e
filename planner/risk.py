"""Risk per COA: a score from 0 to 100, a level, and the share of the score each input contributed.

The score counts intensity-weighted "people-equivalents" H and saturates::

    base   = people_weight * people_weighted + displaced_weight * displaced_weighted + sum(site_weight * intensity)
             + access_weight * (people_weight * residents + displaced_weight * displaced losing health care
               within the reach limit during the operation)
    factor = 1 + (threat_max_factor - 1) * min(1, weighted_reports / saturation)
    H      = base * factor
    score  = 100 * (1 - exp(-H / scale))

Contributions are shares of H: each input's share of ``base`` times ``1 / factor``, and the threat context's
share ``(factor - 1) / factor``; they add up to 100 %. Weights and thresholds are settings, not code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.access import Access
from planner.exposure import Exposure, SiteHit
from planner.settings import RiskSettings, ThreatSettings
from planner.threat import ThreatContext

LEVELS = ("low", "medium", "high", "extreme")


def round_people(value: float) -> int:
    """People counts as field reports give them: nearest 10 below 1,000, 100 below 100,000, else 1,000."""
    if value < 1_000:
        step = 10
    elif value < 100_000:
        step = 100
    else:
        step = 1_000
    return int(math.floor(value / step + 0.5) * step)


def people_text(value: float | None) -> str:
    return "unknown" if value is None else f"{round_people(value):,}"


@dataclass(frozen=True)
class Contribution:
    input: str
    value: float  # people-equivalents before the threat factor (the factor itself for 'threat')
    share_pct: float
    explanation: str


@dataclass(frozen=True)
class Risk:
    score: float
    level: str
    people_equivalents: float
    threat_factor: float
    contributions: dict[str, Contribution]


def level_of(score: float, settings: RiskSettings) -> str:
    level = "low"
    for name in LEVELS[1:]:
        if score >= settings.levels[name]:
            level = name
    return level


def site_value(hit: SiteHit, settings: RiskSettings) -> float:
    return settings.site_weights.get(hit.category, 0.0) * hit.intensity


def risk(
    exposure: Exposure,
    threats: ThreatContext,
    risk_settings: RiskSettings,
    threat_settings: ThreatSettings,
    found_access: Access | None = None,
) -> Risk:
    zones = exposure.zones.values()
    people = risk_settings.people_weight * sum(z.people_weighted or 0.0 for z in zones)
    displaced = risk_settings.displaced_weight * sum(z.displaced_weighted for z in zones)
    sites = sum(site_value(h, risk_settings) for h in exposure.sites)
    access_people, access_displaced = _access_people(found_access)
    access = risk_settings.access_weight * (
        risk_settings.people_weight * access_people + risk_settings.displaced_weight * access_displaced
    )
    base = people + displaced + sites + access
    factor = 1 + (risk_settings.threat_max_factor - 1) * min(1.0, threats.weighted_total / threat_settings.saturation)
    h = base * factor
    score = 100 * (1 - math.exp(-h / risk_settings.scale))

    def share(value: float) -> float:
        return 100 * value / base / factor if base > 0 else 0.0

    threat_share = 100 * (factor - 1) / factor if base > 0 else 0.0
    contributions = {
        "people": Contribution("people", people, share(people), _people_text(exposure, share(people))),
        "displaced": Contribution(
            "displaced", displaced, share(displaced), _displaced_text(exposure, share(displaced))
        ),
        "sites": Contribution("sites", sites, share(sites), _sites_text(exposure, risk_settings, share(sites))),
        "access": Contribution("access", access, share(access), _access_text(found_access, share(access))),
        "threat": Contribution("threat", factor, threat_share, _threat_text(threats, threat_share, factor)),
    }
    return Risk(round(score, 2), level_of(score, risk_settings), h, factor, contributions)


def _access_people(found: Access | None) -> tuple[float, float]:
    """Residents and displaced people who lose health care within the limit, or are cut off from it."""
    if found is None or found.health is None:
        return 0.0, 0.0
    limit = found.health.limit_min
    displaced = sum(
        p.people or 0.0
        for p in found.health.sites
        if p.on_network
        and (p.before_min is not None and p.before_min <= limit)
        and (p.during_min is None or p.during_min > limit)
    )
    return found.health.people_newly_beyond, displaced


def _access_text(found: Access | None, pct: float) -> str:
    if found is None or found.health is None:
        return "access on the road network is unknown (no roads layer)"
    people, displaced = _access_people(found)
    if people + displaced <= 0:
        closed = len(found.closures)
        return f"no one loses health care within {found.health.limit_min:.0f} min ({closed} road piece(s) closed)"
    roads = sorted({c.road_id for c in found.closures})
    by = sorted({c.element for c in found.closures})
    return (
        f"{pct:.0f} % from {people_text(people)} residents and {people_text(displaced)} displaced people losing "
        f"health care within {found.health.limit_min:.0f} min while {', '.join(by) or 'the operation'} "
        f"closes {len(roads)} road(s)"
    )


def _people_text(exposure: Exposure, pct: float) -> str:
    best = max(
        (
            (el, zone, figs.people_weighted or 0.0, figs.people)
            for el, by_zone in exposure.by_element.items()
            for zone, figs in by_zone.items()
        ),
        key=lambda t: t[2],
        default=None,
    )
    if best is None or best[2] <= 0:
        if any(z.people is None for z in exposure.zones.values()):
            return "people in the zones are unknown (no population data)"
        return "no residents in the zones"
    element, zone, _, count = best
    return (
        f"{pct:.0f} % from people in the zones, most of all about {people_text(count)} in the {zone} zone of {element}"
    )


def _displaced_text(exposure: Exposure, pct: float) -> str:
    camps = [h for h in exposure.sites if h.category == "displacement"]
    if not camps:
        return "no displacement site in the zones"
    top = max(camps, key=lambda h: (h.population or 0.0) * (h.share_core + h.share_outer) * h.intensity)
    if top.population is None:
        return f"{top.name or top.id} is in the {top.zone} zone of {top.element}; its population is unknown"
    inside = top.population * (top.share_core + top.share_outer)
    return (
        f"{pct:.0f} % from {people_text(inside)} displaced people of {top.name or top.id} in the {top.zone} "
        f"zone of {top.element}"
    )


def _sites_text(exposure: Exposure, settings: RiskSettings, pct: float) -> str:
    sites = [h for h in exposure.sites if h.category != "displacement"]
    if not sites:
        return "no protected or essential site in the zones"
    top = max(sites, key=lambda h: site_value(h, settings))
    return (
        f"{pct:.0f} % from {len(sites)} site(s), most of all {top.name or top.id} ({top.category}) in the "
        f"{top.zone} zone of {top.element}, {top.distance_m:,.0f} m from it"
    )


def _threat_text(threats: ThreatContext, pct: float, factor: float) -> str:
    if not threats.reports:
        if threats.flags:
            return "threat context unknown: " + "; ".join(f.message for f in threats.flags)
        return f"no report within {threats.distance_m:,.0f} m in the last {threats.window_days} days"
    recent = threats.most_recent
    assert recent is not None
    return (
        f"{pct:.0f} % from {len(threats.reports)} recent report(s) within {threats.distance_m:,.0f} m "
        f"({threats.civilian_targeting} targeting civilians; most recent {recent.date}): exposure x {factor:.2f}"
    )


@dataclass(frozen=True)
class Comparison:
    ranking: list[str]  # least expected harm first
    too_close: list[tuple[str, str]]
    summary: str


def compare(risks: dict[str, Risk], settings: RiskSettings) -> Comparison:
    ranking = sorted(risks, key=lambda coa: (risks[coa].score, coa))
    close = [
        (a, b)
        for i, a in enumerate(ranking)
        for b in ranking[i + 1 :]
        if abs(risks[a].score - risks[b].score) < settings.too_close_points
    ]
    best = ranking[0]
    if any(best in pair for pair in close):
        rivals = sorted({c for pair in close if best in pair for c in pair} - {best})
        summary = (
            f"COA {best} has the lowest score, but {', '.join(rivals)} "
            f"{'is' if len(rivals) == 1 else 'are'} within {settings.too_close_points:g} points: too close "
            "to call on these data"
        )
    else:
        summary = f"COA {best} has the least expected civilian harm ({risks[best].score:.0f}/100)"
    return Comparison(ranking, close, summary)
