"""Expected civilian harm of one COA, built element by element from what each means does.

For every element and each mechanism its activity brings (``planner/harm/mechanisms.py``), the probability
of harm is evaluated where people are during the window (``planner/harm/presence.py``): residents on the
risk surface's grid (each cell sampled k x k times where an effect is sharper than a cell), people at sites
and displacement sites at their sample points.

Nobody is counted twice:

- casualties combine sample by sample over every element and mechanism as ``1 - prod(1 - p)``, then are
  shared back to each (element, mechanism) in proportion to its ``p`` there;
- the other harms (people confined, losing health care, losing shelter) are figures of their own; in the
  index each place counts once, at its heaviest harm, shared back in proportion to each harm's weight;
- sites struck by explosive means combine like casualties;
- harm by others (reprisals against people the force engages, where attacks were recent) is its own axis.

The index ``H`` (casualty-equivalents) adds expected casualties, sites struck at their weight, the heaviest
other harm of each place and the reprisal risk; each figure is a range (low, central, high).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from planner.access import Access
from planner.effects import EffectsTable, Zone
from planner.geo import distance_xy
from planner.harm.mechanisms import Mechanism, mechanisms_of
from planner.harm.presence import ZERO, Group, Presence, Range, Reason
from planner.layers.model import Flag
from planner.plan import COA
from planner.settings import HarmSettings
from planner.threat import ThreatContext

MECHANISMS = ("blast", "stray_rounds", "rotor_wash", "movement_restriction", "traffic", "drawing_fire")
HARMS = (
    "people_confined",
    "person_hours_confined",
    "people_losing_care",
    "shelters_at_risk",
    "people_losing_shelter",
    "sites_struck",
)
LEVELS = 3  # low, central, high
MAX_SUBSAMPLES = 8  # per side of a cell


@dataclass(frozen=True)
class SiteEffect:
    """What one mechanism of one element does at one site or displacement site."""

    layer: str
    id: str
    name: str
    category: str
    distance_m: float
    people_present: Range
    casualties: Range
    struck: float | None = None  # probability that explosive means strike the site
    shelters: Range | None = None
    losing_care: Range | None = None
    widened_by: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class MechanismFinding:
    """One element's harm through one mechanism, with the people, sites and figures behind it."""

    element: str
    activity: str
    mechanism: str
    casualties: Range
    harms: dict[str, Range]
    people_reached: Range  # people present where the mechanism reaches them
    residents_reached: Range  # of which residents at home (from the population raster)
    sites: list[SiteEffect]
    parameters: dict[str, Any]
    basis: str
    widened_by: tuple[Reason, ...]
    value: Range  # casualty-equivalents counted in the index, after de-duplication


@dataclass(frozen=True)
class ElementThreat:
    """Harm by others near one element: recent reports weighted by age, precision, kind and distance."""

    element: str
    reports: int
    attacks_on_civilians: int
    nearest_m: float | None
    latest: str | None
    weighted: float
    threat: Range  # 0..1: how likely a hostile reaction is here
    people_engaged: Range  # people present in the core of an element that engages the community
    value: Range  # casualty-equivalents of reprisal risk, after de-duplication


@dataclass
class HarmEstimate:
    """The COA's expected harm: casualties, other harms, harm by others, and the index they add up to."""

    casualties: Range
    harms: dict[str, Range]
    index: Range
    mechanisms: list[MechanismFinding]
    by_others: list[ElementThreat]
    threat_known: bool
    home_share: float
    window_hours: float
    widened_by: list[Reason] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    cells: np.ndarray = field(default_factory=lambda: np.zeros(0))  # central index per surface cell (flat)
    # Harm at sites outside the grid the COA was estimated on, by cell of the surface's whole grid
    cells_outside: dict[int, float] = field(default_factory=dict)

    @property
    def others_value(self) -> Range:
        total = ZERO
        for threat in self.by_others:
            total = total + threat.value
        return total


