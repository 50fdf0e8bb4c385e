"""The checklist page (thin: the view lives in planner/dashboard/views.py)."""

from planner.dashboard.views import checklist_page

checklist_page()
