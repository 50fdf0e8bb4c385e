"""Risk per COA: a score from 0 to 100 and a level, derived from the harm estimate, and what made it.

The harm estimate (``planner/harm``) gives ``H``, the COA's expected harm in casualty-equivalents: expected
casualties, sites struck at their weight, the heaviest other harm of each place (confinement, care lost,
shelter lost) and the reprisal risk of harm by others. Then::

    score = 100 * H / (H + scale)

so ``H = scale`` scores 50 (where 'high' starts by default) and the score never saturates below 100. The
range of ``H`` gives the range of the score. Contributions are shares of ``H`` by mechanism (and harm by
others); they add up to 100 % because ``H`` is their sum. Explanations are rendered in the reader's language
from the same figures (``planner/words.yaml``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from planner.harm import HarmEstimate, MechanismFinding, Range
from planner.harm.presence import Reason
from planner.settings import RiskSettings
from planner.words import words

LEVELS = ("low", "medium", "high", "extreme")
OTHERS = "harm_by_others"


def round_people(value: float) -> int:
    """People counts as field reports give them: nearest 10 below 1,000, 100 below 100,000, else 1,000."""
    if value < 1_000:
        step = 10
    elif value < 100_000:
        step = 100
    else:
        step = 1_000
    return int(math.floor(value / step + 0.5) * step)


def people_text(value: float | None, lang: str = "en") -> str:
    if value is None:
        return words(lang)["tips"]["unknown"]
    return "<10" if 0 < value < 5 else written(f"{round_people(value):,}", lang)


def harm_text(key: str, value: float, lang: str = "en") -> str:
    """An other harm's figure: people rounded as in field reports, shelters and sites as small counts."""
    return casualty_text(value, lang) if key in ("shelters_at_risk", "sites_struck") else people_text(value, lang)


def casualty_text(value: float, lang: str = "en") -> str:
    """Expected casualties as a person would say them: one decimal below 10, whole numbers above."""
    if value < 0.05:
        return "0" if value == 0 else written("<0.1", lang)
    return written(f"{value:.1f}" if value < 10 else f"{value:,.0f}", lang)


def written(figure: str, lang: str) -> str:
    """A figure formatted the English way (``1,600.5``) as ``lang`` writes it (French: ``1 600,5``)."""
    return figure.replace(",", "\u202f").replace(".", ",") if lang == "fr" else figure


def range_text(r: Range, lang: str = "en") -> str:
    """``2.3 (0.8-6.1)``: the central figure, then the range."""
    return f"{casualty_text(r.central, lang)} ({casualty_text(r.low, lang)}-{casualty_text(r.high, lang)})"


@dataclass(frozen=True)
class Contribution:
    input: str  # a mechanism (blast, rotor_wash ...) or 'harm_by_others'
    value: float  # casualty-equivalents (central) this input adds to H
    share_pct: float
    explanation: str  # in English; ``explain`` renders it in another language


@dataclass(frozen=True)
class Risk:
    score: float
    level: str
    score_range: tuple[float, float]
    harm: HarmEstimate
    contributions: dict[str, Contribution]

    @property
    def casualties(self) -> Range:
        return self.harm.casualties


def level_of(score: float, settings: RiskSettings) -> str:
    level = "low"
    for name in LEVELS[1:]:
        if score >= settings.levels[name]:
            level = name
    return level


def score_of(index: float, settings: RiskSettings) -> float:
    return 100 * index / (index + settings.scale) if index > 0 else 0.0


def risk(harm: HarmEstimate, settings: RiskSettings) -> Risk:
    """Score, level and contributions of one COA from its harm estimate."""
    index = harm.index
    score = score_of(index.central, settings)
    values: dict[str, float] = {}
    for finding in harm.mechanisms:
        values[finding.mechanism] = values.get(finding.mechanism, 0.0) + finding.value.central
    values[OTHERS] = harm.others_value.central
    total = sum(values.values())
    contributions = {
        key: Contribution(key, value, 100 * value / total if total > 0 else 0.0, explain(key, harm, total, "en"))
        for key, value in values.items()
    }
    return Risk(
        round(score, 2),
        level_of(score, settings),
        (round(score_of(index.low, settings), 2), round(score_of(index.high, settings), 2)),
        harm,
        contributions,
    )


