"""The commander's brief: one page read in two minutes, then the annexes that back every figure on it.

Page one: the operation, each COA's risk level and main reasons, a map, the top precautions with their review
status, and the sign-off block with its validity. Annexes: the full checklist with evidence and history,
exposure tables, the data sources and their age, and provenance (input hashes, effects table, settings,
version, who assessed, reviewed and signed).

The brief is one HTML document (Jinja2, every text escaped) with its map drawn here by matplotlib from the
layers themselves and embedded as a ``data:`` image: it opens offline and fetches nothing. The PDF is the same
HTML laid out by WeasyPrint, whose URL fetcher here refuses anything but ``data:`` URLs.
"""

from __future__ import annotations

import base64
import io
import math
from datetime import date
from typing import Any

import jinja2
import numpy as np
import shapely

from planner import __version__
from planner.assess import Assessment
from planner.errors import InputError
from planner.outputs import Bundle
from planner.places import mgrs_reference
from planner.record import input_files
from planner.risk import comparison_text, explain, harm_text, range_text, reasons_text, round_people
from planner.vocabulary import BRIEF_FORMATS, HARM_SENSITIVE
from planner.words import activity_name, distance, number, words

TOP_PRECAUTIONS = 6
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
COA_COLOURS = ("#1f5fa8", "#b8432f", "#2f8a4c", "#7a4fa0", "#a8781f", "#2f8a8a")

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("planner", "templates"),
    autoescape=True,  # site names and notes come from layers and users: never markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def brief_html(assessment: Assessment, bundle: Bundle) -> str:
    """The brief as one self-contained HTML page."""
    lang = bundle.lang
    w = words(lang)
    context = {
        "w": w,
        "lang": lang,
        "title": assessment.plan.name,
        "heading": bundle.heading,
        "statement": bundle.statement,
        "fictional": bundle.fictional,
        "assessment_id": bundle.assessment_id,
        "area": assessment.layerset.area,
        "window": f"{assessment.plan.window.start:%Y-%m-%d %H:%M} – {assessment.plan.window.end:%Y-%m-%d %H:%M %Z}",
        "coas": _coas(assessment, w, lang),
        "ranking": assessment.comparison.ranking,
        "comparison": comparison_text(
            assessment.comparison.ranking,
            assessment.comparison.too_close,
            {r.coa.id: r.risk for r in assessment.coas},
            assessment.settings.risk,
            lang,
        ),
        "mechanisms": _annex_harm(assessment, w, lang),
        "map": _data_uri(map_png(assessment, bundle)),
        "top": _top(bundle, w),
        "more": max(0, len(bundle.checklist) - TOP_PRECAUTIONS),
        "signoff": _signoff(bundle.review, w),
        "checklist": _annex_checklist(bundle, w),
        "exposure": _annex_exposure(assessment, lang),
        "sites": bundle.layers["sites"].drop(columns="geometry").to_dict("records"),
        "sources": _sources(assessment),
        "context": bundle.context,
        "provenance": _provenance(assessment, bundle),
        "after": _annex_after(bundle, w, lang),
        "support": bundle.support.to_dict("records"),
        "n": lambda value: "—" if _blank(value) else number(float(value), lang),
        "people": lambda value: "—" if _blank(value) else number(round_people(value), lang),
    }
    return _ENV.get_template("brief.html.j2").render(context)


def brief(assessment: Assessment, bundle: Bundle, fmt: str) -> bytes:
    """The brief as the bytes of an HTML or PDF file."""
    if fmt not in BRIEF_FORMATS:
        raise InputError.single("--format", "", f"unknown brief format '{fmt}'", "use html or pdf")
    html = brief_html(assessment, bundle)
    return html.encode("utf-8") if fmt == "html" else brief_pdf(html)


def brief_pdf(html: str) -> bytes:
    """The brief laid out as a PDF (A4), with nothing fetched from anywhere."""
    import weasyprint  # noqa: PLC0415  (heavy: only the PDF needs it)

    only_embedded = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return bytes(weasyprint.HTML(string=html, url_fetcher=only_embedded).write_pdf())


