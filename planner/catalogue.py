"""The precaution catalogue: rules as data, one YAML file per language, checked against each other on load.

Each rule has a stable id (``P01``), a title, the precaution text, owner roles, basis, severity, what data
would decide it when the layers cannot, and one or more declarative triggers (the rule is raised when any
trigger finds evidence). Thresholds are named, not written: ``at_least: homes_in_core_people`` refers to
``[checklist]`` in the settings. Every text may carry placeholders filled with the evidence, each language
with the same ones.

A mission edits a copy of the folder (``[checklist] catalogue = "rules/"`` in its settings) to add or change
rules; a bad file gets an error naming the file, the rule and the key.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner._yamlfile import load_yaml, parse_yaml, validate_model
from planner.effects import ACTIVITY_CLASSES
from planner.errors import Collector, InputError
from planner.layers.model import CATEGORIES
from planner.layers.threats import THREAT_KINDS
from planner.opening import file_identity
from planner.places import COMPASS
from planner.settings import ChecklistSettings

BASE_LANGUAGE = "en"
SEVERITIES = ("high", "medium", "low")
# The vocabularies a trigger may name come from where they are defined, never copied.
ActivityClass = Literal[ACTIVITY_CLASSES]  # type: ignore[valid-type]
SITE_CATEGORIES = (*CATEGORIES, "displacement")  # displacement sites come from their own layers
SiteCategory = Literal[SITE_CATEGORIES]  # type: ignore[valid-type]
# Plan keys a trigger may be gated on (``when_plan: {partner_force: true}``).
PLAN_GATES = ("partner_force", "surprise_essential", "close_core_roads", "fictional")
# Settings a trigger may name as its threshold.
THRESHOLDS = tuple(
    name for name, f in ChecklistSettings.model_fields.items() if f.annotation in (float, int, "float", "int")
)

# Placeholders each kind of evidence fills; every template may also use {coa}.
ACCESS_FIELDS = {
    "residents_beyond_reach": ("people", "limit_min", "facilities"),
    "residents_cut_from_care": ("people", "limit_min", "worse_by_min"),
    "sites_beyond_reach": ("place", "people", "before_min", "during_min", "limit_min"),
    "sites_beyond_before": ("place", "people", "before_min", "during_min", "limit_min"),
    "off_network": ("people",),
    "cut_off": ("place", "kind", "people", "lost", "roads"),
    "sites_cut_off": ("place", "kind", "lost", "roads"),
    "route_populated": ("element", "people", "markets", "window"),
    "heavy_sole_link": ("element", "roads"),
    "heavy_rainy_earth": ("element", "roads", "season"),
    "closed_sole_link": ("element", "roads"),
}
FIELDS: dict[str, tuple[str, ...]] = {
    "site": (
        "site",
        "category",
        "subtype",
        "layer",
        "row",
        "element",
        "activity",
        "zone",
        "distance_m",
        "people",
        "hours",
    ),
    "element": (
        "element",
        "activity",
        "people",
        "people_core",
        "area_km2",
        "density_km2",
        "threshold",
        "munitions",
        "sites",
        "window",
        "night",
        "where",
    ),
    "exposure": ("zone", "element", "activity", "people", "displaced", "value", "threshold", "coverage_pct"),
    "reports": ("count", "kinds", "latest", "nearest_m", "events", "more", "actors", "days"),
    "cordon": ("element", "activity", "people", "hours", "hours_from", "threshold", "inside", "missing_inside"),
    "data": ("layer", "code", "message"),
    "languages": ("missing", "communities", "interpreters"),
    "comparison": ("score", "best", "best_score", "difference"),
    "better_position": (
        "element",
        "grid",
        "position",
        "moved",
        "bearing",
        "casualties",
        "planned_casualties",
        "element_casualties",
        "planned_element_casualties",
        "score",
        "planned_score",
        "candidates",
        "within",
    ),
    "past_harm": (
        "harm",
        "day",
        "what",
        "deaths",
        "injuries",
        "mechanism",
        "activity",
        "placed",
        "where",
        "state",
        "community",
        "owed",
    ),
    "support": ("support", "kind", "partner", "unit", "due", "why"),
    "always": (),
    "prompt": (),
}
# What the evaluator says when the data cannot decide a trigger, and the placeholders each message fills.
MESSAGES: dict[str, tuple[str, ...]] = {
    "no_sites_layer": ("categories",),
    "no_displacement_layer": (),
    "hours_unknown": ("site", "element", "zone", "distance_m"),
    "no_population": ("element",),
    "partial_population": ("zone", "coverage_pct", "value", "threshold"),
    "observer_unknown": ("element",),
    "no_threat_layer": (),
    "no_partner_names": (),
    "no_own_force_names": (),
    "no_community_data": (),
    "no_roads": (),
    "no_languages": (),
    "no_vulnerability_data": (),
    "no_movement_data": (),
}
# Words used around the items (headings, 'unknown'), in each language.
LABELS = (
    "checklist",
    "finding",
    "prompt",
    "evidence",
    "decided_by",
    "not_raised",
    "unknown",
    "concerned",
    "unreachable",
    "yes",
    "no",
    "core",
    "outer",
    "all",
    "added_by_hand",
    *SITE_CATEGORIES,
    *THREAT_KINDS,
    "dry",
    "rainy",
    "where",
    "where_at",
    "homes",
    "more_events",
    "hours_plan",
    "hours_window",
    "usual_hours",
    "coarse_place",
    *COMPASS,
)
# Evidence values of these fields are words of the catalogue (categories, zones, seasons), translated.
TRANSLATED_FIELDS = ("zone", "category", "season", "lost", "kind", "inside", "missing_inside", "hours_from")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Trigger(_Strict):
    evidence: str = Field("", description="how one piece of evidence reads, with placeholders")
    when_activity: list[ActivityClass] = Field(
        default_factory=list, description="evaluate only for a COA with an element of any of these classes"
    )
    when_plan: dict[Literal[PLAN_GATES], bool] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="evaluate only when the plan's keys have these values"
    )


class SiteTrigger(_Trigger):
    """Sites of some categories in the zones of elements (of some activity classes)."""

    type: Literal["site"]
    categories: list[SiteCategory] = Field(min_length=1)
    zones: list[Literal["core", "outer"]] = Field(default_factory=lambda: ["core", "outer"], min_length=1)  # type: ignore[arg-type]
    activity: list[ActivityClass] = Field(default_factory=list, description="any of these classes; empty: any")
    open_in_window: bool = Field(False, description="only sites open during the window (unknown hours: a prompt)")


class ElementTrigger(_Trigger):
    """Elements of some activity classes, optionally in a populated area, without an observer, near civilians."""

    type: Literal["element"]
    activity: list[ActivityClass] = Field(default_factory=list, description="any of these classes; empty: any")
    observer: bool | None = Field(None, description="false: only elements without an observer on the target")
    populated: bool = Field(False, description="only when people per km² in its zones reach populated_area_km2")
    near_civilians: bool = Field(False, description="only when people live in its zones, or a displacement site")
    near_at_least: str = Field("near_people", description="a setting: how many people make its zones 'near civilians'")
    camps: bool = Field(True, description="near_civilians: a displacement site in its zones counts too")

    @field_validator("near_at_least")
    @classmethod
    def _known(cls, value: str) -> str:
        return _threshold(value)


class ExposureTrigger(_Trigger):
    """People in the COA's zones at or above a threshold."""

    type: Literal["exposure"]
    activity: list[ActivityClass] = Field(
        default_factory=list, description="per element of these classes; empty: the whole COA"
    )
    zone: Literal["core", "all"]
    measure: Literal["people", "people_weighted", "people_and_displaced"]
    at_least: str

    @field_validator("at_least")
    @classmethod
    def _known(cls, value: str) -> str:
        return _threshold(value)


