"""What an assessment gives the outside world, as plain tables and grids: the content of every export and brief.

``bundle(assessment, redaction)`` builds named layers (EPSG:4326 GeoDataFrames), the checklist as a table,
and the risk surface's bands; the writers in ``planner/export.py`` and the brief only format them. Every
field that could identify a source, and every report position, passes through the ``Redaction`` here, so
one function decides what travels and every format carries the same.

Layers:

=================  ===========================================================================================
``zones``          core and outer zone of every element, per COA, with the people and displaced people in it
``sites``          sites and displacement sites in a zone, per COA, with the precautions that name them
``risk_cells``     surface cells where any COA scores above zero: each COA's score and the cell's components
``threat_reports`` reports that count for a COA (positions coarsened as the redaction says)
``closures``       roads the operation closes, per COA, and whether each is a sole link or a bridge
``harm_records``   harm recorded after the operation, where it fell against the zones and the estimate there
                   (positions coarsened as the redaction says; witness and reporter only when cleared)
=================  ===========================================================================================

With them, the tables ``checklist`` and ``support`` (support given to partner forces under the plan, HRDDP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.warp import Resampling, reproject

from planner.assess import Assessment
from planner.checklist import render
from planner.geo import transformer
from planner.observed import Observation
from planner.record import Record, User
from planner.record.harm import HarmLog
from planner.record.support import SupportRegister
from planner.redaction import Redaction, policy
from planner.settings import RedactionSettings
from planner.vocabulary import HARM_SENSITIVE, record_key
from planner.words import words

LAYERS = ("zones", "sites", "risk_cells", "threat_reports", "closures", "harm_records")
WGS84 = "EPSG:4326"

SUPPORT_COLUMNS = [
    "support_id",
    "partner",
    "unit",
    "support_kind",
    "starts",
    "ends",
    "conditions",
    "mitigations",
    "follow_up_due",
    "next_due",
    "open_findings",
    "follow_ups",
    "registered_by",
    "registered_at",
]


@dataclass
class Bands:
    """The risk surface as grids: one band per COA score, then the cell's components (north-up, working CRS)."""

    names: list[str]
    arrays: np.ndarray  # (bands, rows, cols) float32, NaN where unknown
    transform: Affine
    crs: str
    cell_m: float


@dataclass
class Bundle:
    """Everything an output of one assessment carries, already redacted."""

    title: str
    assessment_id: str | None
    fictional: bool
    layers: dict[str, gpd.GeoDataFrame]
    checklist: pd.DataFrame
    bands: Bands
    statement: list[str]
    lang: str
    review: dict[str, Any] | None = None  # the record's status (items, sign-off) when recorded
    # Conditions of the area around the footprints, not of the operation: each once, with the COAs showing it
    context: list[dict[str, Any]] = field(default_factory=list)
    support: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SUPPORT_COLUMNS))
    sensitive_fields: list[str] = field(default_factory=list)  # every sensitive field of what it could carry

    @property
    def heading(self) -> list[str]:
        """The lines every output starts with: what it is, and what was redacted."""
        w = words(self.lang)
        what = f"Primum · {w['assessment']} {self.assessment_id or '(' + w['not_recorded'] + ')'}"
        lines = [f"{what}: {self.title}"]
        if self.fictional:
            lines.append(f"{w['fictional']}.")
        return lines + self.statement


def column_descriptions(found: Bundle) -> pd.DataFrame:
    """What each column of each exported table holds, in the bundle's language: one row per layer and column,
    written beside the data so a GIS officer or a spreadsheet reader need not guess."""
    said = words(found.lang)["columns"]
    tables: dict[str, list[str]] = {name: list(frame.columns) for name, frame in found.layers.items()}
    tables["checklist"] = list(found.checklist.columns)
    tables["support"] = list(found.support.columns)
    for name in ("sites", "threat_reports", "harm_records"):  # the CSV export adds the point's degrees
        tables[name] += ["longitude", "latitude"]
    rows = []
    for table, columns in tables.items():
        for column in columns:
            if column == "geometry":
                continue
            rows.append({"layer": table, "column": column, "description": _described(column, found, said)})
    return pd.DataFrame(rows, columns=["layer", "column", "description"])


