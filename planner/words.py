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