class ReportsTrigger(_Trigger):
    """Threat reports near the footprint (or anywhere in the layers) that match."""

    type: Literal["reports"]
    kinds: list[str] = Field(default_factory=list, description="threat kinds; empty: any")
    civilian_targeting: bool = False
    community_source: bool = False
    actors: Literal["partner", "own_force"] | None = None
    scope: Literal["near", "layers"] = Field("near", description="near the footprint, or anywhere in the layers")
    within_days: str | None = Field(None, description="a setting: only reports this recent; default the threat window")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(THREAT_KINDS))
        if unknown:
            raise ValueError(f"unknown threat kind(s) {', '.join(unknown)}; use {', '.join(THREAT_KINDS)}")
        return value

    @field_validator("within_days")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return None if value is None else _threshold(value)


class CordonTrigger(_Trigger):
    """People held inside a cordon for long: how long, how many, and what they have inside."""

    type: Literal["cordon"]
    at_least_hours: str = Field(description="a setting: cordons lasting this long raise the rule")

    @field_validator("at_least_hours")
    @classmethod
    def _known(cls, value: str) -> str:
        return _threshold(value)


class AccessTrigger(_Trigger):
    """A finding of the access analysis on the road network."""

    type: Literal["access"]
    finding: Literal[tuple(ACCESS_FIELDS)]  # type: ignore[valid-type]
    lost: list[str] = Field(default_factory=list, description="cut_off: only these lost services; empty: any")


class DataTrigger(_Trigger):
    """Data-quality flags on the COA's figures or the layers."""

    type: Literal["data"]
    codes: list[str] = Field(min_length=1)


class LanguagesTrigger(_Trigger):
    """Community languages the plan names that its interpreters do not cover."""

    type: Literal["languages"]


