"""The harm page (thin: the view lives in planner/dashboard/harm.py)."""

from planner.dashboard.harm import harm_page

harm_page()
