"""The dashboard's map as a pydeck ``Deck``: drawn only from the layers, with no basemap and nothing fetched.

``map_provider=None`` and no ``map_style``, pydeck's way of drawing no basemap: the map component then
starts no map library under the layers and fetches nothing, and its view clears to paper colour (``PAPER``).
The backdrop (rivers, boundaries, settlements) and the roads come from the layer set instead. Every layer has a fixed
``id`` (tests and the browser find them by it; a layer the browser keeps from map to map is ``id@content``,
see ``_kept``), data is EPSG:4326, and each feature carries its own
plain-text tooltip (``tip``): pydeck's ``text`` tooltips are never read as HTML, so a site name with markup
stays text. The reports drawn are the redacted ``threat_reports`` of an ``outputs.Bundle``, so the map shows
exactly what an export would, and sources only when the redaction allows.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import unicodedata
import weakref
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import rasterio
import shapely
from PIL import Image
from pydeck.bindings.json_tools import default_serialize
from pyproj import CRS
from rasterio.enums import Resampling

from planner.assess import Assessment, plan_crs
from planner.effects import EffectsTable, Zone, element_zone
from planner.geo import WGS84, transformer
from planner.opening import RASTER_DRIVER
from planner.outputs import Bands, Bundle
from planner.places import SETTLEMENT_WORDS, mgrs_reference
from planner.plan import Plan
from planner.risk import round_people
from planner.scale.country import BANDS
from planner.words import activity_name, distance, number, words

# With no basemap the deck sets no map style, as pydeck says to ("If not using a basemap, set
# map_provider=None"): the deck's JSON then carries pydeck's own "no style given" value, for which Streamlit's
# map component (checked in its JavaScript bundle, Streamlit 1.67) starts no maplibre at all. A style left empty
# instead, or a sourceless style, would not do: an empty one makes the component fall back to Carto's basemap,
# fetched from the internet; a sourceless one starts maplibre to draw a plain background, which cost a new
# session's first map 0.4 s with software WebGL (4.90 -> 4.42 s, benchmarks/bench_browser.py). The deck's own
# view clears to this paper colour instead.
PAPER = [242, 239, 233, 255]
# The mission's own basemap, when it brings one, is the map style (planner/basemap.py): its tiles come from
# 127.0.0.1 only.
LAYER_IDS = (
    "backdrop",
    "locator",
    "roads",
    "risk-cells",
    "heatmap",
    "zones-outer",
    "zones-core",
    "closures",
    "routes",
    "casevac",
    "approximate",
    "sites",
    "displacement",
    "threat-reports",
    "scale-bar",
    "labels",
)
# The map's palette: every legend entry drawn in colour has a hue family of its own (Okabe-Ito, read by
# colour-blind users too); the rest are told apart by form (black or grey outlines, white discs, grey dots).
PALETTE = {
    "risk": [213, 94, 0],  # vermillion, darker where the expected harm is higher
    "core": [0, 0, 0],  # black outline
    "outer": [110, 110, 110],  # grey outline
    "closures": [204, 121, 167],  # reddish purple, thick
    "routes": [0, 114, 178],  # blue
    "casevac": [0, 158, 115],  # bluish green
    "sites": [240, 228, 66],  # yellow, black rim: the category is in the label and the tooltip
    "displacement": [255, 255, 255],  # white disc, black rim, sized by the people counted
    "reports": [60, 60, 60],  # dark grey, larger for attacks on civilians, fainter when older
}
# Reports against civilians (attacks, sexual violence) are drawn larger than the others.
TARGETING_KINDS = ("attack_on_civilians", "sexual_violence")


# Orientation layers (backdrop, roads) are drawn simplified to about a metre: mapped roads carry a vertex every
# few metres (Juba's 141 roads around a plan: 12,664 vertices, 6,329 at this tolerance), all sent on every rerun
ORIENTATION_TOLERANCE_DEG = 1e-5


def _geojson(frame: gpd.GeoDataFrame, columns: list[str], *, tolerance: float = 0.0) -> dict[str, Any]:
    """Only the columns the map needs, and coordinates to 6 decimals (0.1 m): a Deck sends its data inline on
    every rerun. ``tolerance`` (degrees) simplifies shapes drawn for orientation only."""
    keep = [c for c in columns if c in frame.columns]
    shown = frame[[*keep, "geometry"]].copy()
    shapes = shown.geometry.to_numpy()
    if tolerance:
        shapes = shapely.simplify(shapes, tolerance)  # topology kept: areas stay valid
    shown["geometry"] = shapely.transform(shapes, lambda xy: np.round(xy, 6))
    return shown.to_geo_dict(show_bbox=False, drop_id=True)  # no box or id per feature: deck.gl needs neither


class _CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation (pydeck indents it, which doubles what reaches the browser) and
    keeps its words as they are ("·", "é", "²" as themselves, not six-character escapes): the page parses the
    whole spec again on every rerun of the map. Written once: a map is built once per view and sent again on
    every rerun that shows it (Juba's cordon COA: 392 kB, 8 ms to write)."""

    def to_json(self) -> str:
        written = _WRITTEN.get(self)
        if written is None:
            written = json.dumps(
                self, sort_keys=True, default=default_serialize, separators=(",", ":"), ensure_ascii=False
            )
            _WRITTEN[self] = written
        return written


# Kept beside the deck, not on it: pydeck writes every attribute of a deck into its JSON
_WRITTEN: weakref.WeakKeyDictionary[_CompactDeck, str] = weakref.WeakKeyDictionary()


def _age_alpha(dates: pd.Series, on: pd.Timestamp) -> list[int]:
    """Recent reports opaque, old ones faint: age is part of what a report says."""
    age = (on - pd.to_datetime(dates, errors="coerce")).dt.days.fillna(365).clip(lower=0)
    return [int(v) for v in (255 * np.clip(1 - age / 400, 0.25, 1)).round()]