class ComparisonTrigger(_Trigger):
    """The COA expects more civilian harm than another COA of the plan."""

    type: Literal["comparison"]


class BetterPositionTrigger(_Trigger):
    """A position sweep found where an element of the COA would do less harm (``primum sweep``)."""

    type: Literal["better_position"]


class PastHarmTrigger(_Trigger):
    """Harm this force caused after earlier operations near the footprint, from the record's harm tracking."""

    type: Literal["past_harm"]
    amends_owed: bool = Field(False, description="only harm for which amends or condolence are still owed")


class SupportTrigger(_Trigger):
    """Support registered to a partner force the plan names, with a follow-up overdue or a finding open."""

    type: Literal["support"]


class AlwaysTrigger(_Trigger):
    type: Literal["always"]


class PromptTrigger(_Trigger):
    """No layer can decide this: always a prompt for the adviser, saying what is missing."""

    type: Literal["prompt"]
    missing: Literal[tuple(MESSAGES)]  # type: ignore[valid-type]


Trigger = Annotated[
    SiteTrigger
    | ElementTrigger
    | ExposureTrigger
    | ReportsTrigger
    | AccessTrigger
    | CordonTrigger
    | DataTrigger
    | LanguagesTrigger
    | ComparisonTrigger
    | BetterPositionTrigger
    | PastHarmTrigger
    | SupportTrigger
    | AlwaysTrigger
    | PromptTrigger,
    Field(discriminator="type"),
]


class Rule(_Strict):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1, description="the precaution; may use {count} and {subjects}")
    owner: list[str] = Field(min_length=1)
    basis: str
    severity: Literal[SEVERITIES]  # type: ignore[valid-type]
    decided_by: str = Field("", description="the data that would decide the rule when the layers cannot")
    clear: str = Field("", description="what was checked, said when the rule is not raised")
    context: bool = Field(
        False, description="about the area, not the operation: shown beside the checklist, never an item to review"
    )
    triggers: list[Trigger] = Field(min_length=1)


class CatalogueFile(_Strict):
    language: str = Field(min_length=2)
    name: str
    roles: dict[str, str] = Field(min_length=1)
    severities: dict[Literal[SEVERITIES], str]  # type: ignore[valid-type]
    labels: dict[Literal[LABELS], str]  # type: ignore[valid-type]
    messages: dict[Literal[tuple(MESSAGES)], str]  # type: ignore[valid-type]
    rules: dict[str, Rule] = Field(min_length=1)


def _threshold(value: str) -> str:
    if value not in THRESHOLDS:
        raise ValueError(f"unknown threshold '{value}'; use a [checklist] setting: {', '.join(THRESHOLDS)}")
    return value


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Catalogue:
    """The rules in every language, consistent with each other; ``source`` says where they were read."""

    source: str
    languages: dict[str, CatalogueFile]

    @property
    def rules(self) -> dict[str, Rule]:
        """The rules with their triggers (the base language's file)."""
        return self.languages[BASE_LANGUAGE].rules

    def language(self, lang: str) -> CatalogueFile:
        if lang not in self.languages:
            raise InputError.single(
                self.source, "", f"no catalogue in language '{lang}'", f"use one of {', '.join(sorted(self.languages))}"
            )
        return self.languages[lang]


def load_catalogue(folder: str | Path | None = None) -> Catalogue:
    """The mission's catalogue in ``folder`` (one ``<language>.yaml`` per language), or Primum's own; parsed
    once per version of its files."""
    if folder is None:
        return _catalogue(None, ())
    folder = Path(folder)
    return _catalogue(str(folder.resolve()), tuple(file_identity(p) for p in sorted(folder.glob("*.yaml"))))


@lru_cache(maxsize=8)
def _catalogue(folder: str | None, _versions: tuple[tuple[str, int, int], ...]) -> Catalogue:
    files: dict[str, CatalogueFile] = {}
    if folder is None:
        root = resources.files("planner").joinpath("rules")
        source = "planner/rules (built in)"
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                where = Path(f"planner/rules/{entry.name}")
                files[entry.name[:-5]] = _checked(
                    validate_model(CatalogueFile, parse_yaml(entry.read_text(encoding="utf-8")), where), where
                )
    else:
        source = folder
        for path in sorted(Path(folder).glob("*.yaml")):
            files[path.stem] = _checked(validate_model(CatalogueFile, load_yaml(path), path), path)
    if BASE_LANGUAGE not in files:
        raise InputError.single(
            source, "", f"no {BASE_LANGUAGE}.yaml in the catalogue folder", "copy Primum's planner/rules/ as a start"
        )
    _consistent(files, source)
    return Catalogue(source, files)