def _annex_after(bundle: Bundle, w: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The harm recorded after the operation, as the bundle carries it (redacted, positions coarsened)."""
    said = w["harm_tracking"]
    rows = []
    for record in bundle.layers["harm_records"].to_dict("records"):
        point = record["geometry"]
        what = [
            said["kinds"][kind].format(count=_bounds(record[f"{kind}_low"], record[f"{kind}_high"]))
            for kind in ("deaths", "injuries")
        ]
        what += [str(record[name]) for name in ("damage", "movement_restriction") if record.get(name)]
        placed = record["placed_zone"]
        rows.append(
            {
                "id": record["harm_id"],
                "coa": record["coa"],
                "when": record["occurred_at"] + (f" – {record['occurred_until']}" if record["occurred_until"] else ""),
                "where": f"{mgrs_reference(point.x, point.y)} (± {distance(record['position_precision_m'], lang)})",
                "what": ", ".join(what),
                "mechanism": w["harm"]["mechanisms"].get(record["mechanism"], record["mechanism"]),
                "placed": said["placed"][placed].format(
                    element=record["placed_element"], distance=distance(record["placed_distance_m"] or 0, lang)
                )
                if placed
                else "—",
                "predicted": "—"
                if record["predicted_central"] is None or _blank(record["predicted_central"])
                else f"{number(record['predicted_low'], lang)}–{number(record['predicted_high'], lang)}",
                "state": said["steps"][record["harm_stage"]]
                if record["harm_stage"] == "intake"
                else said["state"].format(
                    step=said["steps"][record["harm_stage"]], status=said["statuses"][record["harm_status"]]
                ),
                "amends_open": bool(record["amends_open"]),
                "sensitive": [f"{name}: {record[name]}" for name in HARM_SENSITIVE if record.get(name)],
            }
        )
    return rows


def _bounds(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def _coas(assessment: Assessment, w: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    rows = []
    for i, result in enumerate(assessment.coas):
        harm = result.risk.harm
        contributions = sorted(result.risk.contributions.values(), key=lambda c: -c.share_pct)
        shown = [c for c in contributions if c.share_pct > 0][:2] or contributions[:1]
        low, high = result.risk.score_range
        rows.append(
            {
                "id": result.coa.id,
                "name": result.coa.name,
                "score": result.risk.score,
                "score_range": f"{low:.0f}-{high:.0f}",
                "casualties": range_text(harm.casualties, lang),
                "level": result.risk.level,
                "level_label": w["levels"][result.risk.level],
                "colour": COA_COLOURS[i % len(COA_COLOURS)],
                "reasons": [explain(c.input, harm, None, lang) for c in shown],
                "widened_by": reasons_text(harm.widened_by, lang),
            }
        )
    return rows


def _annex_harm(assessment: Assessment, w: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each element's harm by mechanism, then harm by others: the figures behind each COA's estimate."""
    phrases = w["harm"]
    rows = []
    for result in assessment.coas:
        harm = result.risk.harm
        for f in harm.mechanisms:
            others = [
                phrases["harms"][key].format(value=harm_text(key, r.central, lang))
                for key, r in f.harms.items()
                if r.central >= 0.05
            ]
            rows.append(
                {
                    "coa": result.coa.id,
                    "element": f.element,
                    "mechanism": phrases["mechanisms"][f.mechanism],
                    "casualties": range_text(f.casualties, lang),
                    "people": round_people(f.people_reached.central),
                    "others": "; ".join(others),
                    "basis": f.basis,
                    "widened_by": "; ".join(reasons_text(f.widened_by, lang)),
                }
            )
        for t in harm.by_others:
            if t.value.high <= 0:
                continue
            rows.append(
                {
                    "coa": result.coa.id,
                    "element": t.element,
                    "mechanism": phrases["mechanisms"]["harm_by_others"],
                    "casualties": "—",
                    "people": round_people(t.people_engaged.central),
                    "others": f"{phrases['threat']} {100 * t.threat.low:.0f}-{100 * t.threat.high:.0f} %",
                    "basis": explain("harm_by_others", harm, None, lang),
                    "widened_by": "",
                }
            )
    return rows


def _top(bundle: Bundle, w: dict[str, Any]) -> list[dict[str, Any]]:
    table = bundle.checklist.drop_duplicates("key").copy()  # an item shared by COAs is one precaution
    table["_order"] = table["severity"].map(SEVERITY_ORDER).fillna(3) * 2 + (table["kind"] == "prompt")
    table = table.sort_values(["_order"], kind="stable")
    table["_turn"] = table.groupby("coa").cumcount()  # each COA's most severe first, taken in turns
    top = table.sort_values(["_order", "_turn", "coa"], kind="stable").head(TOP_PRECAUTIONS)
    return [row | {"status_label": w["statuses"].get(row["status"], row["status"])} for row in top.to_dict("records")]


def _signoff(review: dict[str, Any] | None, w: dict[str, Any]) -> dict[str, Any] | None:
    if not review or not review["signoff"]:
        return None
    signed = review["signoff"]
    history = [h | {"decision_label": w["decisions"][h["decision"]]} for h in review.get("signoff_history", [signed])]
    return signed | {"decision_label": w["decisions"][signed["decision"]], "history": history}


def _annex_checklist(bundle: Bundle, w: dict[str, Any]) -> list[dict[str, Any]]:
    history = {item["key"]: item["history"] for item in bundle.review["items"]} if bundle.review else {}
    rows = []
    for row in bundle.checklist.to_dict("records"):
        rows.append(
            row
            | {
                "status_label": w["statuses"].get(row["status"], row["status"]),
                "evidence_list": [e for e in row["evidence"].split(" | ") if e],
                "lessons_list": [e for e in row["lessons"].split(" | ") if e],
                "history": history.get(row["key"], []),
            }
        )
    return rows


def _annex_exposure(assessment: Assessment, lang: str) -> list[dict[str, Any]]:
    rows = []
    for result in assessment.coas:
        for zone in result.zones:
            for name in ("core", "outer"):
                figures = result.exposure.by_element[zone.element][name]
                sites = sum(1 for h in result.exposure.sites if h.element == zone.element and h.zone == name)
                rows.append(
                    {
                        "coa": result.coa.id,
                        "element": zone.element,
                        "activity": activity_name(zone.activity, assessment.effects[zone.activity].label, lang),
                        "zone": name,
                        "radius_m": zone.core_m if name == "core" else zone.outer_m,
                        "people": figures.people,
                        "displaced": figures.displaced,
                        "sites": sites,
                    }
                )
    return rows


def _sources(assessment: Assessment) -> list[dict[str, Any]]:
    on: date = assessment.plan.window.start.date()
    rows = []
    for layer in assessment.layerset:
        stale = layer.freshness_flag(on)
        rows.append(
            {
                "id": layer.id,
                "kind": layer.kind,
                "file": layer.path.name,
                "as_of": layer.as_of.isoformat() if layer.as_of else "—",
                "age_days": layer.age_days(on),
                "max_age_days": layer.max_age_days,
                "flags": [f.message for f in [*layer.flags, *([stale] if stale else [])]],
            }
        )
    return rows


def _provenance(assessment: Assessment, bundle: Bundle) -> dict[str, Any]:
    review = bundle.review or {}
    reviewers = sorted({h["by"] for item in review.get("items", []) for h in item["history"]})
    signed = review.get("signoff")
    return {
        "inputs": input_files(assessment),
        "effects_table": assessment.effects.source,
        "settings": assessment.settings.source,
        "settings_sha256": assessment.settings.sha256,
        "version": __version__,
        "recorded_by": f"{review['recorded_by']}, {review['recorded_at'][:16]}" if review else "",
        "sha256": review.get("sha256", ""),
        "reviewers": reviewers,
        "signed_by": f"{signed['by']}, {signed['at'][:16]}" if signed else "",
        "audit_head": f"{review['audit_head']['seq']} · {review['audit_head']['hash']}" if review else "",
    }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def map_png(assessment: Assessment, bundle: Bundle, *, width_in: float = 7.0) -> bytes:
    """The operation drawn from its own layers (no tiles): risk cells, zones, roads, sites, reports."""
    # A Figure without pyplot: no global state, safe in the dashboard's threads, no screen needed.
    from matplotlib.figure import Figure  # noqa: PLC0415  (only maps need matplotlib)

    crs = assessment.crs
    w = words(bundle.lang)
    bands = bundle.bands
    west, north = bands.transform.c, bands.transform.f
    rows, cols = bands.arrays.shape[1:]
    east, south = west + cols * bands.transform.a, north + rows * bands.transform.e
    frame = shapely.box(west, south, east, north)
    height_in = max(2.5, min(width_in * (north - south) / max(east - west, 1.0), 5.0))
    fig = Figure(figsize=(width_in, height_in), dpi=150)
    ax = fig.subplots()
    scores = [i for i, name in enumerate(bands.names) if name.startswith("score_")]
    worst = np.nan_to_num(bands.arrays[scores]).max(axis=0) if scores else np.zeros((rows, cols))
    _basemap(ax, assessment, crs, (west, south, east, north))
    shown = np.ma.masked_less_equal(worst, 0)
    ax.imshow(shown, extent=(west, east, south, north), cmap="Reds", alpha=0.75, interpolation="nearest")
    for layer in [*assessment.layerset.of_kind("backdrop"), *assessment.layerset.of_kind("roads")]:
        index = layer.projected(crs)
        for geometry in index.geometries[index.tree.query(frame)]:
            _draw(ax, shapely.intersection(geometry, frame), color="#8c8c8c", linewidth=0.6, zorder=2)
    for i, result in enumerate(assessment.coas):
        colour = COA_COLOURS[i % len(COA_COLOURS)]
        for zone in result.zones:
            _draw(ax, zone.core.boundary, color=colour, linewidth=1.2, zorder=4)
            _draw(ax, zone.outer.boundary, color=colour, linewidth=0.9, linestyle="--", zorder=4)
        ax.plot([], [], color=colour, label=f"{w['coa']} {result.coa.id}")
    sites = bundle.layers["sites"].to_crs(crs)
    if len(sites):
        points = sites.geometry.representative_point()
        ax.scatter(points.x, points.y, s=14, c="#222222", marker="o", zorder=5, label=w["map_sites"])
    reports = bundle.layers["threat_reports"].to_crs(crs)
    if len(reports):
        ax.scatter(
            reports.geometry.x, reports.geometry.y, s=10, c="#6b2d8c", marker="x", zorder=5, label=w["map_reports"]
        )
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower right", fontsize=6, framealpha=0.85)
    km = max(1, round((east - west) / 5000))
    ax.plot(
        [west + 0.04 * (east - west), west + 0.04 * (east - west) + km * 1000],
        [south + 0.05 * (north - south)] * 2,
        color="black",
        linewidth=2,
    )
    ax.text(west + 0.04 * (east - west), south + 0.07 * (north - south), f"{km} km", fontsize=7)
    if bundle.fictional:
        ax.text(
            0.5,
            0.97,
            words(bundle.lang)["fictional"].upper(),
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=8,
            color="#b00020",
            weight="bold",
        )
    fig.tight_layout(pad=0.2)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _basemap(ax: Any, assessment: Assessment, crs: Any, box: tuple[float, float, float, float]) -> None:
    """The mission's raster basemap under the map, warped from Web Mercator to the map's CRS (no tiles fetched:
    they are read from the mission's file)."""
    configured = assessment.settings.dashboard.basemap
    if not configured:
        return
    import rasterio.warp  # noqa: PLC0415
    from affine import Affine  # noqa: PLC0415

    from planner.basemap import mosaic, open_basemap  # noqa: PLC0415

    west, south, east, north = box
    lon0, lat0, lon1, lat1 = rasterio.warp.transform_bounds(crs, "EPSG:4326", west, south, east, north)
    found = mosaic(open_basemap(configured), lon0, lat0, lon1, lat1)
    if found is None:
        return
    image, (left, bottom, right, top) = found
    height, width = 800, max(1, round(800 * (east - west) / max(north - south, 1e-9)))
    target = np.zeros((4, height, width), dtype=np.uint8)
    rasterio.warp.reproject(
        np.ascontiguousarray(np.moveaxis(image, -1, 0)),
        target,
        src_transform=Affine((right - left) / image.shape[1], 0, left, 0, -(top - bottom) / image.shape[0], top),
        src_crs="EPSG:3857",
        dst_transform=Affine((east - west) / width, 0, west, 0, -(north - south) / height, north),
        dst_crs=crs,
        resampling=rasterio.warp.Resampling.bilinear,
    )
    ax.imshow(np.moveaxis(target, 0, -1), extent=(west, east, south, north), zorder=0, interpolation="bilinear")


def _draw(ax: Any, geometry: Any, **style: Any) -> None:
    """Lines of any geometry on ``ax``."""
    for line in shapely.get_parts(
        shapely.line_merge(shapely.boundary(geometry)) if shapely.get_dimensions(geometry) == 2 else geometry
    ):
        if line.is_empty:
            continue
        if line.geom_type in ("LineString", "LinearRing"):
            x, y = line.xy
            ax.plot(x, y, **style)
        elif line.geom_type == "MultiLineString":
            _draw(ax, line, **style)
