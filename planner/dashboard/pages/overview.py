"""The mission overview page (thin: the view lives in planner/dashboard/overview.py)."""

from planner.dashboard.overview import overview_page

overview_page()