def explain(key: str, harm: HarmEstimate, total: float | None = None, lang: str = "en") -> str:
    """One sentence saying what an input contributed, and why, in ``lang``."""
    w = words(lang)["harm"]
    total = total if total is not None else harm.index.central
    if key == OTHERS:
        return _others_text(harm, total, w, lang)
    findings = [f for f in harm.mechanisms if f.mechanism == key]
    value = sum(f.value.central for f in findings)
    pct = 100 * value / total if total > 0 else 0.0
    top = max(findings, key=lambda f: (f.value.central, f.casualties.central, f.element))
    fields: dict[str, Any] = {
        "pct": f"{pct:.0f}",
        "mechanism": w["mechanisms"][key],
        "element": top.element,
        "casualties": range_text(top.casualties, lang),
        "people": people_text(top.people_reached.central, lang),
        "details": _details(top, w, lang),
    }
    text = w["contribution"].format(**fields).replace(" ()", "")
    unknown = [reason for f in findings for reason in f.widened_by if reason[0] == "no_population"]
    if unknown:
        text += " ! " + reasons_text(unknown, lang)[0]
    if len(findings) > 1:
        text += " " + w["more_elements"].format(count=len(findings) - 1)
    return text


def _details(f: MechanismFinding, w: dict[str, Any], lang: str) -> str:
    parts = []
    if f.mechanism == "blast":
        p = f.parameters
        observed = {True: w["observed"], False: w["unobserved"], None: w["observer_unknown"]}[p["observed"]]
        parts.append(w["blast_detail"].format(rounds=p["rounds"], observed=observed, cep=f"{p['cep_m']:.0f}"))
    for key in ("people_confined", "people_losing_care", "shelters_at_risk", "sites_struck"):
        r = f.harms.get(key)
        if r is not None and r.central >= 0.05:
            parts.append(w["harms"][key].format(value=harm_text(key, r.central, lang)))
    top = next((s for s in f.sites if s.casualties.central > 0 or (s.struck or 0) > 0.01 or s.shelters), None)
    if top is not None:
        parts.append(
            w["site_detail"].format(
                site=top.name,
                people=people_text(top.people_present.central, lang),
                distance=written(f"{top.distance_m:,.0f}", lang),
            )
        )
    return "; ".join(parts)


def _others_text(harm: HarmEstimate, total: float, w: dict[str, Any], lang: str) -> str:
    value = harm.others_value.central
    pct = 100 * value / total if total > 0 else 0.0
    if not harm.threat_known:
        return w["others_unknown"].format(pct=f"{pct:.0f}")
    top = max(harm.by_others, key=lambda t: (t.value.central, t.weighted, t.element), default=None)
    if top is None or top.reports == 0:
        return w["others_calm"]
    return w["others"].format(
        pct=f"{pct:.0f}",
        element=top.element,
        reports=top.reports,
        attacks=top.attacks_on_civilians,
        latest=top.latest,
        threat=f"{100 * top.threat.central:.0f}",
        people=people_text(top.people_engaged.central, lang),
    )


def reasons_text(reasons: Iterable[Reason], lang: str = "en") -> list[str]:
    """Why ranges are wide, one sentence per kind of reason, naming what it concerns."""
    phrases = words(lang)["harm"]["reasons"]
    categories = words(lang)["categories"]  # a subject that is a site category is said in the language
    grouped: dict[str, set[str]] = defaultdict(set)
    for code, subject in reasons:
        grouped[code].add(categories.get(subject, subject))
    return [
        phrases[code].format(subjects=", ".join(sorted(s for s in subjects if s))).replace(" ()", "")
        for code, subjects in sorted(grouped.items())
    ]


@dataclass(frozen=True)
class Comparison:
    ranking: list[str]  # least expected harm first
    too_close: list[tuple[str, str]]
    summary: str


def compare(risks: dict[str, Risk], settings: RiskSettings, lang: str = "en") -> Comparison:
    ranking = sorted(risks, key=lambda coa: (risks[coa].score, coa))
    close = [
        (a, b)
        for i, a in enumerate(ranking)
        for b in ranking[i + 1 :]
        if abs(risks[a].score - risks[b].score) < settings.too_close_points
    ]
    return Comparison(ranking, close, comparison_text(ranking, close, risks, settings, lang))


def comparison_text(
    ranking: list[str], close: list[tuple[str, str]], risks: dict[str, Risk], settings: RiskSettings, lang: str
) -> str:
    w = words(lang)["harm"]
    best = ranking[0]
    if any(best in pair for pair in close):
        rivals = sorted({c for pair in close if best in pair for c in pair} - {best})
        return w["too_close"].format(best=best, rivals=", ".join(rivals), points=f"{settings.too_close_points:g}")
    return w["least_harm"].format(
        best=best, score=f"{risks[best].score:.0f}", casualties=range_text(risks[best].casualties, lang)
    )
