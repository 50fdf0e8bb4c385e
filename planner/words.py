"""The words of the brief and the dashboard in each language (``planner/words.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from planner._yamlfile import parse_yaml
from planner.errors import InputError

LANGUAGES = ("en", "fr")


@cache
def _all() -> dict[str, dict[str, Any]]:
    text = resources.files("planner").joinpath("words.yaml").read_text(encoding="utf-8")
    return dict(parse_yaml(text))


def words(lang: str) -> dict[str, Any]:
    """Every interface word in ``lang``; an unknown language is refused with the ones there are."""
    table = _all()
    if lang not in table:
        raise InputError.single("--lang", "", f"no words in '{lang}'", f"use one of {', '.join(sorted(table))}")
    return table[lang]


def activity_name(activity: str, label: str, lang: str) -> str:
    """An activity as ``lang`` says it. The effects table's label is the mission's own words: it is translated
    only while it is still Primum's built-in English label, never over a mission's wording."""
    builtin = _all()["en"]["activities"].get(activity)
    if builtin is None or " ".join(label.split()) != builtin:
        return label
    return str(words(lang)["activities"].get(activity, label))


def distance(metres: float, lang: str) -> str:
    """One rounding rule for every distance shown: 10 m steps below 1 km, then 0.1 km, whole km from 10 km."""
    if metres < 1000:
        return f"{number(float(round(metres, -1)), lang)} m"
    if metres < 10_000:
        return f"{number(round(metres / 1000, 1), lang)} km"
    return f"{number(float(round(metres / 1000)), lang)} km"


def number(value: float, lang: str) -> str:
    """A figure as people write it: whole numbers above 100, one decimal below; French spacing and comma."""
    text = f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.1f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text
