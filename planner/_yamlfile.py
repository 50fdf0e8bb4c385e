"""Reading the YAML files users edit (manifests, plans, effects tables) with errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from planner.errors import InputError, Problem

Model = TypeVar("Model", bound=BaseModel)


# libyaml's parser where the wheel has it (many times faster), the pure-Python one otherwise.
FastLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(FastLoader):
    """A safe loader that refuses a key given twice in one mapping (the second would silently win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """YAML text as data, with duplicate keys refused (see ``StrictLoader``)."""
    return yaml.load(text, Loader=StrictLoader)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error becomes an InputError with the line."""
    if not path.is_file():
        raise InputError.single(
            path, "", "file not found", "check the path (relative paths are from the current folder)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(path, "", "the file is not UTF-8", "save it as UTF-8") from exc
    try:
        return parse_yaml(text)
    except RecursionError:
        raise InputError.single(path, "", "the YAML is nested too deeply to read", "flatten the file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        fix = (
            "keep one of them: the second would silently replace the first"
            if "given twice" in problem
            else "check indentation and quoting around that line"
        )
        raise InputError.single(path, where, f"YAML syntax error: {problem}", fix) from exc


def validate_model(model: type[Model], data: Any, source: Path) -> Model:
    """Validate ``data`` against ``model``; every problem is reported with its dotted key."""
    if not isinstance(data, dict):
        raise InputError.single(
            source,
            "",
            "the file must hold a mapping of keys (`key: value` lines)",
            "see the examples in the README",
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems(exc, source)) from exc


# Discriminated unions put the member's tag into an error's location ('layers.idp.displacement.population');
# users wrote 'layers.idp.population', so the tag is dropped.
_UNION_TAGS = {"population", "sites", "displacement", "threats", "roads", "backdrop"}
_TRIGGER_TAGS = {
    "site",
    "element",
    "exposure",
    "reports",
    "access",
    "data",
    "languages",
    "comparison",
    "better_position",
    "always",
    "prompt",
}


def _problems(exc: ValidationError, source: Path) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        loc = [p for i, p in enumerate(loc) if not (p in _UNION_TAGS and i == 2 and loc[0] == "layers")]
        loc = [p for i, p in enumerate(loc) if not (p in _TRIGGER_TAGS and i >= 2 and loc[i - 2] == "triggers")]
        message, fix = _explain(err["type"], err["msg"], err.get("ctx") or {}, trigger="triggers" in loc)
        problems.append(Problem(str(source), ".".join(loc), message, fix))
    return problems


def _explain(kind: str, msg: str, ctx: dict[str, Any], *, trigger: bool = False) -> tuple[str, str]:
    if kind == "extra_forbidden":
        return "unknown key", "check its spelling; see the documented keys in the README"
    if kind == "missing":
        return "required key is missing", "add it"
    if kind == "union_tag_invalid":
        expected = ctx.get("expected_tags", "")
        return f"unknown {'type' if trigger else 'kind'} '{ctx.get('tag', '')}'", f"use one of {expected}"
    if kind == "union_tag_not_found" and trigger:
        return "missing `type`", f"add `type:` ({', '.join(sorted(_TRIGGER_TAGS))})"
    if kind == "union_tag_not_found":
        return "missing `kind`", "add `kind:` (population, sites, displacement, threats, roads or backdrop)"
    if kind == "literal_error":
        return msg.replace("Input should be", "must be"), "use one of the values listed"
    if kind.startswith(("date", "datetime")):
        return f"{msg}", "write dates as YYYY-MM-DD and times as 2025-06-14T05:00:00+03:00"
    if kind == "value_error":  # our own validators say what is wrong and what to give instead
        return msg.removeprefix("Value error, "), "change the value as the message says"
    if kind in ("less_than_equal", "less_than", "greater_than", "greater_than_equal"):
        return msg.replace("Input should be", "must be"), "give a value in that range"
    if kind in ("too_short", "too_long"):
        return msg.replace("List should have", "needs"), "give the number of entries it says"
    if kind.endswith(("_type", "_parsing")):
        return msg.replace("Input should be", "must be"), "write the value in that form"
    return msg, "see the documented keys in the README"
