"""The harm estimate: what each element's means would do to the civilians present at the time.

``people_present`` says who is where during the window; ``estimate_harm`` turns one COA's elements into
expected casualties, other harms and harm by others, each as a range with the figures behind it.
"""

from planner.harm.estimate import (
    HARMS,
    MECHANISMS,
    ElementThreat,
    HarmEstimate,
    MechanismFinding,
    SiteEffect,
    estimate_harm,
)
from planner.harm.presence import Group, Presence, Range, people_present

__all__ = [
    "HARMS",
    "MECHANISMS",
    "ElementThreat",
    "Group",
    "HarmEstimate",
    "MechanismFinding",
    "Presence",
    "Range",
    "SiteEffect",
    "estimate_harm",
    "people_present",
]
