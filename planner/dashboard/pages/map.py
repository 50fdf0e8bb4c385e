"""The map page (thin: the view lives in planner/dashboard/views.py)."""

from planner.dashboard.views import map_page

map_page()
