"""The signin page (thin: the view lives in planner/dashboard/views.py)."""

from planner.dashboard.views import signin_page

signin_page()
