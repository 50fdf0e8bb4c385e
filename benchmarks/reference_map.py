"""The browser benchmark's reference: the dashboard's maps shown the way a skilled user would show them with
Streamlit and pydeck directly, in a page that holds nothing else.

    streamlit run benchmarks/reference_map.py   # with PRIMUM_REFERENCE_PLAN naming a plan

The page holds the plan's COAs as a radio, the population layer as a toggle, one line naming the COA shown
(what the benchmark waits for, as it waits for the dashboard's headline) and the map of that COA, built by
the dashboard's own ``build_deck`` and shown with one ``st.pydeck_chart`` call. ``bench_browser.py`` serves it
beside the dashboard, with the same server settings, and takes both through the same steps (the first map,
a COA changed, the population layer on): what the dashboard costs beyond this page is Primum's; what this page
costs is the browser's and the libraries' (Streamlit's page, deck.gl, and WebGL, here software WebGL).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pydeck as pdk
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.assess import Assessment, assess
from planner.dashboard.deck import build_deck
from planner.dashboard.views import MAP_HEIGHT_PX
from planner.outputs import bundle
from planner.plan import open_plan
from planner.redaction import policy
from planner.settings import load_settings
from planner.words import words

WORDS = words("en")


@st.cache_resource
def _assessment(path: str) -> Assessment:
    plan, layers = open_plan(Path(path))
    return assess(plan, layers)


@st.cache_resource
def _deck(path: str, coa: str, heatmap: bool) -> pdk.Deck:
    """The dashboard's map of ``coa``: no sources shown, in English."""
    assessment = _assessment(path)
    found = bundle(assessment, policy(None, load_settings().redaction))
    return build_deck(assessment, found, coa, heatmap=heatmap, fictional_label=WORDS["fictional_map_label"])


st.set_page_config(page_title="Reference map", layout="wide")
st.sidebar.write("Reference")  # a sidebar as wide as the dashboard's: the map's canvas is the same size
path = os.environ["PRIMUM_REFERENCE_PLAN"]
coa = st.radio(WORDS["coa"], [r.coa.id for r in _assessment(path).coas], horizontal=True)
heatmap = st.toggle(WORDS["heatmap"])
st.markdown(f"COA {coa} · " + (WORDS["legend_density"] if heatmap else ""))
st.pydeck_chart(_deck(path, coa, heatmap), height=MAP_HEIGHT_PX)