def _described(column: str, found: Bundle, said: dict[str, str]) -> str:
    if column in said:
        return said[column]
    if column.startswith("score_"):
        return said["score_coa"].format(coa=column.removeprefix("score_"))
    layers = sorted(set(found.layers["threat_reports"].get("layer", [])), key=len, reverse=True)
    layer = next((name for name in layers if column.startswith(f"{name}_")), None)
    if layer is not None:  # a sensitive field a cleared export carries, named after its layer
        return said["sensitive"].format(field=column.removeprefix(f"{layer}_"), layer=layer)
    raise KeyError(f"no description of the exported column '{column}' in planner/words.yaml (columns)")


def bundle(
    assessment: Assessment,
    redaction: Redaction,
    *,
    lang: str = "en",
    assessment_id: str | None = None,
    review: dict[str, Any] | None = None,
    harm: list[dict[str, Any]] | None = None,
    observed: list[Observation] | None = None,
    support: list[dict[str, Any]] | None = None,
) -> Bundle:
    """The content of every output of ``assessment``, redacted as ``redaction`` says.

    ``harm`` is the harm recorded after it (as ``HarmLog.records`` gives it, sensitive names only when the
    redaction carries them), ``observed`` where each fell, ``support`` the support registered under its plan.
    """
    rendered = {
        r.coa.id: render(r.checklist, assessment.catalogue, lang, r.coa.id, coarsen_m=redaction.coarsen_m)
        for r in assessment.coas
    }
    bands = surface_bands(assessment, redaction)
    layers = {
        "zones": _zones(assessment),
        "sites": _sites(assessment, redaction, rendered),
        "risk_cells": _cells(bands),
        "threat_reports": _reports(assessment, redaction),
        "closures": _closures(assessment),
        "harm_records": harm_frame(assessment.crs, redaction, harm or [], observed or []),
    }
    sensitive = redaction.fields(assessment.layerset) + [f"harm_records.{name}" for name in HARM_SENSITIVE if harm]
    return Bundle(
        title=assessment.plan.name,
        assessment_id=assessment_id,
        fictional=assessment.plan.fictional or assessment.layerset.fictional,
        layers=layers,
        checklist=checklist_table(rendered, review),
        bands=bands,
        statement=redaction.statement(assessment.layerset, lang, harm=bool(harm)),
        lang=lang,
        review=review,
        context=_context(rendered),
        support=_support(support or []),
        sensitive_fields=sensitive,
    )


HARM_COLUMNS = [
    "harm_id",
    "coa",
    "element",
    "occurred_at",
    "occurred_until",
    "time_precision",
    "position",
    "position_precision_m",
    "deaths_low",
    "deaths_high",
    "injuries_low",
    "injuries_high",
    "damage",
    "displaced_low",
    "displaced_high",
    "detained_low",
    "detained_high",
    "movement_restriction",
    "mechanism",
    "means",
    "source_origin",
    "source_confidence",
    "community",
    "attributed_to",
    "what_happened",
    "harm_stage",
    "harm_status",
    "amends_open",
    "placed_zone",
    "placed_element",
    "placed_distance_m",
    "predicted_low",
    "predicted_central",
    "predicted_high",
    "recorded_by",
    "recorded_at",
]


