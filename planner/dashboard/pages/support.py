"""The support page (thin: the view lives in planner/dashboard/harm.py)."""

from planner.dashboard.harm import support_page

support_page()
