"""Files users bring to the dashboard: saved under a session folder, size-limited, and confined.

A plan or layer set opened in the dashboard may only name files uploaded with it or kept in the configured
data folders. The check reads the YAML alone and runs *before* any layer is opened, so a plan naming
``/etc/passwd`` as a CSV is refused without the file ever being read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from planner._yamlfile import load_yaml
from planner.errors import Collector, InputError

UPLOAD_SUFFIXES = (
    ".yaml",
    ".yml",
    ".geojson",
    ".json",
    ".kml",
    ".kmz",
    ".zip",
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".ods",
    ".fgb",
    ".gpkg",
    ".tif",
    ".tiff",
    ".shp",
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
)


def save_upload(name: str, data: bytes, folder: Path, *, max_mb: float) -> Path:
    """Keep one uploaded file under ``folder``, by its bare name; refuse types and sizes the tool does not take."""
    bare = Path(name).name
    if not bare or bare.startswith("."):
        raise InputError.single(name, "", "not a file name Primum keeps", "rename the file")
    if Path(bare).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError.single(
            bare, "", "not a plan, layer set or layer format", f"upload one of {', '.join(UPLOAD_SUFFIXES)}"
        )
    size_mb = len(data) / 1_000_000
    if size_mb > max_mb:
        raise InputError.single(
            bare,
            "",
            f"{size_mb:,.1f} MB is more than the {max_mb:g} MB an upload may be",
            "clip the layer to the area, or keep it in a data folder ([dashboard] data_dirs)",
        )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / bare
    tmp = folder / f".{bare}.part"
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def check_confined(plan_path: Path, allowed: list[Path]) -> None:
    """Refuse a plan, or the layer set it names, that reaches a file outside ``allowed`` folders."""
    roots = [Path(a).resolve() for a in allowed]
    problems = Collector(plan_path)
    plan_path = Path(plan_path).resolve()
    _inside(plan_path, roots, problems, "the plan itself")
    plan = load_yaml(plan_path)
    if not isinstance(plan, dict):
        return  # load_plan says what is wrong with it
    layers_path = None
    if isinstance(plan.get("layers"), str):
        layers_path = (plan_path.parent / plan["layers"]).resolve()
        _inside(layers_path, roots, problems, "layers")
    if isinstance(plan.get("effects_table"), str):
        _inside((plan_path.parent / plan["effects_table"]).resolve(), roots, problems, "effects_table")
    for c, coa in enumerate(plan.get("coas") or []):
        for e, element in enumerate((coa or {}).get("elements") or [] if isinstance(coa, dict) else []):
            if isinstance(element, dict) and isinstance(element.get("geometry_file"), str):
                where = f"coas.{c}.elements.{e}.geometry_file"
                _inside((plan_path.parent / element["geometry_file"]).resolve(), roots, problems, where)
    problems.raise_if_any()
    if layers_path is not None and layers_path.is_file():
        _check_layerset(layers_path, roots)


def _check_layerset(path: Path, roots: list[Path]) -> None:
    problems = Collector(path)
    data: Any = load_yaml(path)
    layers = data.get("layers") if isinstance(data, dict) else None
    for name, spec in (layers or {}).items() if isinstance(layers, dict) else []:
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            _inside((path.parent / spec["path"]).resolve(), roots, problems, f"layers.{name}.path")
    problems.raise_if_any()


def _inside(path: Path, roots: list[Path], problems: Collector, where: str) -> None:
    if not any(path.is_relative_to(root) for root in roots):
        problems.add(
            where,
            f"{path} is outside the uploaded files and the data folders",
            "upload the file with the plan, or keep it in a folder named in [dashboard] data_dirs",
        )


def write_plan(data: dict[str, Any], source: Path, folder: Path) -> Path:
    """Write an edited plan into ``folder``, its file references made absolute from where it came from."""
    data = dict(data)
    base = Path(source).resolve().parent
    for key in ("layers", "effects_table"):
        if isinstance(data.get(key), str):
            data[key] = str((base / data[key]).resolve())
    coas = []
    for original in data.get("coas") or []:
        coa = dict(original)
        coa["elements"] = [
            {**e, "geometry_file": str((base / e["geometry_file"]).resolve())}
            if isinstance(e, dict) and isinstance(e.get("geometry_file"), str)
            else e
            for e in coa.get("elements") or []
        ]
        coas.append(coa)
    data["coas"] = coas
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    folder.mkdir(parents=True, exist_ok=True)
    # The plan keeps its name with the next version number ("sample-v2.yaml"): a planner knows which plan it
    # is, and a rejected edit never overwrites the plan the session is working on.
    stem = re.sub(r"-v\d+$", "", Path(source).stem)
    taken = [
        int(m[1]) for p in folder.glob(f"{stem}-v*.yaml") if (m := re.fullmatch(rf"{re.escape(stem)}-v(\d+)", p.stem))
    ]
    own = re.fullmatch(rf"{re.escape(stem)}-v(\d+)", Path(source).stem)
    version = max([1, *taken, int(own[1]) if own else 1]) + 1
    target = folder / f"{stem}-v{version}.yaml"
    tmp = folder / f".{target.name}.part"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