def harm_frame(
    crs: str, redaction: Redaction, harm: list[dict[str, Any]], observed: list[Observation]
) -> gpd.GeoDataFrame:
    """Harm recorded after an operation: one point each, coarsened like threat reports on the grid of the
    assessment's working CRS ``crs``, with where it fell against the zones and what was estimated there."""
    placed = {o.harm: o for o in observed}
    rows = []
    for h in harm:
        seen = placed.get(h["id"])
        row = {
            "harm_id": h["id"],
            "coa": h["coa"],
            "element": h["element"] or None,
            "occurred_at": h["at"],
            "occurred_until": h["until"] or None,
            "time_precision": h["time_precision"],
            "position": f"centre of a {redaction.coarsen_m / 1000:g} km cell" if redaction.coarsen_m else "exact",
            "position_precision_m": max(h["position_precision_m"], (redaction.coarsen_m or 0) / 2),
            "deaths_low": h["deaths"][0],
            "deaths_high": h["deaths"][1],
            "injuries_low": h["injuries"][0],
            "injuries_high": h["injuries"][1],
            "damage": h["damage"] or None,
            "displaced_low": h["displaced"][0],
            "displaced_high": h["displaced"][1],
            "detained_low": h["detained"][0],
            "detained_high": h["detained"][1],
            "movement_restriction": h["movement_restriction"] or None,
            "mechanism": h["mechanism"],
            "means": h["means"] or None,
            "source_origin": h["origin"],
            "source_confidence": h["confidence"],
            "community": h["community"] or None,
            "attributed_to": h["attributed_to"] or None,
            "what_happened": h["description"] or None,
            "harm_stage": h["stage"],
            "harm_status": h["status"],
            "amends_open": h["amends_open"],
            "placed_zone": seen.zone if seen else None,
            "placed_element": seen.element if seen else None,
            "placed_distance_m": redaction.distance(round(seen.distance_m, 1)) if seen else None,
            "predicted_low": seen.predicted[0] if seen and seen.predicted else None,
            "predicted_central": seen.predicted[1] if seen and seen.predicted else None,
            "predicted_high": seen.predicted[2] if seen and seen.predicted else None,
            "recorded_by": h["recorded_by"],
            "recorded_at": h["recorded_at"],
        }
        row |= {name: h[name] or None for name in HARM_SENSITIVE if name in h}  # only when cleared and asked
        rows.append(row)
    if not rows:
        return _frame([], [], HARM_COLUMNS)
    to_crs = transformer(CRS.from_epsg(4326), CRS.from_user_input(crs))
    xs, ys = to_crs.transform([h["position"][0] for h in harm], [h["position"][1] for h in harm])
    xs, ys = redaction.points(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    extra = sorted({k for row in rows for k in row} - set(HARM_COLUMNS))
    return _frame(rows, _to_wgs84(list(shapely.points(xs, ys)), crs), HARM_COLUMNS + extra)


@dataclass
class HarmRegister:
    """The harm-tracking cell's export: harm records of one assessment or of all, with the support register,
    already redacted; written by ``export.export_register``."""

    records: gpd.GeoDataFrame
    support: pd.DataFrame
    heading: list[str]
    lang: str

    def described(self) -> pd.DataFrame:
        said = words(self.lang)["columns"]
        tables = {"harm_records": list(self.records.columns), "support": list(self.support.columns)}
        tables["harm_records"] += ["longitude", "latitude"]
        rows = [
            {"layer": table, "column": column, "description": said[column]}
            for table, columns in tables.items()
            for column in columns
            if column != "geometry"
        ]
        return pd.DataFrame(rows, columns=["layer", "column", "description"])


def harm_register(
    store: Record, redaction: Redaction, *, assessment_id: str | None = None, lang: str = "en"
) -> HarmRegister:
    """Every harm record (of ``assessment_id`` when given) placed against the assessment it followed, and the
    support register, redacted as ``redaction`` says; read from the recorded results, no layer is re-read."""
    words(lang)  # an unknown language is refused before the work
    log = HarmLog(store)
    records = log.records(assessment_id, sensitive=redaction.sensitive)
    frames = []
    for ident in dict.fromkeys(h["assessment"] for h in records):
        crs = store.assessment_result(ident)["working_crs"]
        mine = [h for h in records if h["assessment"] == ident]
        frame = harm_frame(crs, redaction, mine, log.observed(ident))
        frame.insert(0, "assessment", ident)
        frames.append(frame)
    empty = harm_frame("EPSG:4326", redaction, [], [])
    empty.insert(0, "assessment", pd.Series(dtype=str))
    found = pd.concat(frames, ignore_index=True) if frames else empty
    entries = SupportRegister(store).entries()
    if assessment_id is not None:
        entries = [e for e in entries if e["assessment"] == assessment_id]
    w = words(lang)
    what = f"{w['harm_tracking']['register_title']}: {assessment_id or w['harm_tracking']['every_operation']}"
    return HarmRegister(
        gpd.GeoDataFrame(found, geometry="geometry", crs=WGS84),
        _support(entries),
        [f"Primum · {what}", *redaction.statement(None, lang, harm=bool(records))],
        lang,
    )


def _support(entries: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "support_id": e["id"],
            "partner": e["partner"],
            "unit": e["unit"] or None,
            "support_kind": e["kind"],
            "starts": e["starts"],
            "ends": e["ends"],
            "conditions": e["conditions"] or None,
            "mitigations": e["mitigations"] or None,
            "follow_up_due": e["follow_up_due"],
            "next_due": e["due"] or None,
            "open_findings": "; ".join(e["open_findings"]) or None,
            "follow_ups": len(e["reviews"]),
            "registered_by": e["registered_by"],
            "registered_at": e["registered_at"],
        }
        for e in entries
    ]
    return pd.DataFrame(rows, columns=SUPPORT_COLUMNS)