@dataclass
class _GroupReach:
    """One mechanism at one group's samples; the last sample is the site's own point (weight 0 in the spread)."""

    group: int
    p: np.ndarray  # (3, s + 1) probability of casualty
    struck: np.ndarray  # (s + 1,) probability a building there is struck
    intensity: np.ndarray  # (3,) over the group: low, central, high (a rough point's own point is an end)
    core: np.ndarray  # (3,) share of the group in the core
    within: float  # share of the group the mechanism reaches at all
    distance_m: float


@dataclass
class _Reach:
    """One mechanism's probabilities at the cells and groups it reaches."""

    mechanism: Mechanism
    cells: np.ndarray  # flat cell indices
    cell_p: np.ndarray  # (3, n, k * k)
    cell_intensity: np.ndarray  # (n,) mean over each cell
    cell_core: np.ndarray  # (n,) share of each cell in the core
    groups: list[_GroupReach]
    unknown_cells: int  # cells it reaches where the population raster has no data

    @property
    def group_ids(self) -> list[int]:
        return [g.group for g in self.groups]


def estimate_harm(  # noqa: PLR0917  (the assessment's steps, in pipeline order)
    coa: COA,
    zones: list[Zone],
    presence: Presence,
    threats: ThreatContext,
    found_access: Access | None,
    effects: EffectsTable,
    settings: HarmSettings,
) -> HarmEstimate:
    """Expected harm of one COA: see the module's docstring for how the figures add up."""
    threat_known = not any(f.code == "no_data" for f in threats.flags)
    stale_threats = any(f.code == "stale" for f in threats.flags)
    by_element = {z.element: z for z in zones}
    element_threat = {
        z.element: _threat_near(z, threats, settings, known=threat_known, stale=stale_threats) for z in zones
    }
    mechanisms = [
        m
        for element in coa.elements
        for m in mechanisms_of(
            element, by_element[element.id], effects[element.activity], element_threat[element.id][0]
        )
    ]
    # One sampling of the cells for the whole COA, so mechanisms combine sample by sample.
    finest = min((m.fine_m for m in mechanisms if m.fine_m > 0), default=0.0)
    k = 1 if finest <= 0 else int(min(MAX_SUBSAMPLES, max(1, np.ceil(presence.cell_m / finest))))
    reaches = [_evaluate(m, presence, k) for m in mechanisms]
    ncells, ngroups = presence.cell_x.size, len(presence.groups)
    present_cells = _present_cells(presence)
    present_groups = _present_groups(presence)

    cas_cells, own_cells = _combine_cells(reaches, present_cells, ncells)
    cas_groups, own_groups, struck_groups, own_struck = _combine_groups(reaches, presence, present_groups)

    hours = {e.id: e.duration_h or presence.window_hours for e in coa.elements}
    figures = [_other_harms(r, presence, present_cells, present_groups, hours[r.mechanism.element]) for r in reaches]
    care_cells, care_groups = _losing_care(found_access, presence)
    care_owner = _care_owners(found_access, reaches)
    # The other harms each place suffers, as casualty-equivalents: each place counts once, at its heaviest.
    affected: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    for i, (r, fig) in enumerate(zip(reaches, figures, strict=True)):
        if "people_confined" in fig["cells"]:
            w = hours[r.mechanism.element] * settings.confined_person_hour
            affected[(i, "people_confined")] = (
                _spread(fig["cells"]["people_confined"], r.cells, ncells) * w,
                _spread(fig["groups"]["people_confined"], r.group_ids, ngroups) * w,
            )
        if "shelters_at_risk" in fig["cells"]:
            w = settings.shelter_lost
            affected[(i, "people_losing_shelter")] = (
                _spread(fig["cells"]["shelters_at_risk"], r.cells, ncells) * w,
                _spread(fig["groups"]["shelters_at_risk"], r.group_ids, ngroups) * w,
            )
        if i in care_owner:
            w = care_owner[i] * settings.losing_care_hour * hours[r.mechanism.element]
            affected[(i, "people_losing_care")] = (care_cells * w, care_groups * w)
    affected_cells, affected_share_cells = _heaviest({key: v[0] for key, v in affected.items()}, ncells)
    affected_groups, affected_share_groups = _heaviest({key: v[1] for key, v in affected.items()}, ngroups)

    weights = np.array([_site_weight(g, settings) for g in presence.groups])
    struck_value = struck_groups * weights

    # Harm by others: reprisal risk for the people each engaging element meets.
    engaged: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    reprisal: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for z in zones:
        if effects[z.activity].explosive:
            continue  # fire from afar meets nobody
        cells, groups = _core_people(z, presence, present_cells, present_groups)
        level = np.array(element_threat[z.element][0])[:, None] * settings.reprisal
        engaged[z.element] = (cells, groups)
        reprisal[z.element] = (cells * level, groups * level)
    reprisal_cells, reprisal_share_cells = _heaviest({key: v[0] for key, v in reprisal.items()}, ncells)
    reprisal_groups, reprisal_share_groups = _heaviest({key: v[1] for key, v in reprisal.items()}, ngroups)

    index_cells = cas_cells + affected_cells + reprisal_cells
    index_groups = cas_groups + affected_groups + reprisal_groups + struck_value

    findings = []
    for i, (r, fig) in enumerate(zip(reaches, figures, strict=True)):
        m = r.mechanism
        casualties = own_cells[i] + own_groups[i]
        value = casualties.copy()
        for (owner, _), share in affected_share_cells.items():
            if owner == i:
                value += share
        for (owner, _), share in affected_share_groups.items():
            if owner == i:
                value += share
        harms = dict(fig["totals"])
        if i in care_owner:
            harms["people_losing_care"] = _range((care_cells.sum(axis=1) + care_groups.sum(axis=1)) * care_owner[i])
        if m.name == "blast" and i in own_struck:
            value += (own_struck[i] * weights).sum(axis=1)
            harms["sites_struck"] = _range(own_struck[i][:, weights > 0].sum(axis=1))
        cells_reached = (present_cells[:, r.cells] * (r.cell_p[2].max(axis=1) > 0)).sum(axis=1)
        groups_reached = sum((present_groups[:, g.group] * g.within for g in r.groups), np.zeros(LEVELS))
        unknown: tuple[Reason, ...] = (("no_population", m.element),) if r.unknown_cells else ()
        findings.append(
            MechanismFinding(
                element=m.element,
                activity=m.activity,
                mechanism=m.name,
                casualties=_range(casualties),
                harms=harms,
                people_reached=_range(cells_reached + groups_reached),
                residents_reached=_range(cells_reached),
                sites=_site_effects(r, presence, fig, care_groups, care_owner.get(i)),
                parameters=m.parameters,
                basis=m.spec.basis,
                widened_by=m.widened_by + unknown,
                value=_range(value),
            )
        )

    others = []
    for z in zones:
        threat, counts = element_threat[z.element]
        value = reprisal_share_cells.get(z.element, np.zeros(LEVELS)) + reprisal_share_groups.get(
            z.element, np.zeros(LEVELS)
        )
        cells, groups = engaged.get(z.element, (np.zeros((LEVELS, 0)), np.zeros((LEVELS, 0))))
        others.append(
            ElementThreat(
                element=z.element,
                reports=counts["reports"],
                attacks_on_civilians=counts["attacks"],
                nearest_m=counts["nearest_m"],
                latest=counts["latest"],
                weighted=counts["weighted"],
                threat=Range(*threat),
                people_engaged=_range(cells.sum(axis=1) + groups.sum(axis=1)),
                value=_range(value),
            )
        )

    totals: dict[str, Range] = {}
    for f in findings:
        for key, figure in f.harms.items():
            if key != "people_losing_care":
                totals[key] = totals.get(key, ZERO) + figure
    if care_owner:
        totals["people_losing_care"] = _range(care_cells.sum(axis=1) + care_groups.sum(axis=1))
    if any(r.mechanism.name == "blast" for r in reaches):
        totals["sites_struck"] = _range(struck_groups[:, weights > 0].sum(axis=1))
    cells_flat = index_cells[1].copy()
    cells_outside = _place_groups(cells_flat, presence, index_groups[1])
    # Only the people a mechanism actually reaches widen the range (not those merely near its zone).
    reached_groups = sorted({g.group for r in reaches for g in r.groups if g.p[2].max() > 0 or g.core[2] > 0})
    widened = sorted(
        {w for f in findings for w in f.widened_by}
        | set(presence.resident_widened_by)
        | {w for g in reached_groups for w in presence.groups[g].widened_by}
        | ({("threat_unknown", "")} if not threat_known else set())
        | ({("threat_stale", "")} if stale_threats else set())
        | ({("access_unknown", "")} if found_access is None or found_access.health is None else set())
    )
    return HarmEstimate(
        casualties=_range(cas_cells.sum(axis=1) + cas_groups.sum(axis=1)),
        harms={key: totals[key] for key in HARMS if key in totals},
        index=_range(index_cells.sum(axis=1) + index_groups.sum(axis=1)),
        mechanisms=findings,
        by_others=others,
        threat_known=threat_known,
        home_share=presence.home_share,
        window_hours=presence.window_hours,
        widened_by=widened,
        flags=list(presence.flags),
        cells=cells_flat,
        cells_outside=cells_outside,
    )