def build_deck(
    assessment: Assessment,
    found: Bundle,
    coa: str,
    *,
    heatmap: bool = False,
    fictional_label: str = "FICTIONAL",
    lang: str = "en",
    style_url: str = "",
) -> pdk.Deck:
    """The map of one COA: risk cells, zones, sites, displacement sites, reports, roads, closures, routes,
    labels, a scale bar and a north arrow; every tooltip in ``lang``, with its units."""
    result = next(r for r in assessment.coas if r.coa.id == coa)
    w = words(lang)
    tips = w["tips"]
    west, south, east, north = (
        found.layers["risk_cells"].total_bounds
        if len(found.layers["risk_cells"])
        else (found.layers["zones"].total_bounds)
    )
    frame = shapely.box(west, south, east, north).buffer(max(east - west, north - south) * 0.3)
    on = pd.Timestamp(assessment.plan.window.start.date())
    # The locator lies over the backdrop (a boundary's fill would otherwise answer every hover) and under the rest
    backdrop, roads = _context_layers(assessment, frame)
    layers = [backdrop, _locator(frame.bounds, lang), roads]

    cells = found.layers["risk_cells"].copy()
    score = f"score_{coa}"
    top = float(cells[score].max()) if len(cells) and cells[score].max() > 0 else 1.0
    cells = cells[cells[score] > 0]
    cells["fill"] = [[*PALETTE["risk"], int(90 + 150 * min(1.0, v / top))] for v in cells[score]]
    overall = f"{result.risk.score:.0f}"  # the COA's 0-100 score, as Compare shows it
    box = cells.geometry.bounds  # each cell's centre, from its corners (no centroid in degrees)
    centres = [shapely.Point(x, y) for x, y in zip((box.minx + box.maxx) / 2, (box.miny + box.maxy) / 2, strict=True)]
    cells["tip"] = [
        tips["cell"].format(
            harm=f"{s:.2f}".replace(".", "," if lang == "fr" else "."),
            people=_people(p, lang, tips),
            displaced=_people(d, lang, tips),
            reports=f"{t:.2f}".replace(".", "," if lang == "fr" else "."),
            coa=coa,
            score=overall,
        )
        + f" · {where(c.x, c.y)}"  # where the pointer is, as field staff write it
        for s, p, d, t, c in zip(
            cells[score], cells["people"], cells["displaced"], cells["threat_per_km2"], centres, strict=True
        )
    ]
    layers.append(
        pdk.Layer(
            "GeoJsonLayer",
            id="risk-cells",
            data=_geojson(cells, ["fill", "tip"]),
            get_fill_color="properties.fill",
            stroked=False,
            pickable=True,
        )
    )
    if heatmap:
        layers.append(_density(found.bands))

    zones = found.layers["zones"]
    zones = zones[zones["coa"] == coa].copy()
    zones["tip"] = [
        tips["zone"].format(
            element=e,
            activity=activity_name(i, a, lang),
            zone=tips[z],
            radius=distance(r, lang),
            people=_people(p, lang, tips),
            displaced=_people(d, lang, tips),
        )
        for e, i, a, z, r, p, d in zip(
            zones["element"],
            zones["activity"],
            zones["activity_label"],
            zones["zone"],
            zones["radius_m"],
            zones["people"],
            zones["displaced"],
            strict=True,
        )
    ]
    for zone, fill, line in (
        ("outer", [0, 0, 0, 0], [*PALETTE["outer"], 230]),
        ("core", [0, 0, 0, 18], [*PALETTE["core"], 255]),
    ):
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                id=f"zones-{zone}",
                data=_geojson(zones[zones["zone"] == zone], ["element", "tip"]),
                get_fill_color=fill,
                get_line_color=line,
                line_width_min_pixels=2 if zone == "core" else 1,
                pickable=True,
            )
        )

    closures = found.layers["closures"]
    closures = closures[(closures["coa"] == coa) & closures.geometry.notna()].copy()
    closures["tip"] = [
        tips["closure"].format(road=r, cls=c, element=e)
        + (f" · {tips['sole_link']}" if s else "")
        + (f" · {tips['bridge']}" if b else "")
        for r, c, e, s, b in zip(
            closures["road_id"],
            closures["road_class"],
            closures["element"],
            closures["sole_link"],
            closures["bridge"],
            strict=True,
        )
    ]
    layers.append(
        pdk.Layer(
            "GeoJsonLayer",
            id="closures",
            data=_geojson(closures, ["tip"]),
            get_line_color=[*PALETTE["closures"], 255],
            line_width_min_pixels=5,
            pickable=True,
        )
    )
    routes = [
        (tips["planned"].format(element=r.element, minutes=f"{r.planned.time_min:.0f}"), r.planned.geometry)
        for r in result.access.routes
        if r.planned
    ]
    routes += [
        (tips["alternative"].format(element=r.element, n=i, minutes=f"{a.time_min:.0f}"), a.geometry)
        for r in result.access.routes
        for i, a in enumerate(r.alternatives, start=1)
    ]
    layers.append(_lines("routes", routes, [*PALETTE["routes"], 230]))
    casevac = [
        (
            tips["casevac"].format(
                patients=tips.get(c.patients, c.patients),
                element=c.element,
                facility=c.facility,
                minutes=f"{c.time_min:.0f}",
            ),
            c.geometry,
        )
        for c in result.access.casevac
        if c.geometry is not None and c.time_min is not None
    ]
    layers.append(_lines("casevac", casevac, [*PALETTE["casevac"], 230]))

    sites = found.layers["sites"]
    sites = sites[sites["coa"] == coa].copy()
    sites["tip"] = [
        tips["site"].format(
            name=n or i, category=w["categories"].get(c, c), zone=tips[z], element=e, distance=distance(d, lang)
        )
        + (f" · {tips['people'].format(n=_people(p, lang, tips))}" if not _blank(p) else "")
        + (f" · {k}" if k else "")
        + f" · {where(g.x, g.y)}"
        for n, i, c, z, e, d, p, k, g in zip(
            sites["name"],
            sites["site_id"],
            sites["category"],
            sites["zone"],
            sites["element"],
            sites["distance_m"],
            sites["population"],
            sites["precautions"],
            sites.geometry.representative_point(),
            strict=True,
        )
    ]
    sites["colour"] = [PALETTE["displacement" if c == "displacement" else "sites"] for c in sites["category"]]
    points = sites.copy()
    points["geometry"] = points.geometry.representative_point()
    camps = points[points["category"] == "displacement"].copy()
    camps["radius"] = [30 if _blank(p) else 30 + 2 * math.sqrt(p) for p in camps["population"]]  # area ~ people
    others = points[points["category"] != "displacement"]
    layers.append(_approximate(assessment, points, found.layers["threat_reports"], coa, lang=lang))
    layers.append(_points("sites", others, radius=40))
    layers.append(_points("displacement", camps, radius=None))

    reports = found.layers["threat_reports"].copy()
    reports = reports[reports["coas"].str.split(", ").map(lambda coas: coa in coas)] if len(reports) else reports
    alpha = _age_alpha(reports["date"], on) if len(reports) else []
    rough = [not _blank(p) and float(p) > HALO_MIN_M for p in reports.get("location_precision_m", [])]
    reports["colour"] = [[*PALETTE["reports"], a // 4 if r else a] for a, r in zip(alpha, rough, strict=True)]
    extra = [
        c
        for c in reports.columns
        if c.startswith(tuple(f"{layer.id}_" for layer in assessment.layerset.of_kind("threats")))
    ]
    reports["tip"] = [
        tips["report"].format(
            id=row["event_id"],
            kind=w["kinds"].get(row["kind"], row["kind"]),
            date=row["date"],
            distance=distance(float(row["distance_m"]), lang),
            position=row["position"],
        )
        + (
            f" · {tips['approximate'].format(distance=distance(float(row['location_precision_m']), lang))}"
            if not _blank(row.get("location_precision_m")) and float(row["location_precision_m"]) > HALO_MIN_M
            else ""
        )
        + "".join(f" · {c}: {row[c]}" for c in extra)
        for _, row in reports.iterrows()
    ]
    reports["radius"] = [60.0 if k in TARGETING_KINDS else 30.0 for k in reports["kind"]]
    layers.append(_points("threat-reports", reports, radius=None))

    bar, scale_words = _scale_and_north(west, south, north, tips, lang)
    layers.append(bar)
    written = [*_symbols(assessment, zones), *_labels(assessment, frame, sites, zones, lang), *scale_words]
    if found.fictional:
        written.append(  # over the top edge's middle
            _written(
                "fictional",
                fictional_label,
                shapely.Point((west + east) / 2, north),
                size=18,
                colour=[176, 0, 32, 255],
                anchor="middle",
                baseline="bottom",
            )
        )
    layers.append(_text_layer(written))
    return _deck(layers, (west, south, east, north), style_url)


def _deck(layers: list[pdk.Layer], bounds: tuple[float, float, float, float], style: str) -> pdk.Deck:
    """A deck viewing ``bounds`` whole, over the mission's basemap style (``style``) or none, never fetched."""
    west, south, east, north = bounds
    centre = shapely.box(west, south, east, north).centroid
    span = max(east - west, north - south, 1e-3)
    view = pdk.ViewState(longitude=centre.x, latitude=centre.y, zoom=max(1.0, min(16.0, math.log2(360 / span) + 0.3)))
    common = {"layers": layers, "initial_view_state": view, "map_provider": None, "tooltip": {"text": "{tip}"}}
    if style:
        return _CompactDeck(map_style=style, **common)
    paper = pdk.View(type="MapView", controller=True, clear=True, clearColor=PAPER)
    return _CompactDeck(views=[paper], **common)


def style_url(style: dict[str, Any]) -> str:
    """A map style as a ``data:`` URL: read in the browser, never fetched."""
    return "data:application/json;base64," + base64.b64encode(json.dumps(style).encode()).decode()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _people(value: Any, lang: str, tips: dict[str, str]) -> str:
    """People as every figure of Primum counts them (rounded as field reports do), or 'unknown'."""
    return tips["unknown"] if _blank(value) else number(float(round_people(float(value))), lang)


def _labels(
    assessment: Assessment, frame: Any, sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, lang: str
) -> list[dict[str, Any]]:
    """Names on the map: settlements of the backdrop, the sites reached, and the plan's elements."""
    rows: list[dict[str, Any]] = []
    for layer in assessment.layerset.of_kind("backdrop"):
        index = layer.derived.setdefault("wgs84_tree", shapely.STRtree(layer.frame.geometry.to_numpy()))
        picked = layer.frame.iloc[index.query(frame)]
        for name, feature, geometry in zip(picked["name"], picked["feature"], picked.geometry, strict=True):
            if isinstance(name, str) and isinstance(feature, str) and feature.casefold() in SETTLEMENT_WORDS:
                point = geometry.representative_point()
                rows.append(_written("place", name, point, size=15, colour=[40, 40, 40, 255], offset=[8, 0]))
    for name, geometry in zip(sites["name"], sites.geometry, strict=True):
        if isinstance(name, str) and name:
            point = geometry.representative_point()
            rows.append(_written("site", name, point, size=11, colour=[70, 70, 70, 255], offset=[8, 0]))
    outer = zones[zones["zone"] == "outer"]
    points = [g.representative_point() for g in outer.geometry]
    for element, ident, label, point, line in zip(
        outer["element"], outer["activity"], outer["activity_label"], points, _lines_of(points), strict=True
    ):
        activity = activity_name(ident, label, lang)
        rows.append(  # right of its symbol, on its own line
            _written("element", f"{element} ({activity})", point, offset=[SYMBOL_WIDTH_PX, LINE_PX * line])
        )
    return list({(r["text"], round(r["lon"], 5), round(r["lat"], 5)): r for r in rows}.values())


def _written(
    kind: str,
    text: str,
    point: shapely.Point,
    *,
    size: int = 13,
    colour: list[int] | None = None,
    offset: list[int] | None = None,
    anchor: str = "start",
    baseline: str = "center",
    box: list[int] | None = None,
) -> dict[str, Any]:
    """One thing written on the map: its words at ``point``, ``offset`` pixels away, on a ``box`` of that
    colour (none: transparent) when it must read over anything."""
    return {
        "kind": kind,
        "text": _drawable(text),
        "lon": point.x,
        "lat": point.y,
        "size": size,
        "colour": colour or [0, 0, 0, 255],
        "offset": offset or [0, 0],
        "anchor": anchor,
        "baseline": baseline,
        "box": box or [0, 0, 0, 0],
    }


def _text_layer(rows: list[dict[str, Any]]) -> pdk.Layer:
    """Everything written on the map (names, element symbols, the scale's and the north arrow's words, the
    fictional mark) in one text layer, each row with its own size, colour, place and box: with software WebGL
    (browsers without a GPU) every text layer costs its own texture and drawing set-up before the first map
    shows (four layers took 0.17 s more than this one)."""
    return pdk.Layer(
        "TextLayer",
        id="labels",
        data=rows,
        get_position=["lon", "lat"],
        get_text="text",
        get_size="size",
        get_color="colour",
        get_pixel_offset="offset",
        get_text_anchor="anchor",
        get_alignment_baseline="baseline",
        background=True,
        get_background_color="box",
    )


# Elements placed together (a mortar inside a cordon) get a line each, their symbols stacked down the same
# column, so no label is written over another.
SYMBOL_WIDTH_PX = 18
LINE_PX = 18
STACK_DEGREES = 0.003  # about 300 m: closer than this, two elements' labels would overlap at a planning zoom


def _lines_of(points: list[shapely.Point]) -> list[int]:
    """For each point, how many earlier points lie within STACK_DEGREES of it: the line its label takes."""
    lines = []
    for i, point in enumerate(points):
        lines.append(sum(1 for other in points[:i] if other.distance(point) < STACK_DEGREES))
    return lines


# Lengths a scale bar may show, in metres: the longest under a fifth of the view's width is drawn.
SCALE_STEPS = (100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)


# One symbol per kind of element, from its activity's classes (the first that applies): landing zones, indirect
# and direct fire, cordons and searches, convoys, patrols and positions no longer look alike on the map.
ELEMENT_SYMBOLS = (
    ("rotor_wash", "H"),
    ("indirect", "IF"),
    ("explosive", "X"),
    ("kinetic", "K"),
    ("search", "CS"),
    ("cordon", "C"),
    ("heavy_vehicles", "CV"),
    ("movement", "P"),
    ("military_position", "AA"),
)


def element_symbol(classes: frozenset[str]) -> str:
    return next((symbol for name, symbol in ELEMENT_SYMBOLS if name in classes), "AO")


def _symbols(assessment: Assessment, zones: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Each element's symbol at its place, boxed in white so it reads over any zone."""
    outer = zones[zones["zone"] == "outer"]
    symbols = [element_symbol(assessment.effects[a].classes) for a in outer["activity"]]
    return _symbol_rows(symbols, [g.representative_point() for g in outer.geometry], size=14)


def _symbol_rows(texts: list[str], points: list[shapely.Point], *, size: int) -> list[dict[str, Any]]:
    """Boxed symbols at their points; symbols of elements placed together stacked a line apart."""
    return [
        _written(
            "symbol", text, point, size=size, offset=[0, LINE_PX * line], anchor="middle", box=[255, 255, 255, 230]
        )
        for text, point, line in zip(texts, points, _lines_of(points), strict=True)
    ]


# Reports known no better than this are drawn hollow, and beyond REPORT_HALO_MIN_M with a halo of their
# precision: the dot is not where the event happened.
HALO_MIN_M = 250.0
REPORT_HALO_MIN_M = 5_000.0


def _approximate(
    assessment: Assessment, sites: gpd.GeoDataFrame, reports: gpd.GeoDataFrame, coa: str, *, lang: str
) -> pdk.Layer:
    """Halos sized by their precision around the places the layers only know roughly: displacement sites given
    at a town's centre, and reports located to a town or district. Each halo is a ring drawn as a line: a halo is
    kilometres wide, and drawn as a hollow circle the browser would work out every pixel of the square around it
    (with software WebGL, a first map 0.4 s slower for the sample's 13 halos, and every frame after it)."""
    tips = words(lang)["tips"]
    rows: list[tuple[float, float, float, str]] = []  # lon, lat, radius in metres, tip
    town_m = assessment.settings.harm.town_precision_m
    rough: set[tuple[str, int]] = {
        (layer.id, row)
        for layer in assessment.layerset.of_kind("displacement")
        for flag in layer.flags
        if flag.code == "town_centroid"
        for row in flag.rows
    }
    for layer, row, name, point in zip(sites["layer"], sites["source_row"], sites["name"], sites.geometry, strict=True):
        if (layer, int(row)) in rough:
            tip = f"{name}: " + tips["approximate"].format(distance=distance(town_m, lang))
            rows.append((point.x, point.y, town_m, tip))
    if len(reports):  # only reports far rougher than their dots: a halo for each town-level report would hide the map
        mine = reports[reports["coas"].str.split(", ").map(lambda coas: coa in coas)]
        for event, precision, point in zip(mine["event_id"], mine["location_precision_m"], mine.geometry, strict=True):
            if not _blank(precision) and float(precision) > REPORT_HALO_MIN_M:
                tip = f"{event}: " + tips["approximate"].format(distance=distance(float(precision), lang))
                rows.append((point.x, point.y, float(precision), tip))
    return _lines("approximate", list(zip((r[3] for r in rows), _rings(rows, assessment.crs), strict=True)), HALO, 1)


HALO = [90, 90, 90, 110]  # grey and faint: many rough reports must not grey out the map


def _rings(rows: list[tuple[float, float, float, str]], crs: str) -> list[Any]:
    """Circles of each row's radius (metres, on the ground: drawn in the assessment's working CRS) around its
    longitude and latitude, as lines in degrees."""
    if not rows:
        return []
    lon, lat, radius = (np.array([r[k] for r in rows], dtype=float) for k in range(3))
    working = CRS.from_user_input(crs)
    x, y = transformer(WGS84, working).transform(lon, lat)
    circles = shapely.boundary(shapely.buffer(shapely.points(x, y), radius, quad_segs=16))
    to_degrees = transformer(working, WGS84).transform
    return list(shapely.transform(circles, lambda xy: np.column_stack(to_degrees(xy[:, 0], xy[:, 1]))))


def _scale_and_north(
    west: float, south: float, north: float, tips: dict[str, str], lang: str
) -> tuple[pdk.Layer, list[dict[str, Any]]]:
    """A scale bar in the south-west corner and a north arrow in the north-west, drawn on the ground (the bar
    keeps its true length at any zoom), and their words for the map's text layer."""
    metres_per_degree = 111_320 * math.cos(math.radians((south + north) / 2))
    height_m = max(1.0, (north - south) * 111_320)  # the view is about as wide as it is tall
    length = max((m for m in SCALE_STEPS if m <= height_m / 5), default=SCALE_STEPS[0])
    x0, y0 = west, south
    x1 = x0 + length / metres_per_degree
    arrow = (north - south) / 12  # the arrow's shaft, a twelfth of the view, and its head
    head = arrow / 3
    paths = [
        {"path": [[x0, y0], [x1, y0]], "label": distance(length, lang)},
        {"path": [[west, north - arrow], [west, north]], "label": "north"},
        {"path": [[west - head / 2, north - head], [west, north], [west + head / 2, north - head]], "label": "north"},
    ]
    bar = pdk.Layer(
        "PathLayer",
        id="scale-bar",
        data=paths,
        get_path="path",
        get_color=[0, 0, 0, 255],
        width_min_pixels=3,
    )
    texts = [
        _written(
            "north", tips["north"], shapely.Point(west, north + head / 2), size=18, anchor="middle", baseline="bottom"
        ),
        _written("scale", distance(length, lang), shapely.Point((x0 + x1) / 2, y0), anchor="middle", baseline="bottom"),
    ]
    return bar, texts


# The pointer's place is read from the square under it: at most this many squares a side over the map's frame,
# each a round number of metres, so the read-out is as precise as the square and says so.
LOCATOR_SQUARES = 50
LOCATOR_STEPS_M = (50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000)


def _density(bands: Bands) -> pdk.Layer:
    """People per cell of the surface (as redacted: coarsened cells when the output is), as an image laid over
    the study area: the cells as they are, not a blur that changes with the zoom, and one light texture where
    deck.gl's heatmap builds its own in several passes on every draw (2 s to appear with software WebGL, here
    under half a second). Darker is more people, on a log scale; no colour is no one, grey is unknown."""
    people = bands.arrays[bands.names.index("people")]
    known = np.isfinite(people)
    level = np.log1p(np.where(known, people, 0.0))
    level = level / level.max() if level.max() > 0 else level
    rgba = np.zeros((*people.shape, 4), dtype=np.uint8)
    rgba[..., 0] = np.where(known, 255 - 75 * level, 128)  # light yellow to dark red
    rgba[..., 1] = np.where(known, 230 * (1 - level), 128)
    rgba[..., 2] = np.where(known, 90 * (1 - level), 128)
    rgba[..., 3] = np.where(known, np.where(people > 0, 70 + 150 * level, 0), 90)
    image = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(image, "PNG")
    rows, cols = people.shape
    t = bands.transform
    west, north, east, south = t.c, t.f, t.c + cols * t.a, t.f + rows * t.e
    to_wgs84 = transformer(CRS.from_user_input(bands.crs), WGS84).transform
    corners = [list(to_wgs84(x, y)) for x, y in ((west, south), (west, north), (east, north), (east, south))]
    return pdk.Layer(
        "BitmapLayer",
        id="heatmap",
        image=f'"data:image/png;base64,{base64.b64encode(image.getvalue()).decode()}"',  # quoted: a value, not code
        bounds=corners,  # the grid's corners: the working CRS's squares, slightly turned in degrees
    )


def _locator(bounds: tuple[float, float, float, float], lang: str) -> pdk.Layer:
    """Squares, nearly invisible, over the backdrop and under every other layer: hovering anywhere on the map
    reads the place under the pointer in MGRS and degrees, the centre of its square (deck.gl's tooltips see
    objects, not coordinates)."""
    west, south, east, north = bounds
    metres_per_degree_lat = 111_320.0
    metres_per_degree_lon = metres_per_degree_lat * math.cos(math.radians((south + north) / 2))
    span_m = max((east - west) * metres_per_degree_lon, (north - south) * metres_per_degree_lat)
    step = next((m for m in LOCATOR_STEPS_M if span_m / m <= LOCATOR_SQUARES), LOCATOR_STEPS_M[-1])
    dx, dy = step / metres_per_degree_lon, step / metres_per_degree_lat
    xs = west + dx * np.arange(math.ceil((east - west) / dx))
    ys = south + dy * np.arange(math.ceil((north - south) / dy))
    square = words(lang)["tips"]["square"].format(distance=distance(step, lang))
    # Each square is sent as its column and row; the browser makes its corners (the spec is sent whole on every
    # rerun, and parsed there: 2,000 squares' corners were two thirds of it). Neighbours share corners exactly.
    rows = [
        {"i": i, "j": j, "tip": f"{where(x + dx / 2, y + dy / 2)} ({square})"}
        for j, y in enumerate(ys)
        for i, x in enumerate(xs)
    ]
    exact = np.format_float_positional  # shortest exact digits, never 1e-05: the browser parses what it is sent
    lon = [f"{exact(west)} + {k} * {exact(dx)}" for k in ("i", "(i + 1)")]
    lat = [f"{exact(south)} + {k} * {exact(dy)}" for k in ("j", "(j + 1)")]
    polygon = f"[[{lon[0]}, {lat[0]}], [{lon[1]}, {lat[0]}], [{lon[1]}, {lat[1]}], [{lon[0]}, {lat[1]}]]"
    return _kept(
        "PolygonLayer",
        "locator",
        data=rows,
        get_polygon=polygon,
        get_fill_color=[0, 0, 0, 1],  # pickable, not seen
        stroked=False,
        pickable=True,
    )


def _kept(kind: str, name: str, **props: Any) -> pdk.Layer:
    """A layer the browser keeps from one map to the next while its content stays: the place-reading squares,
    the backdrop and the roads are the same on every map of an assessment (every COA, with or without the
    heatmap), yet arrive as new objects on every rerun, and deck.gl would make their shapes again each time
    (a COA change drawn 0.63 s -> 0.49 s for the squares alone). The layer is named after what it holds and told
    its data never changes, so a map with other content (another plan, another language) has a new layer."""
    content = hashlib.sha256(json.dumps(props, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    # pydeck sends a string as an expression: a function that always says "the same data"
    return pdk.Layer(kind, id=f"{name}@{content}", data_comparator="true", **props)


def where(lon: float, lat: float) -> str:
    """A point in MGRS (10 m) and in degrees: '36N WM 6135 8845 · 6.2356N 33.5612E'."""
    reference = mgrs_reference(lon, lat)
    return f"{reference} · {abs(lat):.4f}{'N' if lat >= 0 else 'S'} {abs(lon):.4f}{'E' if lon >= 0 else 'W'}"


def _drawable(text: str) -> str:
    """A label in the characters the map's text layer draws (ASCII: Streamlit's map reads a character set
    given to it as an expression, so none can be given): accents dropped, spaces plain ('Ndélé' -> 'Ndele')."""
    plain = unicodedata.normalize("NFKD", text.replace("\u202f", " ").replace("\u00a0", " "))
    return "".join(ch for ch in plain if 32 <= ord(ch) < 127)


def _points(layer_id: str, frame: gpd.GeoDataFrame, *, radius: float | None) -> pdk.Layer:
    data = pd.DataFrame(
        {
            "lon": frame.geometry.x if len(frame) else [],
            "lat": frame.geometry.y if len(frame) else [],
            "tip": frame["tip"] if len(frame) else [],
            "colour": frame["colour"] if len(frame) else [],
            "radius": frame["radius"] if radius is None and len(frame) else radius,
        }
    )
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=data,
        get_position=["lon", "lat"],
        get_fill_color="colour",
        get_radius="radius",
        radius_min_pixels=4,
        stroked=True,
        get_line_color=[0, 0, 0] if layer_id in ("sites", "displacement") else [255, 255, 255],
        line_width_min_pixels=1,
        pickable=True,
    )


def _lines(layer_id: str, lines: list[tuple[str, Any]], colour: list[int], width: int = 3) -> pdk.Layer:
    frame = gpd.GeoDataFrame({"tip": [t for t, _ in lines]}, geometry=[g for _, g in lines], crs="EPSG:4326")
    return pdk.Layer(
        "GeoJsonLayer",
        id=layer_id,
        data=_geojson(frame, ["tip"]),
        get_line_color=colour,
        line_width_min_pixels=width,
        pickable=True,
    )


def _context_layers(assessment: Assessment, frame: Any) -> list[pdk.Layer]:
    """Backdrop and roads within the map's frame (the study area and a margin, as far as the place-reading
    squares go), for orientation: never scored, never fetched. Lines are cut at the frame's edge: the browser
    draws every vertex of every road on every frame, and with software WebGL that is its largest cost on a
    COA change (Juba's roads: 6,285 vertices, 4,202 within the frame). Areas are drawn whole."""
    found = []
    for layer_id, kind, colour in (
        ("backdrop", "backdrop", [120, 150, 190, 200]),
        ("roads", "roads", [150, 150, 150, 255]),
    ):
        rows = []
        for layer in assessment.layerset.of_kind(kind):
            if "wgs84_tree" not in layer.derived:  # built once per layer, not on every map
                layer.derived["wgs84_tree"] = shapely.STRtree(layer.frame.geometry.to_numpy())
            index = layer.derived["wgs84_tree"]
            picked = layer.frame.iloc[index.query(frame)]
            shapes = picked.geometry.to_numpy()
            lines = np.isin(shapely.get_type_id(shapes), (1, 5))  # an area cut would draw the cut as its edge
            within = np.where(lines, shapely.clip_by_rect(shapes, *frame.bounds), shapes)
            picked, within = picked[~shapely.is_empty(within)], within[~shapely.is_empty(within)]
            label = picked["name"] if "name" in picked.columns else picked.get("road_id")
            kind_text = picked["feature"] if "feature" in picked.columns else picked.get("road_class")
            rows.append(
                gpd.GeoDataFrame(
                    {
                        "tip": [
                            f"{n if isinstance(n, str) else ''} ({k})" for n, k in zip(label, kind_text, strict=True)
                        ]
                    },
                    geometry=within,
                    crs="EPSG:4326",
                )
            )
        data = pd.concat(rows) if rows else gpd.GeoDataFrame({"tip": []}, geometry=[], crs="EPSG:4326")
        found.append(
            _kept(
                "GeoJsonLayer",
                layer_id,
                data=_geojson(gpd.GeoDataFrame(data, crs="EPSG:4326"), ["tip"], tolerance=ORIENTATION_TOLERANCE_DEG),
                get_line_color=colour,
                get_fill_color=[*colour[:3], 30],
                line_width_min_pixels=1,
                point_radius_min_pixels=3,
                pickable=True,
            )
        )
    return found


def preview_deck(
    assessment: Assessment, edited: Plan, effects: EffectsTable, *, lang: str = "en", style_url: str = ""
) -> tuple[pdk.Deck, list[str]]:
    """An edit seen on the map before it is applied: the edited plan's elements with their core and outer zones,
    and, in grey, where each moved, resized or deleted element was; the changes said in words, COA by COA."""
    w = words(lang)
    tips = w["tips"]

    def name(activity: str) -> str:
        return activity_name(activity, effects[activity].label, lang)

    crs = plan_crs(edited)
    to_wgs84 = transformer(crs, WGS84).transform

    def zones_of(plan: Plan) -> dict[tuple[str, str], Any]:
        found = {}
        for coa, element in plan.elements:
            zone = element_zone(element, effects, crs)
            found[coa.id, element.id] = (element, zone)
        return found

    before, after = zones_of(assessment.plan), zones_of(edited)
    changes: list[str] = []
    rows: list[dict[str, Any]] = []
    replaced: set[tuple[str, str]] = set()  # elements whose zones are not where they were: drawn before, in grey
    for (coa, ident), (element, zone) in after.items():
        if (coa, ident) in before:
            was, previous = before[coa, ident]
            said = _placement(previous, zone, w=w, lang=lang)
            if said:
                replaced.add((coa, ident))
            if was.activity != element.activity:
                said.append(f"{name(was.activity)} → {name(element.activity)}")
        else:
            said = [str(w["new"])]
        if said:
            changes.append(f"{w['coa']} {coa} · {ident}: {'; '.join(said)}")
        for which, shape, radius in (("outer", zone.outer, zone.outer_m), ("core", zone.core, zone.core_m)):
            if shape.is_empty:
                continue
            rows.append(
                {
                    "state": f"now-{which}",
                    "tip": tips["zone_preview"].format(
                        coa=coa,
                        element=ident,
                        activity=name(element.activity),
                        zone=tips[which],
                        radius=distance(radius, lang),
                    ),
                    "geometry": shapely.transform(shape, to_wgs84, interleaved=False),
                }
            )
    for key, (_, zone) in before.items():
        if key not in after:
            changes.append(f"{w['coa']} {key[0]} · {key[1]}: {w['deleted']}")
        elif key not in replaced:
            continue
        rows.append(
            {
                "state": "before",
                "tip": tips["zone_before"].format(coa=key[0], element=key[1]),
                "geometry": shapely.transform(zone.outer, to_wgs84, interleaved=False),
            }
        )
    frame = gpd.GeoDataFrame(rows, columns=["state", "tip", "geometry"], geometry="geometry", crs=WGS84)
    west, south, east, north = frame.total_bounds
    layers = [*_context_layers(assessment, shapely.box(west, south, east, north).buffer(max(east - west, 1e-3)))]
    for state, fill, line, width in (
        ("before", [110, 110, 110, 70], [110, 110, 110, 160], 1),
        ("now-outer", [0, 0, 0, 0], [*PALETTE["outer"], 230], 1),
        ("now-core", [0, 0, 0, 18], [*PALETTE["core"], 255], 2),
    ):
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                id=f"preview-{state}",
                data=_geojson(frame[frame["state"] == state], ["tip"]),
                get_fill_color=fill,
                get_line_color=line,
                line_width_min_pixels=width,
                pickable=True,
            )
        )
    texts = [
        f"{coa} {ident} {element_symbol(effects[element.activity].classes)}"
        for (coa, ident), (element, _) in after.items()
    ]
    bar, scale_words = _scale_and_north(west, south, north, tips, lang)
    symbols = _symbol_rows(texts, [e.geometry.representative_point() for e, _ in after.values()], size=13)
    layers += [bar, _text_layer([*symbols, *scale_words])]
    return _deck(layers, (west, south, east, north), style_url), changes


def _placement(previous: Zone, zone: Zone, *, w: dict[str, Any], lang: str) -> list[str]:
    """What an edit did to an element's place on the map, in words ('moved 850 m', 'core 300 m → 500 m')."""
    parts = []
    if not previous.geometry.equals(zone.geometry):
        shift = previous.geometry.centroid.distance(zone.geometry.centroid)
        parts.append(w["moved"].format(distance=distance(shift, lang)))
    for key, label in (("core_m", "core"), ("outer_m", "outer")):
        was, now = getattr(previous, key), getattr(zone, key)
        if abs(was - now) > 1e-6:
            parts.append(f"{w['tips'][label]} {distance(was, lang)} → {distance(now, lang)}")
    return parts


# Harm recorded after the operation: black discs with a white rim, apart from every coloured legend entry.
HARM_FILL = [0, 0, 0, 235]
HARM_RIM = [255, 255, 255, 255]


def harm_deck(found: Bundle, coa: str, *, lang: str = "en", style_url: str = "") -> pdk.Deck:
    """Where harm fell after the operation, over the zones of the COA it followed: each record a black disc
    ringed by how far off its position may be, named by its id; the tooltip says what happened and where its
    review stands."""
    said = words(lang)["harm_tracking"]
    mechanisms = words(lang)["harm"]["mechanisms"]
    zones = found.layers["zones"]
    zones = zones[zones["coa"] == coa]
    harm = found.layers["harm_records"]
    harm = harm[harm["coa"] == coa].copy()
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            id=f"zones-{zone}",
            data=_geojson(zones[zones["zone"] == zone].assign(tip=zones["element"]), ["tip"]),
            filled=False,
            get_line_color=[*PALETTE[zone], 255],
            line_width_min_pixels=2 if zone == "core" else 1,
            pickable=True,
        )
        for zone in ("outer", "core")
    ]
    state = [
        said["steps"][stage]
        if stage == "intake"
        else said["state"].format(step=said["steps"][stage], status=said["statuses"][status])
        for stage, status in zip(harm["harm_stage"], harm["harm_status"], strict=True)
    ]
    points = pd.DataFrame(
        {
            "lon": harm.geometry.x,
            "lat": harm.geometry.y,
            "radius": harm["position_precision_m"].astype(float),
            "label": [_drawable(text) for text in harm["harm_id"]],
            "tip": [
                f"{ident} · {at} · {mechanisms.get(m, m)} · "
                + said["kinds"]["deaths"].format(count=_range(dl, dh))
                + ", "
                + said["kinds"]["injuries"].format(count=_range(il, ih))
                + f" · {s} · {mgrs_reference(x, y)}"
                for ident, at, m, dl, dh, il, ih, s, x, y in zip(
                    harm["harm_id"],
                    harm["occurred_at"],
                    harm["mechanism"],
                    harm["deaths_low"],
                    harm["deaths_high"],
                    harm["injuries_low"],
                    harm["injuries_high"],
                    state,
                    harm.geometry.x,
                    harm.geometry.y,
                    strict=True,
                )
            ],
        }
    )
    layers += [
        pdk.Layer(  # how far off the position may be
            "ScatterplotLayer",
            id="harm-precision",
            data=points,
            get_position=["lon", "lat"],
            get_radius="radius",
            filled=False,
            stroked=True,
            get_line_color=[0, 0, 0, 160],
            line_width_min_pixels=1,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="harm-records",
            data=points,
            get_position=["lon", "lat"],
            get_radius=12,
            radius_min_pixels=6,
            get_fill_color=HARM_FILL,
            get_line_color=HARM_RIM,
            stroked=True,
            line_width_min_pixels=2,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            id="harm-labels",
            data=points,
            get_position=["lon", "lat"],
            get_text="label",
            get_size=13,
            get_pixel_offset=[0, -16],
            get_color=[0, 0, 0, 255],
        ),
    ]
    shapes = list(zones.geometry) + list(harm.geometry)
    bounds = tuple(shapely.union_all(shapes).buffer(0.004).bounds) if shapes else (-1.0, -1.0, 1.0, 1.0)
    return _deck(layers, bounds, style_url)


