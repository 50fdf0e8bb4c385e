"""The browser benchmark's reference for a first map: the same map as the dashboard's first, shown the way a
skilled user would show it with Streamlit and pydeck directly, in a page that holds nothing else.

    streamlit run benchmarks/reference_map.py   # with PRIMUM_REFERENCE_PLAN naming a plan

``bench_browser.py`` serves it beside the dashboard, with the same server settings, and opens both the same
way: what the dashboard's first map costs beyond this page is Primum's; what this page costs is the browser's
and the libraries' (Streamlit's page, deck.gl, and WebGL, here software WebGL).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pydeck as pdk
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.assess import assess
from planner.dashboard.deck import build_deck
from planner.dashboard.views import MAP_HEIGHT_PX
from planner.outputs import bundle
from planner.plan import open_plan
from planner.redaction import policy
from planner.settings import load_settings
from planner.words import words


@st.cache_resource
def _deck(path: str) -> pdk.Deck:
    """The dashboard's first map of the plan: its first COA, no population layer, no sources, in English."""
    plan, layers = open_plan(Path(path))
    assessment = assess(plan, layers)
    found = bundle(assessment, policy(None, load_settings().redaction))
    return build_deck(assessment, found, assessment.coas[0].coa.id, fictional_label=words("en")["fictional_map_label"])


st.set_page_config(page_title="Reference map", layout="wide")
st.sidebar.write("Reference")  # a sidebar as wide as the dashboard's: the map's canvas is the same size
st.pydeck_chart(_deck(os.environ["PRIMUM_REFERENCE_PLAN"]), height=MAP_HEIGHT_PX)
