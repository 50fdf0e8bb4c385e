"""One story: the summary, the JSON, the map's cells, the brief and the checklist read the same harm figures.

Every place a person reads a COA's estimate is walked here, in English and French, and compared with the
estimate itself: the casualty range, the level, the index behind the map's cells, and no sentence that says
"nobody" where the figures say somebody.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planner.assess import Assessment, assess
from planner.brief import brief_html
from planner.cli import render_assessment
from planner.harm import Range
from planner.outputs import bundle
from planner.plan import open_plan
from planner.redaction import policy
from planner.risk import range_text
from planner.settings import RedactionSettings
from planner.words import words

ROOT = Path(__file__).resolve().parent.parent
# Sentences that deny harm; each may only appear where the figures behind it are zero.
DENIALS = re.compile(r"\b(no residents|no one|nobody|aucun résident|personne n'est)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def sample() -> Assessment:
    plan, layerset = open_plan(ROOT / "scenarios/sample.yaml")
    return assess(plan, layerset)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_json_the_summary_and_the_brief_give_the_same_estimate(sample: Assessment, lang: str) -> None:
    result = sample.to_dict(lang)
    summary = render_assessment(sample.to_dict())
    html = brief_html(sample, bundle(sample, policy(None, RedactionSettings()), lang=lang))
    for coa, found in zip(result["coas"], sample.coas, strict=True):
        risk = coa["risk"]
        casualties = Range(**risk["casualties"])
        expected = found.risk.casualties
        assert (casualties.low, casualties.central, casualties.high) == pytest.approx(
            (expected.low, expected.central, expected.high), abs=1e-3
        )
        assert risk["score"] == found.risk.score and risk["level"] == found.risk.level
        assert range_text(found.risk.casualties) in summary  # the command line's table and lines
        assert escape(range_text(found.risk.casualties, lang)) in html  # the brief's COA table
        assert words(lang)["levels"][found.risk.level] in html
        # Each contribution's sentence names the mechanism in the reader's language.
        mechanisms = words(lang)["harm"]["mechanisms"]
        for key, contribution in risk["contributions"].items():
            if key != "harm_by_others" and contribution["share_pct"] > 0:
                assert mechanisms[key] in contribution["explanation"]


def test_the_maps_cells_add_up_to_each_coas_index(sample: Assessment) -> None:
    shown = bundle(sample, policy(None, RedactionSettings())).layers["risk_cells"]
    for found in sample.coas:
        index = found.risk.harm.index.central
        assert float(np.sum(sample.surface.score[found.coa.id])) == pytest.approx(index, rel=1e-6)
        assert float(shown[f"score_{found.coa.id}"].sum()) == pytest.approx(index, rel=1e-6)


def test_no_sentence_says_nobody_where_the_figures_say_somebody(sample: Assessment) -> None:
    for lang in ("en", "fr"):
        result = sample.to_dict(lang)
        for coa in result["coas"]:
            texts = [c["explanation"] for c in coa["risk"]["contributions"].values()]
            texts += [e for item in coa["checklist"]["items"] for e in _evidence(item)]
            people = sum(m["people_reached"]["central"] for m in coa["risk"]["mechanisms"])
            if people > 0:
                assert not [t for t in texts if DENIALS.search(t)], coa["id"]
    # The checklist's homes-in-the-core figure and the estimate's reach agree that people are there.
    for found, coa in zip(sample.coas, sample.to_dict()["coas"], strict=True):
        core = coa["exposure"]["core"]["people"] or 0
        if core > 0:
            assert found.risk.harm.mechanisms and any(
                m.residents_reached.central > 0 for m in found.risk.harm.mechanisms
            )


def _evidence(item: dict[str, Any]) -> list[str]:
    return [e if isinstance(e, str) else e.get("text", "") for e in item.get("evidence", [])]