def _context(rendered: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    lines: dict[str, dict[str, Any]] = {}
    for coa, checklist in rendered.items():
        for item in checklist["context"]:
            for evidence in item["evidence"]:
                line = lines.setdefault(
                    evidence["text"], {"title": item["title"], "text": evidence["text"], "coas": []}
                )
                line["coas"].append(coa)
    return list(lines.values())


def from_record(
    store: Record,
    assessment_id: str,
    settings: RedactionSettings,
    *,
    user: User | None = None,
    include_sensitive: bool = False,
    coarsen_km: float | None = None,
    lang: str = "en",
) -> tuple[Assessment, Bundle, Redaction]:
    """A recorded assessment rebuilt, with its review status, ready for a brief or an export."""
    redaction = policy(user, settings, include_sensitive=include_sensitive, coarsen_km=coarsen_km)
    words(lang)  # an unknown language is refused before the work
    assessment = store.reassess(assessment_id)
    found = recorded_bundle(store, assessment_id, assessment, redaction, lang=lang)
    return assessment, found, redaction


def recorded_bundle(
    store: Record, assessment_id: str, assessment: Assessment, redaction: Redaction, *, lang: str = "en"
) -> Bundle:
    """The bundle of a recorded assessment with what the record holds about it: its review, the harm recorded
    after it (sensitive names only when the redaction carries them) and the support registered under it."""
    log = HarmLog(store)
    return bundle(
        assessment,
        redaction,
        lang=lang,
        assessment_id=assessment_id,
        review=store.status(assessment_id),
        harm=log.records(assessment_id, sensitive=redaction.sensitive),
        observed=log.observed(assessment_id),
        support=[e for e in SupportRegister(store).entries() if e["assessment"] == assessment_id],
    )


def _frame(rows: list[dict[str, Any]], geometries: list[Any], columns: list[str]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs=WGS84), crs=WGS84)


def _to_wgs84(geometries: list[Any], crs: str) -> list[Any]:
    return list(gpd.GeoSeries(geometries, crs=crs).to_crs(WGS84)) if geometries else []


def _zones(assessment: Assessment) -> gpd.GeoDataFrame:
    rows, shapes = [], []
    for result in assessment.coas:
        for zone in result.zones:
            figures = result.exposure.by_element[zone.element]
            for name, shape, radius in (("core", zone.core, zone.core_m), ("outer", zone.outer, zone.outer_m)):
                rows.append(
                    {
                        "coa": result.coa.id,
                        "coa_name": result.coa.name,
                        "element": zone.element,
                        "activity": zone.activity,
                        "activity_label": assessment.effects[zone.activity].label,
                        "zone": name,
                        "radius_m": radius,
                        "radii_from": zone.radii_from,
                        "people": figures[name].people,
                        "displaced": figures[name].displaced,
                        "coa_risk_level": result.risk.level,
                        "coa_score": result.risk.score,
                    }
                )
                shapes.append(shape)
    columns = list(rows[0]) if rows else ["coa", "element", "zone"]
    return _frame(rows, _to_wgs84(shapes, assessment.crs), columns)


def _sites(assessment: Assessment, redaction: Redaction, rendered: dict[str, dict[str, Any]]) -> gpd.GeoDataFrame:
    columns = [
        "coa",
        "layer",
        "site_id",
        "name",
        "category",
        "subtype",
        "zone",
        "element",
        "distance_m",
        "intensity",
        "functional",
        "population",
        "source_row",
        "precautions",
    ]
    rows, shapes = [], []
    for result in assessment.coas:
        named: dict[tuple[str, int], list[str]] = {}
        for item in rendered[result.coa.id]["items"]:
            for evidence in item["evidence"]:
                data = evidence["data"]
                if "layer" in data and "row" in data:
                    named.setdefault((data["layer"], data["row"]), []).append(item["id"])
        for hit in result.exposure.sites:
            row = {
                "coa": result.coa.id,
                "layer": hit.layer,
                "site_id": hit.id,
                "name": hit.name if isinstance(hit.name, str) else None,
                "category": hit.category,
                "subtype": hit.subtype if isinstance(hit.subtype, str) else None,
                "zone": hit.zone,
                "element": hit.element,
                "distance_m": round(hit.distance_m, 1),
                "intensity": round(hit.intensity, 4),
                "functional": hit.functional,
                "population": hit.population,
                "source_row": hit.source_row,
                "precautions": ", ".join(dict.fromkeys(named.get((hit.layer, hit.source_row), []))),
            }
            row |= _sensitive_values(assessment, redaction, hit.layer, "source_row", hit.source_row)
            rows.append(row)
            shapes.append(hit.geometry)
    extra = sorted({k for row in rows for k in row} - set(columns))
    return _frame(rows, shapes, columns + extra)


