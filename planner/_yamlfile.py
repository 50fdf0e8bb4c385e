"""Reading the YAML files users edit (manifests, plans, effects tables) with errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from planner.errors import InputError, Problem

Model = TypeVar("Model", bound=BaseModel)


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
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError.single(
            path, where, f"YAML syntax error: {problem}", "check indentation and quoting around that line"
        ) from exc


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
        return msg.replace("Input should be", "must be"), ""
    if kind.startswith(("date", "datetime")):
        return f"{msg}", "write dates as YYYY-MM-DD and times as 2025-06-14T05:00:00+03:00"
    return msg, ""
