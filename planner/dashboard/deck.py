"""The dashboard's map as a pydeck ``Deck``: drawn only from the layers, with no basemap and nothing fetched.

``map_provider=None`` and a ``map_style`` with no sources, given as a ``data:`` URL (``BLANK_STYLE_URL``):
without a style of its own, Streamlit's map component loads a Carto basemap from the internet. The backdrop
(rivers, boundaries, settlements) and the roads come from the layer set instead. Every layer has a fixed
``id`` (tests and the browser find them by it), data is EPSG:4326, and each feature carries its own
plain-text tooltip (``tip``): pydeck's ``text`` tooltips are never read as HTML, so a site name with markup
stays text. The reports drawn are the redacted ``threat_reports`` of an ``outputs.Bundle``, so the map shows
exactly what an export would, and sources only when the redaction allows.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from planner.assess import Assessment
from planner.outputs import Bundle

# A map style with no sources: a plain background. Without a style, Streamlit's map component falls back to a
# Carto basemap fetched from the internet (checked in its JavaScript bundle, Streamlit 1.67).
BLANK_STYLE = {
    "version": 8,
    "sources": {},
    "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#f2efe9"}}],
}
# Streamlit's component takes the style as a string: a data: URL is read in the browser, never fetched.
BLANK_STYLE_URL = "data:application/json;base64," + base64.b64encode(json.dumps(BLANK_STYLE).encode()).decode()
LAYER_IDS = (
    "backdrop",
    "roads",
    "risk-cells",
    "heatmap",
    "zones-outer",
    "zones-core",
    "closures",
    "routes",
    "casevac",
    "sites",
    "displacement",
    "threat-reports",
    "fictional-label",
)
CATEGORY_COLOURS = {
    "health": [200, 30, 45],
    "education": [30, 100, 200],
    "worship": [120, 70, 160],
    "market": [220, 140, 20],
    "water": [20, 150, 190],
    "power": [90, 90, 90],
    "bridge": [120, 90, 50],
    "humanitarian": [0, 150, 110],
    "government": [60, 60, 140],
    "other": [130, 130, 130],
    "displacement": [0, 120, 60],
}
KIND_COLOURS = {
    "attack_on_civilians": [150, 0, 0],
    "sexual_violence": [170, 0, 120],
    "armed_clash": [210, 90, 0],
    "explosion": [240, 60, 0],
    "unrest": [200, 170, 0],
    "strategic": [100, 100, 160],
    "other": [110, 110, 110],
}


def _geojson(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """Only the columns the map needs: a Deck sends its data inline on every rerun."""
    keep = [c for c in columns if c in frame.columns]
    return frame[[*keep, "geometry"]].__geo_interface__


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
) -> pdk.Deck:
    """The map of one COA: risk cells, zones, sites, displacement sites, reports, roads, closures, routes."""
    result = next(r for r in assessment.coas if r.coa.id == coa)
    west, south, east, north = (
        found.layers["risk_cells"].total_bounds
        if len(found.layers["risk_cells"])
        else (found.layers["zones"].total_bounds)
    )
    frame = shapely.box(west, south, east, north).buffer(max(east - west, north - south) * 0.3)
    on = pd.Timestamp(assessment.plan.window.start.date())
    layers = [*_context_layers(assessment, frame)]

    cells = found.layers["risk_cells"].copy()
    score = f"score_{coa}"
    top = float(cells[score].max()) if len(cells) and cells[score].max() > 0 else 1.0
    cells = cells[cells[score] > 0]
    cells["fill"] = [[200, 30, 30, int(40 + 180 * min(1.0, v / top))] for v in cells[score]]
    cells["tip"] = [
        f"expected harm {s:.2f} casualty-equivalents (COA {coa}) · people {p:.0f} · displaced {d:.0f} · "
        f"reports/km² {t:.2f}"
        for s, p, d, t in zip(
            cells[score], cells["people"].fillna(0), cells["displaced"], cells["threat_per_km2"], strict=True
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
        points = found.layers["risk_cells"].copy()
        points = points[points["people"].fillna(0) > 0]
        centres = points.geometry.representative_point() if len(points) else points.geometry
        layers.append(
            pdk.Layer(
                "HeatmapLayer",
                id="heatmap",
                data=pd.DataFrame({"lon": centres.x, "lat": centres.y, "w": points["people"].fillna(0)}),
                get_position=["lon", "lat"],
                get_weight="w",
                radius_pixels=40,
                opacity=0.6,
            )
        )

    zones = found.layers["zones"]
    zones = zones[zones["coa"] == coa].copy()
    zones["tip"] = [
        f"{e} ({a}) · {z} zone {r:g} m · people {_people(p)} · displaced {_people(d)}"
        for e, a, z, r, p, d in zip(
            zones["element"],
            zones["activity_label"],
            zones["zone"],
            zones["radius_m"],
            zones["people"],
            zones["displaced"],
            strict=True,
        )
    ]
    for zone, fill, line in (
        ("outer", [255, 160, 0, 40], [230, 120, 0, 220]),
        ("core", [220, 0, 0, 70], [180, 0, 0, 255]),
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
        f"closed road {r} ({c}) by {e}" + (" · sole link" if s else "") + (" · bridge" if b else "")
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
            get_line_color=[0, 0, 0, 255],
            line_width_min_pixels=4,
            pickable=True,
        )
    )
    routes = [
        (f"route {r.element}: planned, {r.planned.time_min:.0f} min", r.planned.geometry)
        for r in result.access.routes
        if r.planned
    ]
    routes += [
        (f"route {r.element}: alternative {i}, {a.time_min:.0f} min", a.geometry)
        for r in result.access.routes
        for i, a in enumerate(r.alternatives, start=1)
    ]
    layers.append(_lines("routes", routes, [40, 90, 200, 220]))
    casevac = [
        (f"CASEVAC {c.patients} from {c.element} to {c.facility}: {c.time_min:.0f} min", c.geometry)
        for c in result.access.casevac
        if c.geometry is not None and c.time_min is not None
    ]
    layers.append(_lines("casevac", casevac, [0, 160, 80, 230]))

    sites = found.layers["sites"]
    sites = sites[sites["coa"] == coa].copy()
    sites["tip"] = [
        f"{n or i} · {c} · {z} zone of {e}, {d:.0f} m"
        + (f" · {_people(p)} people" if not _blank(p) else "")
        + (f" · {k}" if k else "")
        for n, i, c, z, e, d, p, k in zip(
            sites["name"],
            sites["site_id"],
            sites["category"],
            sites["zone"],
            sites["element"],
            sites["distance_m"],
            sites["population"],
            sites["precautions"],
            strict=True,
        )
    ]
    sites["colour"] = [CATEGORY_COLOURS.get(c, CATEGORY_COLOURS["other"]) for c in sites["category"]]
    points = sites.copy()
    points["geometry"] = points.geometry.representative_point()
    camps = points[points["category"] == "displacement"].copy()
    camps["radius"] = [30 if _blank(p) else 30 + 2 * math.sqrt(p) for p in camps["population"]]  # area ~ people
    others = points[points["category"] != "displacement"]
    layers.append(_points("sites", others, radius=40))
    layers.append(_points("displacement", camps, radius=None))

    reports = found.layers["threat_reports"].copy()
    reports = reports[reports["coas"].str.split(", ").map(lambda coas: coa in coas)] if len(reports) else reports
    alpha = _age_alpha(reports["date"], on) if len(reports) else []
    reports["colour"] = [
        [*KIND_COLOURS.get(k, KIND_COLOURS["other"]), a] for k, a in zip(reports["kind"], alpha, strict=True)
    ]
    extra = [
        c
        for c in reports.columns
        if c.startswith(tuple(f"{layer.id}_" for layer in assessment.layerset.of_kind("threats")))
    ]
    reports["tip"] = [
        f"{row['event_id']} · {row['kind']} · {row['date']} · {row['distance_m']:.0f} m from the footprint"
        f" · {row['position']}" + "".join(f" · {c}: {row[c]}" for c in extra)
        for _, row in reports.iterrows()
    ]
    reports["radius"] = 35.0
    layers.append(_points("threat-reports", reports, radius=None))

    centre = shapely.box(west, south, east, north).centroid
    if found.fictional:
        layers.append(
            pdk.Layer(
                "TextLayer",
                id="fictional-label",
                data=[{"text": fictional_label, "lon": centre.x, "lat": north}],
                get_position=["lon", "lat"],
                get_text="text",
                get_size=18,
                get_color=[176, 0, 32, 255],
                get_text_anchor='"middle"',
                get_alignment_baseline='"bottom"',
            )
        )
    span = max(east - west, north - south, 1e-3)
    view = pdk.ViewState(longitude=centre.x, latitude=centre.y, zoom=max(1.0, min(16.0, math.log2(360 / span) + 0.3)))
    return pdk.Deck(
        layers=layers, initial_view_state=view, map_provider=None, map_style=BLANK_STYLE_URL, tooltip={"text": "{tip}"}
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _people(value: Any) -> str:
    return "unknown" if _blank(value) else f"{value:,.0f}"


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
        get_line_color=[255, 255, 255],
        line_width_min_pixels=1,
        pickable=True,
    )


def _lines(layer_id: str, lines: list[tuple[str, Any]], colour: list[int]) -> pdk.Layer:
    frame = gpd.GeoDataFrame({"tip": [t for t, _ in lines]}, geometry=[g for _, g in lines], crs="EPSG:4326")
    return pdk.Layer(
        "GeoJsonLayer",
        id=layer_id,
        data=_geojson(frame, ["tip"]),
        get_line_color=colour,
        line_width_min_pixels=3,
        pickable=True,
    )


def _context_layers(assessment: Assessment, frame: Any) -> list[pdk.Layer]:
    """Backdrop and roads near the study area, for orientation: never scored, never fetched."""
    found = []
    for layer_id, kind, colour in (
        ("backdrop", "backdrop", [120, 150, 190, 200]),
        ("roads", "roads", [150, 150, 150, 255]),
    ):
        rows = []
        for layer in assessment.layerset.of_kind(kind):
            index = layer.derived.setdefault("wgs84_tree", shapely.STRtree(layer.frame.geometry.to_numpy()))
            picked = layer.frame.iloc[index.query(frame)]
            label = picked["name"] if "name" in picked.columns else picked.get("road_id")
            kind_text = picked["feature"] if "feature" in picked.columns else picked.get("road_class")
            rows.append(
                gpd.GeoDataFrame(
                    {
                        "tip": [
                            f"{n if isinstance(n, str) else ''} ({k})" for n, k in zip(label, kind_text, strict=True)
                        ]
                    },
                    geometry=picked.geometry.to_numpy(),
                    crs="EPSG:4326",
                )
            )
        data = pd.concat(rows) if rows else gpd.GeoDataFrame({"tip": []}, geometry=[], crs="EPSG:4326")
        found.append(
            pdk.Layer(
                "GeoJsonLayer",
                id=layer_id,
                data=_geojson(gpd.GeoDataFrame(data, crs="EPSG:4326"), ["tip"]),
                get_line_color=colour,
                get_fill_color=[*colour[:3], 30],
                line_width_min_pixels=1,
                point_radius_min_pixels=3,
                pickable=True,
            )
        )
    return found