def _checked(spec: CatalogueFile, path: Path) -> CatalogueFile:
    """Within one file: the language matches the name, owners are known roles, placeholders are known."""
    problems = Collector(path)
    if spec.language != path.stem:
        problems.add(
            "language", f"'{spec.language}' does not match the file name", f"name the file {spec.language}.yaml"
        )
    for key in set(LABELS) - set(spec.labels):
        problems.add(f"labels.{key}", "missing", "add its translation")
    for key in set(MESSAGES) - set(spec.messages):
        problems.add(f"messages.{key}", "missing", "add its translation")
    for key, text in spec.messages.items():
        for name in placeholders(text) - set(MESSAGES[key]) - {"coa"}:
            problems.add(f"messages.{key}", f"unknown placeholder {{{name}}}", f"use {_names(MESSAGES[key])}")
    for severity in set(SEVERITIES) - set(spec.severities):
        problems.add(f"severities.{severity}", "missing", "add its translation")
    for rule_id, rule in spec.rules.items():
        where = f"rules.{rule_id}"
        for role in rule.owner:
            if role not in spec.roles:
                problems.add(
                    f"{where}.owner", f"unknown role '{role}'", f"add it under roles:, or use {_names(spec.roles)}"
                )
        for name in placeholders(rule.text) - {"count", "subjects", "coa"}:
            problems.add(f"{where}.text", f"unknown placeholder {{{name}}}", "the text may use {count} and {subjects}")
        for i, trigger in enumerate(rule.triggers):
            allowed = _fields(trigger)
            for name in placeholders(trigger.evidence) - set(allowed) - {"coa"}:
                problems.add(
                    f"{where}.triggers.{i}.evidence", f"unknown placeholder {{{name}}}", f"use {_names(allowed)}"
                )
    problems.raise_if_any()
    return spec


def _fields(trigger: Any) -> tuple[str, ...]:
    return ACCESS_FIELDS[trigger.finding] if trigger.type == "access" else FIELDS[trigger.type]


def _names(names: Any) -> str:
    return ", ".join(f"{{{n}}}" for n in names) or "no placeholder"


def _consistent(files: dict[str, CatalogueFile], source: str) -> None:
    """Every language has the same rules, triggers, owners and placeholders as the base language."""
    base = files[BASE_LANGUAGE]
    for lang, spec in files.items():
        if lang == BASE_LANGUAGE:
            continue
        problems = Collector(f"{source}/{lang}.yaml")
        for rule_id in sorted(set(base.rules) - set(spec.rules)):
            problems.add(f"rules.{rule_id}", f"in {BASE_LANGUAGE}.yaml but not here", "add its translation")
        for rule_id in sorted(set(spec.rules) - set(base.rules)):
            problems.add(
                f"rules.{rule_id}", f"not in {BASE_LANGUAGE}.yaml", f"add the rule to {BASE_LANGUAGE}.yaml too"
            )
        for role in sorted(set(base.roles) ^ set(spec.roles)):
            problems.add(
                f"roles.{role}", f"roles differ from {BASE_LANGUAGE}.yaml", "give every language the same roles"
            )
        for rule_id in sorted(set(base.rules) & set(spec.rules)):
            problems.problems.extend(_rule_drift(rule_id, base.rules[rule_id], spec.rules[rule_id], problems.source))
        for key in MESSAGES:
            if placeholders(base.messages.get(key, "")) != placeholders(spec.messages.get(key, "")):
                problems.add(f"messages.{key}", f"placeholders differ from {BASE_LANGUAGE}.yaml", "use the same")
        problems.raise_if_any()


def _rule_drift(rule_id: str, base: Rule, other: Rule, source: str) -> list[Any]:
    found = Collector(source)
    where = f"rules.{rule_id}"
    for key in ("owner", "severity", "context"):
        if getattr(base, key) != getattr(other, key):
            found.add(f"{where}.{key}", f"differs from {BASE_LANGUAGE}.yaml", "translate the text only")
    if len(base.triggers) != len(other.triggers):
        found.add(f"{where}.triggers", f"not the same triggers as {BASE_LANGUAGE}.yaml", "translate the text only")
        return found.problems
    for i, (a, b) in enumerate(zip(base.triggers, other.triggers, strict=True)):
        if a.model_dump(exclude={"evidence"}) != b.model_dump(exclude={"evidence"}):
            found.add(f"{where}.triggers.{i}", f"differs from {BASE_LANGUAGE}.yaml", "translate the evidence only")
        elif placeholders(a.evidence) != placeholders(b.evidence):
            found.add(
                f"{where}.triggers.{i}.evidence", f"placeholders differ from {BASE_LANGUAGE}.yaml", "use the same"
            )
    for key in ("text", "title", "decided_by", "clear"):
        if placeholders(getattr(base, key)) != placeholders(getattr(other, key)):
            found.add(f"{where}.{key}", f"placeholders differ from {BASE_LANGUAGE}.yaml", "use the same")
    return found.problems
