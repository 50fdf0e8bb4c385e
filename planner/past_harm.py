"""What this force's past harm tells the next assessment.

The record's harm tracking (``planner.record.harm``) hands the assessment plain ``PastHarm`` entries: where and
when harm was observed after earlier operations, how far its review went, whether amends are still owed, and
the lessons its assessment recorded. The checklist raises P30 for those near a new footprint and P42 for
amends still owed there, and shows each lesson beside the rule or activity it was recorded against. Nothing
here reads the record: the same entries, kept in the result, rebuild a recorded assessment exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from planner.effects import Zone
from planner.geo import transformer

WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Lesson:
    harm_id: str
    about: str  # a checklist rule id (P40) or an activity id (mortar_81mm); "" for the incident in general
    text: str
    mitigations: str = ""


@dataclass(frozen=True)
class PastHarm:
    """One harm record, as far as a plan needs it (never the witness's or reporter's names)."""

    id: str
    at: str  # when, as recorded (a time with its zone, or a date)
    lon: float
    lat: float
    precision_m: float
    kinds: tuple[str, ...]  # deaths, injuries, damage, displacement, detention, movement_restriction
    deaths: tuple[int, int]
    injuries: tuple[int, int]
    mechanism: str
    means: str
    step: str  # the latest step of its review: intake, initial_review, assessment, decision, response
    status: str  # that step's conclusion ("recorded" at intake)
    community: str = ""
    attributed_to: str = ""  # "" for this force; a partner force's unit otherwise
    owed: str = ""  # "amends" or "condolence" decided and not yet paid, accepted or declined; "" otherwise
    owed_response: str = ""  # the latest response to what is owed ("" when none yet)
    lessons: tuple[Lesson, ...] = field(default_factory=tuple)

    @property
    def day(self) -> str:
        return self.at[:10]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PastHarm:
        return cls(
            **{
                **data,
                "kinds": tuple(data["kinds"]),
                "deaths": tuple(data["deaths"]),
                "injuries": tuple(data["injuries"]),
                "lessons": tuple(Lesson(**lesson) for lesson in data["lessons"]),
            }
        )


@dataclass(frozen=True)
class Support:
    """Support registered to a partner force (HRDDP), as far as the next plan with that partner needs it."""

    id: str
    partner: str
    unit: str
    kind: str  # fire_support, joint_operation, logistics, transport, detainee_handover
    starts: str  # the support's first day: threat reports naming the unit from then on are findings
    due: str  # the next follow-up review's date ("" when none is due)
    findings: tuple[str, ...] = ()  # open findings against the unit: reviewers' notes, harm records attributed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HarmHistory:
    """This force's harm records and its support register as an assessment read them, and from where (a
    record's address, password hidden)."""

    source: str = ""  # "" when no record was in use: past harm is then unknown, not none
    records: tuple[PastHarm, ...] = ()
    support: tuple[Support, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source or None,
            "records": [h.to_dict() for h in self.records],
            "support": [s.to_dict() for s in self.support],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> HarmHistory:
        if not data:
            return cls()
        return cls(
            data["source"] or "",
            tuple(PastHarm.from_dict(h) for h in data["records"]),
            tuple(Support(**{**s, "findings": tuple(s["findings"])}) for s in data.get("support", [])),
        )


@dataclass(frozen=True)
class NearHarm:
    harm: PastHarm
    x: float  # working CRS
    y: float
    distance_m: float  # to the nearest outer zone of the COA (0 inside)
    zone: str  # core | outer | outside: where it fell against this COA's zones
    element: str  # the element whose zone it fell in, or the nearest element


def near_footprint(past: list[PastHarm], zones: list[Zone], crs: CRS, distance_m: float) -> list[NearHarm]:
    """The harm records within ``distance_m`` of the COA's outer zones, nearest first."""
    if not past or not zones:
        return []
    x, y = transformer(WGS84, crs).transform([h.lon for h in past], [h.lat for h in past])
    points = shapely.points(np.asarray(x), np.asarray(y))
    found = []
    for harm, point, px, py in zip(past, points, x, y, strict=True):
        placed = place(point, zones)
        if placed.distance_m <= distance_m:
            found.append(NearHarm(harm, float(px), float(py), placed.distance_m, placed.zone, placed.element))
    return sorted(found, key=lambda n: (n.distance_m, n.harm.id))


@dataclass(frozen=True)
class Placement:
    zone: str  # core | outer | outside
    element: str
    distance_m: float  # to the element's outer zone (0 inside)


def place(point: shapely.Point, zones: list[Zone]) -> Placement:
    """Where a point fell against the zones: the core of an element first, then its outer zone, else outside
    every zone (with the nearest element)."""
    for name in ("core", "outer"):
        for zone in zones:
            area = getattr(zone, name)
            if not area.is_empty and area.covers(point):
                return Placement(name, zone.element, 0.0)
    distances = [zone.outer.distance(point) for zone in zones]
    nearest = int(np.argmin(distances))
    return Placement("outside", zones[nearest].element, float(distances[nearest]))
