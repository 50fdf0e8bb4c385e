"""The signoff page (thin: the view lives in planner/dashboard/views.py)."""

from planner.dashboard.views import signoff_page

signoff_page()
