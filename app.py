"""Primum's dashboard: ``streamlit run app.py``. Opens on the bundled, FICTIONAL sample plan; fetches nothing.

The pages are thin (``planner/dashboard/pages/``); every rule lives in the library they call.
"""

import streamlit as st

from planner.dashboard.state import t
from planner.dashboard.views import sidebar

# No page_icon: a Material icon or an emoji favicon is fetched from Google's font servers.
st.set_page_config(page_title="Primum", layout="wide")
sidebar()
map_page = st.Page("planner/dashboard/pages/map.py", title=t("page_map"), url_path="map")


def home() -> None:
    """The root URL opens the map; every page, the map included, keeps its own address for deep links."""
    st.switch_page(map_page)


pages = [
    st.Page(home, title="Primum", url_path="home", default=True, visibility="hidden"),
    map_page,
    st.Page("planner/dashboard/pages/compare.py", title=t("page_compare"), url_path="compare"),
    st.Page("planner/dashboard/pages/overview.py", title=t("page_overview"), url_path="overview"),
    st.Page("planner/dashboard/pages/plan.py", title=t("page_plan"), url_path="plan"),
    st.Page("planner/dashboard/pages/checklist.py", title=t("page_checklist"), url_path="checklist"),
    st.Page("planner/dashboard/pages/signoff.py", title=t("page_signoff"), url_path="signoff"),
    st.Page("planner/dashboard/pages/harm.py", title=t("page_harm"), url_path="harm"),
    st.Page("planner/dashboard/pages/support.py", title=t("page_support"), url_path="support"),
    st.Page("planner/dashboard/pages/signin.py", title=t("page_signin"), url_path="signin"),
]
st.navigation(pages).run()
