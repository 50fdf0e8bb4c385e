"""The plan page (thin: the view lives in planner/dashboard/views.py)."""

from planner.dashboard.views import plan_page

plan_page()
