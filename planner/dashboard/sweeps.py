"""Position sweeps on the plan page: where else could one element go? The same ``scale.sweep.sweep`` as
``primum sweep``, run in the dashboard's process with its progress shown; the best positions are listed with
their figures, and the best one, when it does less harm, in the words P16 uses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from planner.assess import Assessment
from planner.dashboard import state
from planner.errors import PlannerError
from planner.risk import casualty_text
from planner.scale.sweep import Sweep, sweep

t = state.t
SHOWN = 10


def sweep_section(path: Path, assessment: Assessment) -> None:
    from planner.dashboard.views import md, show_error  # noqa: PLC0415 (the views import this module)

    st.subheader(t("sweep_title"))
    st.caption(t("sweep_note"))
    choices = [(r.coa.id, e.id) for r in assessment.coas for e in r.coa.elements]
    with st.form("sweep"):
        cols = st.columns([2, 1, 1])
        chosen = cols[0].selectbox(t("sweep_element"), choices, format_func=lambda c: md(f"{c[0]} · {c[1]}"))
        within = cols[1].number_input(t("sweep_within"), min_value=50.0, max_value=20_000.0, value=1000.0, step=50.0)
        step = cols[2].number_input(t("sweep_step"), min_value=10.0, max_value=5_000.0, value=250.0, step=10.0)
        run = st.form_submit_button(t("sweep_run"))
    if run and chosen:
        coa, element = chosen
        progress = state.progress_bar("sweep_progress")
        try:
            found = sweep(
                path, coa, element, within_m=float(within), step_m=float(step), settings=state.settings(),
                lang=state.lang(), progress=progress,
            )  # fmt: skip
        except PlannerError as exc:
            show_error(exc)
            return
        st.session_state["sweep_result"] = (str(path), found)
    kept = st.session_state.get("sweep_result")
    if kept and kept[0] == str(path):
        _show(kept[1])


def _show(found: Sweep) -> None:
    from planner.dashboard.views import md  # noqa: PLC0415

    lang = state.lang()
    result = found.to_dict(top=SHOWN)
    better = found.better
    if better is None:
        st.info(t("sweep_no_better", element=md(found.element), count=len(found.candidates)))
    else:
        st.success(
            t(
                "sweep_better",
                element=md(better.element),
                moved=f"{better.moved_m:,.0f}",
                bearing=better.bearing,
                grid=result["candidates"][0]["mgrs"],
                own=casualty_text(better.element_casualties, lang),
                planned=casualty_text(better.planned_element_casualties, lang),
                count=better.candidates,
            )
        )
    for key, refused in result["refused"].items():
        st.caption(t("sweep_refused", count=refused["count"], why=t(f"sweep_why_{key}")))
    rows = [
        {
            t("sweep_col_position"): c["mgrs"],
            t("sweep_col_moved"): round(c["moved_m"]),
            t("sweep_col_score"): c["risk"]["score"],
            t("sweep_col_casualties"): casualty_text(c["risk"]["casualties"]["central"], lang),
            t("sweep_col_own"): casualty_text(c["element_casualties"], lang),
        }
        for c in result["candidates"]
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