# --- combining mechanisms ----------------------------------------------------------------------------------------


class _Union:
    """Chances of harm from several mechanisms at the same samples, combined as independent chances.

    Explosive means harm only the people exposed to fragments (a share, not everyone); every other mechanism
    reaches everyone present. A person is harmed unless every mechanism spares them:
    ``1 - (1 - exposed * (1 - prod(1 - p_blast))) * prod(1 - p_other)``.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.blast_spared = np.ones(shape)
        self.other_spared = np.ones(shape)
        self.blast_sum = np.zeros(shape)
        self.other_sum = np.zeros(shape)
        self.exposed = np.zeros(shape[1:])

    def add(self, at: Any, p: np.ndarray, exposed: float | None) -> None:
        if exposed is None:
            self.other_spared[:, at] *= 1.0 - p
            self.other_sum[:, at] += p
        else:
            self.blast_spared[:, at] *= 1.0 - p
            self.blast_sum[:, at] += p
            self.exposed[at] = np.maximum(self.exposed[at], exposed)

    def harmed(self) -> np.ndarray:
        blast = self.exposed * (1.0 - self.blast_spared)
        return 1.0 - (1.0 - blast) * self.other_spared

    def part(self, at: Any, p: np.ndarray, exposed: float | None) -> np.ndarray:
        """The share of ``harmed`` that falls to one mechanism: by its kind's chance, then by its own ``p``."""
        blast = self.exposed[at] * (1.0 - self.blast_spared[:, at])
        other = 1.0 - self.other_spared[:, at]
        harmed = 1.0 - (1.0 - blast) * (1.0 - other)
        if exposed is None:
            return harmed * _ratio(other, blast + other) * _ratio(p, self.other_sum[:, at])
        return harmed * _ratio(blast, blast + other) * _ratio(p, self.blast_sum[:, at])