def _range(low: Any, high: Any) -> str:
    return str(int(low)) if int(low) == int(high) else f"{int(low)}–{int(high)}"


# --- the mission overview (a whole-area surface) ----------------------------------------------------------------

OVERVIEW_SIDE = 120  # 14,400 cells at most: a few megabytes of map data per view
OVERVIEW_SUMMED = ("people", "people_near_attacks")
OVERVIEW_RAMPS = {  # light to dark; blue-purple for people and care, red for violence
    "people": ([255, 234, 70], [0, 32, 77]),
    "health_minutes": ([253, 231, 37], [68, 1, 84]),
    "threat_density": ([254, 224, 210], [165, 15, 21]),
    "people_near_attacks": ([254, 224, 210], [165, 15, 21]),
}


def overview_deck(path: Path, band: str, *, lang: str, style: str) -> tuple[pdk.Deck, dict[str, Any]]:
    """The surface at ``path`` (``primum surface``) as coloured cells of one band, every band in each cell's
    tooltip. Drawn from the overview level of its COG that fits the screen (at most ``OVERVIEW_SIDE`` cells a
    side): people and people near attacks add up over the cells shown, minutes and threat density average."""
    with rasterio.open(path, driver=RASTER_DRIVER) as src:
        if tuple(src.descriptions) != BANDS:
            raise rasterio.errors.RasterioError(f"{path.name} is not a surface written by `primum surface`")
        factor = max(1, math.ceil(max(src.height, src.width) / OVERVIEW_SIDE))
        rows, cols = math.ceil(src.height / factor), math.ceil(src.width / factor)
        values = src.read(out_shape=(src.count, rows, cols), resampling=Resampling.average, masked=False)
        scale = (src.height / rows) * (src.width / cols)  # source cells per cell shown
        crs, bounds = src.crs, src.bounds
        tags = {**src.tags(), "meaning": src.tags(BANDS.index(band) + 1).get("meaning", "")}
    figures = {name: values[i] * (scale if name in OVERVIEW_SUMMED else 1.0) for i, name in enumerate(BANDS)}
    shown = figures[band]
    known = np.isfinite(shown)
    width, height = (bounds.right - bounds.left) / cols, (bounds.top - bounds.bottom) / rows
    r, c = np.nonzero(known)
    west, north = bounds.left + c * width, bounds.top - r * height
    boxes = shapely.box(west, north - height, west + width, north)
    boxes = shapely.transform(boxes, transformer(crs, WGS84).transform, interleaved=False)
    top = float(np.nanmax(shown)) if known.any() else 1.0
    low, high = OVERVIEW_RAMPS[band]
    share = _overview_share(shown[known], top, log=band in OVERVIEW_SUMMED)
    fill = [[*(int(a + (b - a) * s) for a, b in zip(low, high, strict=True)), 170] for s in share]
    w = words(lang)
    tips = [_overview_tip(figures, int(i), int(j), w, lang) for i, j in zip(r, c, strict=True)]
    cells = gpd.GeoDataFrame({"fill": fill, "tip": tips}, geometry=boxes, crs=WGS84)
    layer = pdk.Layer(
        "GeoJsonLayer",
        id=f"overview-{band}",
        data=_geojson(cells, ["fill", "tip"]),
        get_fill_color="properties.fill",
        stroked=False,
        pickable=True,
    )
    to_degrees = transformer(crs, WGS84)
    frame = to_degrees.transform_bounds(bounds.left, bounds.bottom, bounds.right, bounds.top, densify_pts=21)
    return _deck([layer], frame, style), tags


def _overview_share(values: np.ndarray, top: float, *, log: bool) -> np.ndarray:
    if top <= 0:
        return np.zeros(values.shape)
    if log:
        return np.clip(np.log1p(np.maximum(values, 0)) / math.log1p(top), 0, 1)
    return np.clip(values / top, 0, 1)


def _overview_tip(figures: dict[str, np.ndarray], i: int, j: int, w: dict[str, Any], lang: str) -> str:
    parts = []
    for name in BANDS:
        value = float(figures[name][i, j])
        text = w["tips"]["unknown"] if not math.isfinite(value) else _overview_number(value, name, lang)
        parts.append(f"{w[f'band_{name}']}: {text}")
    return " · ".join(parts)


def _overview_number(value: float, band: str, lang: str) -> str:
    text = f"{value:,.0f}" if band in OVERVIEW_SUMMED or value >= 10 else f"{value:,.2f}"
    if band == "health_minutes":
        text += " min"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text