def _sensitive_values(assessment: Assessment, redaction: Redaction, layer_id: str, key: str, value: Any) -> dict:
    """The sensitive fields of one layer row, when this output may carry them; else nothing."""
    layer = assessment.layerset.layers.get(layer_id)
    allowed = redaction.columns(layer.sensitive) if layer is not None else []
    if not allowed:
        return {}
    frame = layer.frame  # type: ignore[union-attr]
    match = frame[frame[key] == value]
    if match.empty:
        return {}
    return {f"{layer_id}_{c}": _value(match.iloc[0][c]) for c in allowed if c in frame.columns}


def _value(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _reports(assessment: Assessment, redaction: Redaction) -> gpd.GeoDataFrame:
    columns = [
        "layer",
        "event_id",
        "date",
        "kind",
        "coas",
        "distance_m",
        "weight",
        "civilian_targeting",
        "location_precision_m",
        "position",
    ]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for result in assessment.coas:
        for report in result.threats.reports:
            key = (report.layer, report.event_id)
            row = found.setdefault(
                key,
                {
                    "layer": report.layer,
                    "event_id": report.event_id,
                    "date": report.date,
                    "kind": report.kind,
                    "coas": [],
                    "distance_m": report.distance_m,
                    "weight": round(report.weight, 4),
                    "civilian_targeting": report.civilian_targeting,
                    "location_precision_m": report.location_precision_m,
                    "position": f"centre of a {redaction.coarsen_m / 1000:g} km cell"
                    if redaction.coarsen_m
                    else "exact",
                    "_xy": (report.x, report.y),
                },
            )
            row["coas"].append(result.coa.id)
            row["distance_m"] = min(row["distance_m"], report.distance_m)
    rows = list(found.values())
    xs = np.array([row["_xy"][0] for row in rows], dtype=float)
    ys = np.array([row["_xy"][1] for row in rows], dtype=float)
    xs, ys = redaction.points(xs, ys)
    for row in rows:
        del row["_xy"]
        row["coas"] = ", ".join(row["coas"])
        distance = redaction.distance(row["distance_m"])
        row["distance_m"] = round(distance, 1) if distance is not None else None
        if redaction.coarsen_m:  # a precise radius would say the point was moved, and how far
            row["location_precision_m"] = max(row["location_precision_m"], redaction.coarsen_m / 2)
        row.update(_sensitive_values(assessment, redaction, row["layer"], "event_id", row["event_id"]))
    points = list(shapely.points(xs, ys)) if rows else []
    extra = sorted({k for row in rows for k in row} - set(columns))
    return _frame(rows, _to_wgs84(points, assessment.crs), columns + extra)


def _closures(assessment: Assessment) -> gpd.GeoDataFrame:
    """Each road piece a COA closes, drawn as that piece (EPSG:4326), not as its whole road."""
    rows, shapes = [], []
    for result in assessment.coas:
        for closure in result.access.closures:
            rows.append(
                {
                    "coa": result.coa.id,
                    "road_id": closure.road_id,
                    "road_class": closure.road_class,
                    "element": closure.element,
                    "length_m": round(closure.length_m, 1),
                    "sole_link": closure.sole_link,
                    "bridge": closure.bridge,
                }
            )
            shapes.append(closure.geometry)
    columns = ["coa", "road_id", "road_class", "element", "length_m", "sole_link", "bridge"]
    return _frame(rows, shapes, columns)


def surface_bands(assessment: Assessment, redaction: Redaction) -> Bands:
    """Each COA's score, then people, displaced, site weight and threat density: aggregated when coarsened."""
    surface = assessment.surface
    coas = [r.coa.id for r in assessment.coas]
    names = [f"score_{c}" for c in coas] + ["people", "displaced", "sites", "threat_per_km2"]
    arrays = np.stack(
        [surface.score[c] for c in coas] + [surface.people, surface.displaced, surface.sites, surface.threat]
    ).astype("float32")
    if not redaction.coarsen_m:
        return Bands(names, arrays, surface.transform, assessment.crs, surface.cell_m)
    cell = redaction.coarsen_m
    west, south, east, north = surface.bounds
    x0, y0 = math.floor(west / cell) * cell, math.ceil(north / cell) * cell
    cols, rows = math.ceil((east - x0) / cell), math.ceil((y0 - south) / cell)
    transform = Affine(cell, 0, x0, 0, -cell, y0)
    # Scores are worst-case per cell; counts add up; a density averages.
    methods = [Resampling.max] * len(coas) + [Resampling.sum] * 3 + [Resampling.average]
    coarse = np.full((len(names), rows, cols), np.nan, dtype="float32")
    for band, method in enumerate(methods):
        reproject(
            arrays[band],
            coarse[band],
            src_transform=surface.transform,
            src_crs=assessment.crs,
            src_nodata=np.nan,
            dst_transform=transform,
            dst_crs=assessment.crs,
            dst_nodata=np.nan,
            resampling=method,
        )
    return Bands(names, coarse, transform, assessment.crs, cell)


def _cells(bands: Bands) -> gpd.GeoDataFrame:
    scores = [i for i, name in enumerate(bands.names) if name.startswith("score_")]
    worst = np.nan_to_num(bands.arrays[scores]).max(axis=0) if scores else np.zeros(bands.arrays.shape[1:])
    rows, cols = np.nonzero(np.nan_to_num(worst) > 0)
    transform = bands.transform
    west = transform.c + cols * transform.a
    north = transform.f + rows * transform.e
    boxes = shapely.box(west, north + transform.e, west + transform.a, north)
    data = {name: bands.arrays[i, rows, cols].astype(float) for i, name in enumerate(bands.names)}
    frame = pd.DataFrame({"row": rows, "col": cols, **data})
    frame["cell_m"] = bands.cell_m
    geometries = gpd.GeoSeries(boxes, crs=bands.crs).to_crs(WGS84)
    return gpd.GeoDataFrame(frame, geometry=geometries, crs=WGS84)


CHECKLIST_COLUMNS = [
    "coa",
    "key",
    "rule",
    "severity",
    "kind",
    "title",
    "text",
    "owner",
    "status",
    "reviewed_by",
    "reviewed_at",
    "note",
    "evidence",
    "decided_by",
    "lessons",
]


def checklist_table(rendered: dict[str, dict[str, Any]], review: dict[str, Any] | None) -> pd.DataFrame:
    """Every precaution of every COA with its evidence, and its review status from the record when recorded."""
    reviewed = {item["key"]: item for item in review["items"]} if review else {}
    rows = []
    for coa, checklist in rendered.items():
        for item in checklist["items"]:  # a shared item shows in each of its COAs, under one record key
            rows.append(_checklist_row(coa, record_key(coa, item), item, reviewed))
    for key, item in reviewed.items():  # items added by hand exist only in the record
        if item["source"] != "rule":
            rows.append(_checklist_row(item["coa"], key, {**item, "id": key, "text": "", "evidence": []}, reviewed))
    return pd.DataFrame(rows, columns=CHECKLIST_COLUMNS)


def _checklist_row(coa: str, key: str, item: dict[str, Any], reviewed: dict[str, Any]) -> dict[str, Any]:
    state = reviewed.get(key)
    last = state["history"][-1] if state and state["history"] else None
    return {
        "coa": coa,
        "key": key,
        "rule": item["id"],
        "severity": item["severity"],
        "kind": item.get("kind", "finding"),
        "title": item["title"],
        "text": item.get("text", ""),
        "owner": item.get("owner_label") or ", ".join(item.get("owner", [])),
        "status": state["status"] if state else "not recorded",
        "reviewed_by": last["by"] if last else "",
        "reviewed_at": last["at"] if last else "",
        "note": last["note"] if last else "",
        "evidence": " | ".join(e["text"] for e in item.get("evidence", [])),
        "decided_by": item.get("decided_by", ""),
        "lessons": " | ".join(lesson_text(lesson) for lesson in item.get("lessons", [])),
    }


def lesson_text(lesson: dict[str, Any]) -> str:
    """A lesson of past harm as one line: the harm it came from, the lesson, its mitigations."""
    mitigations = f" ({lesson['mitigations']})" if lesson["mitigations"] else ""
    return f"{lesson['harm_id']}: {lesson['text']}{mitigations}"
