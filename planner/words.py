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
