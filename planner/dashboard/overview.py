"""The mission overview page: a whole-area surface (``primum surface``) on the map, band by band, and the form
that makes one for the open plan's layer set, with its progress shown while the chunks are computed.

The map itself is ``deck.overview_deck``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import rasterio
import streamlit as st

from planner.dashboard import state
from planner.dashboard.deck import overview_deck
from planner.errors import PlannerError
from planner.opening import safe_layer_file
from planner.scale.country import BANDS, country_surface

t = state.t


def surfaces_dir() -> Path:
    """Where overviews are written and read: the mission's setting, else the project's data/surfaces/ (`data/`
    holds only what the project generates)."""
    configured = state.settings().dashboard.surfaces_dir
    return Path(configured) if configured else state.PROJECT / "data" / "surfaces"


def surface_path(layerset_path: Path, cell_m: float, on: date) -> Path:
    return surfaces_dir() / f"{layerset_path.stem}-{cell_m:g}m-{on.isoformat()}.tif"


def surfaces_of(layerset_path: Path) -> list[Path]:
    return sorted(surfaces_dir().glob(f"{layerset_path.stem}-*.tif"), reverse=True)


def overview_page() -> None:
    from planner.dashboard.views import _assessment, _fictional_banner, md, show_error  # noqa: PLC0415

    st.title(t("overview_title"))
    assessment = _assessment()
    if assessment is None:
        return
    _fictional_banner(assessment)
    layerset, plan = assessment.layerset, assessment.plan
    st.caption(t("overview_note", area=md(layerset.area)))
    with st.form("overview_make"):
        cols = st.columns(3)
        cell = cols[0].number_input(t("overview_cell"), min_value=10.0, max_value=50_000.0, value=100.0, step=50.0)
        on = cols[1].date_input(t("overview_on"), value=plan.window.start.date())
        made = st.form_submit_button(t("overview_make"))
    if made:
        path = surface_path(layerset.path, float(cell), on)
        progress = state.progress_bar("overview_progress")
        try:
            surfaces_dir().mkdir(parents=True, exist_ok=True)
            country_surface(
                layerset, path, cell_m=float(cell), on=on, settings=state.settings(), season=plan.season,
                progress=progress,
            )  # fmt: skip
        except PlannerError as exc:
            show_error(exc)
            return
        st.session_state["overview_file"] = str(path)
    files = surfaces_of(layerset.path)
    if not files:
        st.info(t("overview_none"))
        return
    chosen = st.session_state.get("overview_file")
    index = next((i for i, f in enumerate(files) if str(f) == chosen), 0)
    path = st.selectbox(t("overview_file"), files, index=index, format_func=lambda p: p.name)
    band = st.radio(t("overview_band"), BANDS, horizontal=True, format_func=lambda b: t(f"band_{b}"))
    try:
        deck, tags = overview_deck(safe_layer_file(path), band, lang=state.lang(), style=state.basemap_style())
    except (PlannerError, rasterio.errors.RasterioError) as exc:
        show_error(exc)
        return
    st.pydeck_chart(deck, height=700, key="overview_map")
    st.caption(md(tags.get("meaning", "")))
    st.caption(t("overview_made", on=tags.get("on", "?"), layerset=md(tags.get("layerset", "?"))))
