"""Predicted against observed: where harm fell after an operation, beside what the estimate made before it said.

For one recorded assessment, each harm record is placed against the zones of the COA it followed (the core of
an element, its outer zone, or outside every zone, with the nearest element), beside the estimate's casualties
for that element and mechanism and the checklist items raised for that element, with their review status.
Over many operations, the calibration table counts by mechanism how often harm fell where the estimate said it
could, and the casualties observed against those predicted there: a mission reads from it whether its effects
table and thresholds are too tight (harm outside the zones, more casualties than predicted) or too loose.

Everything is read from the recorded results (zones are drawn again from the element geometry each result
keeps), so an old assessment is placed as it was signed, whatever the layers are now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import shapely
import shapely.geometry
from pyproj import CRS

from planner.effects import Zone, zone_from
from planner.geo import transformer
from planner.past_harm import WGS84, place
from planner.vocabulary import record_key

ZONE_CLASSES = ("core", "outer", "outside")


@dataclass(frozen=True)
class ItemState:
    key: str
    rule: str
    title: str
    status: str
    addressed: bool


@dataclass(frozen=True)
class Observation:
    """One harm record against the estimate of the assessment it followed."""

    harm: str
    assessment: str
    coa: str
    mechanism: str
    zone: str  # core | outer | outside: where it fell against the COA's zones
    element: str  # the element whose zone it fell in (core first), or the nearest one
    distance_m: float  # to that element's outer zone (0 inside)
    observed: tuple[int, int]  # people killed or injured: low, high
    # The estimate's casualties for that element and mechanism (low, central, high); None when the estimate
    # gave that element no such mechanism (the harm came by a way the estimate did not foresee there).
    predicted: tuple[float, float, float] | None
    items: tuple[ItemState, ...]  # the checklist items raised for that element, as reviewed

    def to_dict(self) -> dict[str, Any]:
        return {
            "harm": self.harm,
            "assessment": self.assessment,
            "coa": self.coa,
            "mechanism": self.mechanism,
            "zone": self.zone,
            "element": self.element,
            "distance_m": round(self.distance_m, 1),
            "observed": list(self.observed),
            "predicted": None if self.predicted is None else [round(v, 3) for v in self.predicted],
            "items": [asdict(item) for item in self.items],
        }


def zones_of(result: dict[str, Any], coa: str) -> list[Zone]:
    """The zones of a COA drawn again from a recorded result (element geometry, shape and radii)."""
    crs = CRS.from_user_input(result["working_crs"])
    chosen = next(c for c in result["coas"] if c["id"] == coa)
    return [
        zone_from(
            e["id"],
            e["activity"],
            shapely.geometry.shape(e["geometry"]),
            area=e["shape"] == "area",
            radii=(e["core_m"], e["outer_m"]),
            crs=crs,
            profile="linear",  # placing a point needs the zones' extent only, not how effects fall across them
            radii_from=e["radii_from"],
        )
        for e in chosen["elements"]
    ]


def observe(
    assessment_id: str, result: dict[str, Any], status: dict[str, Any], harms: list[dict[str, Any]]
) -> list[Observation]:
    """Each harm record of ``harms`` (those that followed ``assessment_id``) against its estimate."""
    crs = CRS.from_user_input(result["working_crs"])
    to_crs = transformer(WGS84, crs)
    statuses = {item["key"]: item["status"] for item in status["items"]}
    found = []
    for harm in harms:
        zones = zones_of(result, harm["coa"])
        x, y = to_crs.transform(*harm["position"])
        placed = place(shapely.Point(x, y), zones)
        coa = next(c for c in result["coas"] if c["id"] == harm["coa"])
        found.append(
            Observation(
                harm=harm["id"],
                assessment=assessment_id,
                coa=harm["coa"],
                mechanism=harm["mechanism"],
                zone=placed.zone,
                element=placed.element,
                distance_m=placed.distance_m,
                observed=(harm["deaths"][0] + harm["injuries"][0], harm["deaths"][1] + harm["injuries"][1]),
                predicted=_predicted(coa, placed.element, harm["mechanism"]),
                items=_items(coa, placed.element, statuses),
            )
        )
    return found


def _predicted(coa: dict[str, Any], element: str, mechanism: str) -> tuple[float, float, float] | None:
    for found in coa["risk"]["mechanisms"]:
        if found["element"] == element and found["mechanism"] == mechanism:
            c = found["casualties"]
            return (float(c["low"]), float(c["central"]), float(c["high"]))
    return None


def _items(coa: dict[str, Any], element: str, statuses: dict[str, str]) -> tuple[ItemState, ...]:
    """The items whose evidence names the element, with the status their review left them in."""
    raised = []
    for item in coa["checklist"]["items"]:
        if not any(e["data"].get("element") == element for e in item["evidence"]):
            continue
        key = record_key(coa["id"], item)
        status = statuses.get(key, "open")
        raised.append(ItemState(key, item["id"], item["title"], status, status == "addressed"))
    return tuple(raised)


@dataclass(frozen=True)
class CalibrationRow:
    """Harm of one mechanism over every operation recorded: where it fell and what was predicted there."""

    mechanism: str
    incidents: int
    core: int
    outer: int
    outside: int
    unforeseen: int  # fell where the estimate gave that element no such mechanism
    observed: tuple[int, int]  # people killed or injured, summed: low, high
    predicted: tuple[float, float, float]  # the estimate's casualties where they fell, summed

    @property
    def within_zones(self) -> float:
        """The share of incidents that fell inside a zone: near 1 when the zones hold the harm."""
        return (self.core + self.outer) / self.incidents if self.incidents else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mechanism": self.mechanism,
            "incidents": self.incidents,
            "core": self.core,
            "outer": self.outer,
            "outside": self.outside,
            "unforeseen": self.unforeseen,
            "within_zones": round(self.within_zones, 3),
            "observed": list(self.observed),
            "predicted": [round(v, 3) for v in self.predicted],
        }


def calibration(observations: list[Observation]) -> list[CalibrationRow]:
    """One row per mechanism (alphabetical), then ``all``: counts by zone class and casualties."""
    by_mechanism: dict[str, list[Observation]] = {}
    for seen in observations:
        by_mechanism.setdefault(seen.mechanism, []).append(seen)
    rows = [_row(name, by_mechanism[name]) for name in sorted(by_mechanism)]
    return [*rows, _row("all", observations)] if observations else []


def _row(mechanism: str, seen: list[Observation]) -> CalibrationRow:
    zones = {name: sum(1 for s in seen if s.zone == name) for name in ZONE_CLASSES}
    predicted = [s.predicted for s in seen if s.predicted is not None]
    return CalibrationRow(
        mechanism=mechanism,
        incidents=len(seen),
        core=zones["core"],
        outer=zones["outer"],
        outside=zones["outside"],
        unforeseen=sum(1 for s in seen if s.predicted is None),
        observed=(sum(s.observed[0] for s in seen), sum(s.observed[1] for s in seen)),
        predicted=(sum(p[0] for p in predicted), sum(p[1] for p in predicted), sum(p[2] for p in predicted)),
    )
