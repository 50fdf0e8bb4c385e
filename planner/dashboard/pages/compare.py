"""The compare page (thin: the view lives in planner/dashboard/views.py)."""

from planner.dashboard.views import compare_page

compare_page()
