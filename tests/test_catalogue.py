"""The catalogue as data: languages that cannot drift apart, and clear errors for a mission's bad rule file."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from planner.catalogue import load_catalogue, placeholders
from planner.errors import InputError
from planner.settings import load_settings

BUILT_IN = Path(str(resources.files("planner").joinpath("rules")))
PRECAUTIONS = [f"P{n:02d}" for n in range(1, 44)]


def test_the_built_in_catalogue_covers_every_precaution_in_english_and_french() -> None:
    catalogue = load_catalogue()
    assert set(catalogue.languages) >= {"en", "fr"}
    for words in catalogue.languages.values():
        assert list(words.rules) == PRECAUTIONS


def test_french_and_english_have_the_same_ids_triggers_and_placeholders() -> None:
    """Read the files themselves, so that a drift fails here even if the loader stopped checking."""
    en = yaml.safe_load((BUILT_IN / "en.yaml").read_text(encoding="utf-8"))
    fr = yaml.safe_load((BUILT_IN / "fr.yaml").read_text(encoding="utf-8"))
    assert en["rules"].keys() == fr["rules"].keys()
    assert en["roles"].keys() == fr["roles"].keys()
    assert en["labels"].keys() == fr["labels"].keys()
    assert en["messages"].keys() == fr["messages"].keys()
    for key in en["messages"]:
        assert placeholders(en["messages"][key]) == placeholders(fr["messages"][key]), key
    for rule_id, rule in en["rules"].items():
        other = fr["rules"][rule_id]
        assert rule["owner"] == other["owner"] and rule["severity"] == other["severity"], rule_id
        for key in ("title", "text", "decided_by", "clear"):
            assert placeholders(rule.get(key, "")) == placeholders(other.get(key, "")), (rule_id, key)
            assert (key in rule) == (key in other), (rule_id, key)
        assert len(rule["triggers"]) == len(other["triggers"]), rule_id
        for mine, theirs in zip(rule["triggers"], other["triggers"], strict=True):
            assert {k: v for k, v in mine.items() if k != "evidence"} == {
                k: v for k, v in theirs.items() if k != "evidence"
            }, rule_id
            assert placeholders(mine.get("evidence", "")) == placeholders(theirs.get("evidence", "")), rule_id
        assert rule["title"] != other["title"], f"{rule_id} is not translated"


def mission_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(BUILT_IN, folder)
    return folder


def edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems_of(folder: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_catalogue(folder)
    return str(caught.value)


def test_a_mission_adds_a_rule_in_both_languages_and_it_is_evaluated(tmp_path: Path) -> None:
    folder = mission_copy(tmp_path)
    rule = {
        "title": "Night movement",
        "text": "Check the lights of {subjects}.",
        "owner": ["planner"],
        "basis": "mission order",
        "severity": "low",
        "triggers": [{"type": "element", "activity": ["movement"], "evidence": "{element} moves"}],
    }
    edit(folder / "en.yaml", lambda d: d["rules"].update({"M01": rule}))
    edit(folder / "fr.yaml", lambda d: d["rules"].update({"M01": {**rule, "title": "Mouvement de nuit"}}))
    catalogue = load_catalogue(folder)
    assert "M01" in catalogue.rules and catalogue.language("fr").rules["M01"].title == "Mouvement de nuit"


def test_a_rule_missing_from_a_translation_is_named(tmp_path: Path) -> None:
    folder = mission_copy(tmp_path)
    edit(folder / "fr.yaml", lambda d: d["rules"].pop("P07"))
    message = problems_of(folder)
    assert "fr.yaml" in message and "rules.P07" in message and "not here" in message


def test_a_translation_that_changes_a_trigger_is_named(tmp_path: Path) -> None:
    folder = mission_copy(tmp_path)
    edit(folder / "fr.yaml", lambda d: d["rules"]["P05"]["triggers"][0].update({"activity": ["explosive"]}))
    assert "rules.P05.triggers.0" in problems_of(folder)


def test_a_translation_that_drops_a_placeholder_is_named(tmp_path: Path) -> None:
    folder = mission_copy(tmp_path)
    edit(folder / "fr.yaml", lambda d: d["rules"]["P01"]["triggers"][0].update({"evidence": "{site}"}))
    message = problems_of(folder)
    assert "rules.P01.triggers.0.evidence" in message and "placeholders differ" in message


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (
            lambda d: d["rules"]["P05"]["triggers"][0].update({"activity": ["rotorwash"]}),
            "rules.P05.triggers.0",
            "rotor_wash",
        ),
        (
            lambda d: d["rules"]["P27"]["triggers"][0].update({"at_least": "homes"}),
            "rules.P27.triggers.0",
            "unknown threshold",
        ),
        (lambda d: d["rules"]["P01"].update({"owner": ["surgeon"]}), "rules.P01.owner", "unknown role 'surgeon'"),
        (lambda d: d["rules"]["P01"].update({"severity": "urgent"}), "rules.P01.severity", "high"),
        (lambda d: d["rules"]["P01"].pop("triggers"), "rules.P01.triggers", "required"),
        (lambda d: d["rules"]["P01"]["triggers"][0].pop("type"), "rules.P01.triggers.0", "missing `type`"),
        (lambda d: d["rules"]["P01"]["triggers"][0].update({"type": "sites"}), "rules.P01.triggers.0", "type 'sites'"),
        (lambda d: d["rules"]["P01"].update({"trigger": []}), "rules.P01.trigger", "unknown key"),
        (
            lambda d: d["rules"]["P01"]["triggers"][0].update({"evidence": "{sitename}"}),
            "rules.P01.triggers.0.evidence",
            "{sitename}",
        ),
        (lambda d: d["rules"]["P13"]["triggers"][0].update({"kinds": ["riot"]}), "rules.P13.triggers.0.kinds", "riot"),
        (
            lambda d: d["rules"]["P22"]["triggers"][0].update({"when_plan": {"partner": True}}),
            "rules.P22.triggers.0",
            "partner",
        ),
    ],
)
def test_a_bad_rule_names_the_file_the_rule_and_the_key(tmp_path: Path, change: object, where: str, words: str) -> None:
    folder = mission_copy(tmp_path)
    edit(folder / "en.yaml", change)
    message = problems_of(folder)
    assert "en.yaml" in message and where in message and words in message, message


def test_a_catalogue_folder_without_english_is_refused(tmp_path: Path) -> None:
    folder = mission_copy(tmp_path)
    (folder / "en.yaml").unlink()
    assert "no en.yaml" in problems_of(folder)


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(InputError, match="use one of en, fr"):
        load_catalogue().language("sw")


def test_the_settings_name_the_missions_catalogue_relative_to_themselves(tmp_path: Path) -> None:
    mission_copy(tmp_path)
    (tmp_path / "mission.toml").write_text('[checklist]\ncatalogue = "rules"\npopulated_area_km2 = 800\n')
    settings = load_settings(tmp_path / "mission.toml")
    assert settings.checklist.catalogue == str((tmp_path / "rules").resolve())
    assert settings.checklist.populated_area_km2 == 800
    assert load_catalogue(settings.checklist.catalogue).source == settings.checklist.catalogue