def _combine_cells(reaches: list[_Reach], present: np.ndarray, ncells: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Casualties per cell (3, ncells) over every mechanism, and each mechanism's share of them (3,)."""
    total = np.zeros((LEVELS, ncells))
    shares = [np.zeros(LEVELS) for _ in reaches]
    reached = [r.cells for r in reaches if r.cells.size]
    if not reached:
        return total, shares
    union = np.unique(np.concatenate(reached))
    samples = next(r.cell_p.shape[2] for r in reaches if r.cells.size)
    chances = _Union((LEVELS, union.size, samples))
    where = [np.searchsorted(union, r.cells) for r in reaches]
    for r, at in zip(reaches, where, strict=True):
        chances.add(at, r.cell_p, r.mechanism.exposed)
    people = present[:, union]
    total[:, union] = people * chances.harmed().mean(axis=2)
    for i, (r, at) in enumerate(zip(reaches, where, strict=True)):
        if r.cells.size:
            part = chances.part(at, r.cell_p, r.mechanism.exposed).mean(axis=2)
            shares[i] = (people[:, at] * part).sum(axis=1)
    return total, shares


def _combine_groups(
    reaches: list[_Reach], presence: Presence, present: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, dict[int, np.ndarray]]:
    """Casualties and strikes per group over every mechanism, and each mechanism's shares of them."""
    ngroups = len(presence.groups)
    casualties, struck = np.zeros((LEVELS, ngroups)), np.zeros((LEVELS, ngroups))
    shares = [np.zeros(LEVELS) for _ in reaches]
    struck_shares: dict[int, np.ndarray] = {
        i: np.zeros((LEVELS, ngroups)) for i, r in enumerate(reaches) if r.mechanism.name == "blast"
    }
    by_group: dict[int, list[tuple[int, _GroupReach]]] = defaultdict(list)
    for i, r in enumerate(reaches):
        for g in r.groups:
            by_group[g.group].append((i, g))
    everywhere = slice(None)
    for index, hits in by_group.items():
        group = presence.groups[index]
        chances = _Union(hits[0][1].p.shape)
        for i, g in hits:
            chances.add(everywhere, g.p, reaches[i].mechanism.exposed)
        harmed = chances.harmed()
        pick = _pick(group, harmed)
        casualties[:, index] = present[:, index] * _aggregate(group, harmed, pick)
        for i, g in hits:
            part = chances.part(everywhere, g.p, reaches[i].mechanism.exposed)
            shares[i] += present[:, index] * _aggregate(group, part, pick)
        blasts = [(i, g) for i, g in hits if i in struck_shares]
        if blasts:
            hit = 1.0 - np.prod([1.0 - g.struck for _, g in blasts], axis=0)
            strikes = _mean(group, hit)
            low = min(reaches[i].mechanism.spec.spread[0] for i, _ in blasts)
            high = max(reaches[i].mechanism.spec.spread[1] for i, _ in blasts)
            struck[:, index] = [strikes * low, strikes, min(strikes * high, 1.0)]
            summed = np.sum([g.struck for _, g in blasts], axis=0)
            for i, g in blasts:
                mine = _mean(group, _ratio(hit * g.struck, summed))
                struck_shares[i][:, index] = struck[:, index] * (mine / strikes if strikes > 0 else 0.0)
    return casualties, shares, struck, struck_shares


def _pick(group: Group, harmed: np.ndarray) -> np.ndarray:
    """For each level, 0 to average over the group's spread, 1 to take its own point (a rough point's ends)."""
    if not group.imprecise:
        return np.zeros(LEVELS, dtype=int)
    spread = (harmed[:, :-1] * group.weight).sum(axis=1)
    point = harmed[:, -1]
    return np.array([int(point[0] < spread[0]), 0, int(point[2] > spread[2])])


def _aggregate(group: Group, values: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Per level (rows of ``values``): the weighted mean over the group's samples, or the value at its point."""
    spread = (values[:, :-1] * group.weight).sum(axis=1)
    return np.where(pick == 1, values[:, -1], spread)


def _mean(group: Group, values: np.ndarray) -> float:
    """The weighted mean of one value per sample over the group's spread."""
    return float((values[:-1] * group.weight).sum())


def _heaviest(values: dict[Any, np.ndarray], size: int) -> tuple[np.ndarray, dict[Any, np.ndarray]]:
    """Per place, the heaviest of several harms (3, size), and each harm's part of it, in proportion to weight."""
    heaviest, summed = np.zeros((LEVELS, size)), np.zeros((LEVELS, size))
    for v in values.values():
        np.maximum(heaviest, v, out=heaviest)
        summed += v
    return heaviest, {key: (heaviest * _ratio(v, summed)).sum(axis=1) for key, v in values.items()}


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, 0.0)


def _range(values: np.ndarray) -> Range:
    low, central, high = (float(v) for v in values)
    # A mechanism's own spread can cross the ends another input set: keep low <= central <= high.
    return Range(min(low, central), central, max(high, central))


def _present_cells(presence: Presence) -> np.ndarray:
    people = np.nan_to_num(presence.present)
    low, high = presence.resident_spread
    return np.vstack([people * low, people, people * high])


def _present_groups(presence: Presence) -> np.ndarray:
    people = [[g.people.low, g.people.central, g.people.high] for g in presence.groups]
    return np.array(people, dtype=float).T.reshape(LEVELS, len(presence.groups))


def _spread(values: np.ndarray, where: np.ndarray | list[int], size: int) -> np.ndarray:
    out = np.zeros((LEVELS, size))
    out[:, where] = values
    return out


# --- one mechanism where people are -------------------------------------------------------------------------


def _evaluate(m: Mechanism, presence: Presence, k: int) -> _Reach:
    """Probabilities of one mechanism at the cells (k x k samples each) and groups within its reach."""
    west, south, east, north = m.zone.geometry.bounds
    reach = m.reach_m
    x, y = presence.cell_x, presence.cell_y
    cells = np.flatnonzero((x >= west - reach) & (x <= east + reach) & (y >= south - reach) & (y <= north + reach))
    near = distance_xy(m.zone.geometry, x[cells], y[cells]) <= reach + presence.cell_m
    cells = cells[near]
    offsets = (np.arange(k) + 0.5) / k * presence.cell_m - presence.cell_m / 2
    ox, oy = (a.ravel() for a in np.meshgrid(offsets, offsets))
    sx = (x[cells][:, None] + ox[None, :]).ravel()
    sy = (y[cells][:, None] + oy[None, :]).ravel()
    d = distance_xy(m.zone.geometry, sx, sy)
    cell_p = np.stack(m.probability(d)).reshape(LEVELS, cells.size, k * k)
    intensity = m.intensity(d).reshape(cells.size, k * k).mean(axis=1)
    core = m.in_core(d).reshape(cells.size, k * k).mean(axis=1)
    groups = []
    near_groups = presence.groups_near((west, south, east, north), reach)
    if near_groups.size:
        # Every candidate group's samples, then its own point, measured in one pass.
        members = [presence.groups[i] for i in near_groups]
        gx = np.concatenate([np.append(g.x, g.point_x) for g in members])
        gy = np.concatenate([np.append(g.y, g.point_y) for g in members])
        ends = np.cumsum([g.x.size + 1 for g in members])
        distances = np.split(distance_xy(m.zone.geometry, gx, gy), ends[:-1])
        for index, g, gd in zip(near_groups, members, distances, strict=True):
            if gd[:-1].min() > reach and (not g.imprecise or gd[-1] > reach):
                continue
            p = np.stack(m.probability(gd))
            single = g.x.size == 1 and g.shape.geom_type == "Point"
            groups.append(
                _GroupReach(
                    group=int(index),
                    p=p,
                    struck=m.damage(gd),
                    intensity=_over(g, m.intensity(gd)),
                    core=_over(g, m.in_core(gd).astype(float)),
                    within=float(((p[2, :-1] > 0) * g.weight).sum()),
                    distance_m=float(gd[-1]) if single else float(shapely.distance(m.zone.geometry, g.shape)),
                )
            )
    return _Reach(
        mechanism=m,
        cells=cells,
        cell_p=cell_p,
        cell_intensity=intensity,
        cell_core=core,
        groups=groups,
        unknown_cells=int((np.isnan(presence.residents[cells]) & (cell_p[2].max(axis=1) > 0)).sum()),
    )


def _over(group: Group, values: np.ndarray) -> np.ndarray:
    """A measure over a group (its samples, then its own point) as low, central, high."""
    mean = float((values[:-1] * group.weight).sum())
    if not group.imprecise:
        return np.array([mean, mean, mean])
    point = float(values[-1])
    return np.array([min(mean, point), mean, max(mean, point)])


def _other_harms(
    r: _Reach, presence: Presence, present_cells: np.ndarray, present_groups: np.ndarray, hours: float
) -> dict[str, Any]:
    """People confined (cordons), shelters and homes at risk (rotor wash), per place and in total."""
    m = r.mechanism
    cells: dict[str, np.ndarray] = {}
    groups: dict[str, np.ndarray] = {}
    totals: dict[str, np.ndarray] = {}
    ids = r.group_ids
    if m.name == "movement_restriction" and m.spec.confines:
        cells["people_confined"] = present_cells[:, r.cells] * r.cell_core
        core = np.array([g.core for g in r.groups]).T.reshape(LEVELS, len(ids))
        groups["people_confined"] = present_groups[:, ids] * core
        confined = cells["people_confined"].sum(axis=1) + groups["people_confined"].sum(axis=1)
        totals["people_confined"] = confined
        totals["person_hours_confined"] = confined * hours
    if m.name == "rotor_wash":
        spec = m.spec
        factor = np.array([spec.spread[0], 1.0, spec.spread[1]])[:, None]
        residents = np.nan_to_num(presence.residents[r.cells])  # homes stand whether or not people are in
        homes = residents * r.cell_intensity * spec.home_damage / spec.people_per_shelter
        cells["shelters_at_risk"] = np.minimum(homes[None, :] * factor, residents / spec.people_per_shelter)
        camp = np.array([presence.groups[i].kind == "displacement" for i in ids], dtype=float)
        intensity = np.array([g.intensity for g in r.groups]).T.reshape(LEVELS, len(ids))
        shelters = present_groups[:, ids] * camp * intensity * spec.shelter_damage / spec.people_per_shelter
        groups["shelters_at_risk"] = np.minimum(shelters * factor, present_groups[:, ids] / spec.people_per_shelter)
        total = cells["shelters_at_risk"].sum(axis=1) + groups["shelters_at_risk"].sum(axis=1)
        totals["shelters_at_risk"] = total
        totals["people_losing_shelter"] = total * spec.people_per_shelter
    return {"cells": cells, "groups": groups, "totals": {key: _range(v) for key, v in totals.items()}}


def _losing_care(found: Access | None, presence: Presence) -> tuple[np.ndarray, np.ndarray]:
    """People who lose health care within the limit during the operation: per cell and per group (3 levels)."""
    ncells, ngroups = presence.cell_x.size, len(presence.groups)
    cells, groups = np.zeros((LEVELS, ncells)), np.zeros((LEVELS, ngroups))
    if found is None or found.health is None:
        return cells, groups
    low, high = presence.resident_spread
    lost = presence.local(found.health.lost_cells)
    cells[:, lost] = np.nan_to_num(presence.residents[lost]) * np.array([low, 1.0, high])[:, None]
    limit = found.health.limit_min
    losing = {
        (p.layer, p.id)
        for p in found.health.sites
        if p.on_network
        and p.before_min is not None
        and p.before_min <= limit
        and (p.during_min is None or p.during_min > limit)
    }
    lost_anywhere = np.asarray(found.health.lost_cells, dtype=int)  # cells of the surface's whole grid
    for i, g in enumerate(presence.groups):
        if g.kind != "displacement":
            continue
        people = np.array([g.people.low, g.people.central, g.people.high])
        if g.imprecise:
            # Where they really are is unknown: the share of their disc whose residents lose care is the
            # central figure; everyone (if the point loses care) or no one are the ends of the range.
            share = float((np.isin(presence.surface_cell(g.x, g.y), lost_anywhere) * g.weight).sum())
            on_point = (g.layer, g.id) in losing
            groups[:, i] = [0.0, people[1] * share, people[2] if on_point or share > 0 else 0.0]
        elif (g.layer, g.id) in losing:
            groups[:, i] = people
    return cells, groups


def _place_groups(cells: np.ndarray, presence: Presence, values: np.ndarray) -> dict[int, float]:
    """Add each group's harm to the cell of its own point, so the map shows it where the layer puts it; the
    harm of groups outside this COA's window is returned by their cell on the surface's whole grid."""
    if not presence.groups or cells.size == 0:
        return {}
    x = np.array([g.point_x for g in presence.groups])
    y = np.array([g.point_y for g in presence.groups])
    on_surface = presence.surface_cell(x, y)
    local, inside = presence.local_mask(on_surface)
    np.add.at(cells, local[inside], values[inside])
    outside: dict[int, float] = {}
    for cell, value in zip(on_surface[~inside], values[~inside], strict=True):
        if value:
            outside[int(cell)] = outside.get(int(cell), 0.0) + float(value)
    return outside


def _care_owners(found: Access | None, reaches: list[_Reach]) -> dict[int, float]:
    """Which mechanisms carry the access lost: those of the elements that close roads, by pieces closed."""
    if found is None or not found.closures:
        return {}
    pieces: dict[str, int] = defaultdict(int)
    for closure in found.closures:
        pieces[closure.element] += 1
    total = sum(pieces.values())
    owners: dict[int, float] = {}
    for element, count in pieces.items():
        mine = [i for i, r in enumerate(reaches) if r.mechanism.element == element]
        restricting = [i for i in mine if reaches[i].mechanism.name == "movement_restriction"]
        if restricting or mine:
            index = (restricting or mine)[0]
            owners[index] = owners.get(index, 0.0) + count / total
    return owners


def _site_weight(group: Group, settings: HarmSettings) -> float:
    """Casualty-equivalents of a site struck: the services people lose (less where it no longer works)."""
    if group.kind != "site":
        return 0.0
    weight = settings.site_damage.get(group.category, settings.site_damage.get("other", 0.0))
    return weight * (0.2 if group.functional is False else 1.0)


def _core_people(
    zone: Zone, presence: Presence, present_cells: np.ndarray, present_groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """People present in an element's core zone (3 levels), per cell and per group."""
    ncells, ngroups = presence.cell_x.size, len(presence.groups)
    cells, groups = np.zeros((LEVELS, ncells)), np.zeros((LEVELS, ngroups))
    if zone.core.is_empty:
        return cells, groups
    west, south, east, north = zone.core.bounds
    x, y = presence.cell_x, presence.cell_y
    near = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
    # In the core or on its edge: a predicate, not a distance (GEOS's prepared test is many times cheaper)
    shapely.prepare(zone.core)
    inside = near[shapely.intersects_xy(zone.core, x[near], y[near])]
    cells[:, inside] = present_cells[:, inside]
    for i in presence.groups_near((west, south, east, north), 0.0):
        g = presence.groups[i]
        hit = shapely.intersects_xy(zone.core, np.append(g.x, g.point_x), np.append(g.y, g.point_y))
        groups[:, i] = present_groups[:, i] * _over(g, hit.astype(float))
    return cells, groups


def _threat_near(
    zone: Zone, threats: ThreatContext, settings: HarmSettings, *, known: bool, stale: bool
) -> tuple[tuple[float, float, float], dict[str, Any]]:
    """How hostile the surroundings of one element are (0..1, as a range), from reports weighted by distance."""
    reports = threats.reports
    if reports:
        d = distance_xy(zone.geometry, np.array([r.x for r in reports]), np.array([r.y for r in reports]))
        weighted = float((np.array([r.weight for r in reports]) * 0.5 ** (d / settings.threat_half_m)).sum())
        attacks = sum(r.kind in ("attack_on_civilians", "sexual_violence") for r in reports)
        nearest: float | None = float(d.min())
        latest: str | None = max(r.date for r in reports)
    else:
        weighted, attacks, nearest, latest = 0.0, 0, None, None
    level = 1.0 - float(np.exp(-weighted / settings.threat_full))
    if not known:
        threat = (0.0, settings.unknown_threat, 1.0)
    elif stale:
        threat = (level, level, 1.0)
    else:
        threat = (level, level, level)
    counts = {"reports": len(reports), "attacks": attacks, "nearest_m": nearest, "latest": latest, "weighted": weighted}
    return threat, counts


def _site_effects(
    r: _Reach, presence: Presence, figures: dict[str, Any], care_groups: np.ndarray, care_share: float | None
) -> list[SiteEffect]:
    """The sites this mechanism reaches, with what it alone would do at each (most harmed first)."""
    effects = []
    shelters = figures["groups"].get("shelters_at_risk")
    for j, reach in enumerate(r.groups):
        g = presence.groups[reach.group]
        people = np.array([g.people.low, g.people.central, g.people.high])
        exposed = r.mechanism.exposed
        harmed = _aggregate(g, reach.p, _pick(g, reach.p)) * people * (1.0 if exposed is None else exposed)
        effects.append(
            SiteEffect(
                layer=g.layer,
                id=g.id,
                name=g.label,
                category=g.category,
                distance_m=reach.distance_m,
                people_present=g.people,
                casualties=_range(harmed),
                struck=_mean(g, reach.struck) if r.mechanism.name == "blast" and g.kind == "site" else None,
                shelters=_range(shelters[:, j]) if shelters is not None else None,
                losing_care=_range(care_groups[:, reach.group] * care_share) if care_share else None,
                widened_by=g.widened_by,
            )
        )
    return sorted(effects, key=lambda e: (-e.casualties.central, -(e.struck or 0.0), e.distance_m, e.id))
