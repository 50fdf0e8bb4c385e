"""Exports for the GIS cell, Google Earth and spreadsheets, written from a redacted ``Bundle``.

Each format states at its head what was redacted (GeoPackage: an ``about`` table and each layer's
description; GeoJSON: the collection's ``description``; KML: the document's description; GeoTIFF: the
``PRIMUM_REDACTION`` tag; CSV: ``#`` lines before the header). Nothing is written in place: each output is
built beside its target and moved there whole, so a failure leaves no half-written file.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import rasterio

from planner.errors import InputError
from planner.outputs import Bundle, HarmRegister, column_descriptions
from planner.vocabulary import EXPORT_FORMATS

FOLDER_FORMATS = ("geojson", "csv")  # one file per layer or table


def export(bundle: Bundle, fmt: str, out: Path) -> list[Path]:
    """Write ``bundle`` as ``fmt`` to ``out`` (a file, or a new folder for geojson and csv); the paths written."""
    if fmt not in WRITERS:
        raise InputError.single("--format", "", f"unknown format '{fmt}'", f"use one of {', '.join(EXPORT_FORMATS)}")
    return _written(lambda target: WRITERS[fmt](bundle, target), fmt, Path(out))


def export_register(found: HarmRegister, fmt: str, out: Path) -> list[Path]:
    """Write the harm records and the support register as ``fmt`` (gpkg, geojson or csv) to ``out``."""
    if fmt not in REGISTER_WRITERS:
        raise InputError.single("--format", "", f"unknown format '{fmt}'", f"use one of {', '.join(REGISTER_WRITERS)}")
    return _written(lambda target: REGISTER_WRITERS[fmt](found, target), fmt, Path(out))


def _written(write: Callable[[Path], None], fmt: str, out: Path) -> list[Path]:
    """Run ``write`` on a path beside ``out`` and move the result there whole: no half-written output."""
    if fmt in FOLDER_FORMATS and out.exists():
        raise InputError.single(out, "", "the folder already exists", "name a new folder: nothing is overwritten")
    if not out.parent.is_dir():
        raise InputError.single(out, "", "its folder does not exist", "create the folder or name another path")
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        target = work / out.name
        write(target)
        if target.is_dir():
            written = sorted(p.relative_to(target) for p in target.iterdir())
            target.rename(out)
            return [out / p for p in written]
        target.replace(out)
        return [out]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _description(bundle: Bundle) -> str:
    return " ".join(bundle.heading)


def write_gpkg(bundle: Bundle, path: Path) -> None:
    """One GeoPackage: each layer named as in ``outputs.LAYERS``, an ``about`` table of the heading, and a
    ``columns`` table saying what each column holds, in the export's language."""
    about = pd.DataFrame({"line": range(1, len(bundle.heading) + 1), "text": bundle.heading})
    pyogrio.write_dataframe(about, path, layer="about", driver="GPKG")
    pyogrio.write_dataframe(_columns(bundle, geometry=True), path, layer="columns", driver="GPKG")
    for name, frame in bundle.layers.items():
        pyogrio.write_dataframe(
            _for_ogr(frame),
            path,
            layer=name,
            driver="GPKG",
            append=False,
            layer_options={"DESCRIPTION": _description(bundle)},
        )
    pyogrio.write_dataframe(bundle.checklist, path, layer="checklist", driver="GPKG")
    pyogrio.write_dataframe(bundle.support, path, layer="support", driver="GPKG")


def write_geojson(bundle: Bundle, folder: Path) -> None:
    """A folder with one GeoJSON file per layer (RFC 7946, WGS84), each carrying the heading, and
    ``columns.csv`` saying what each property holds."""
    folder.mkdir()
    _write_table(bundle, folder / "columns.csv", _columns(bundle, geometry=True))
    for name, frame in bundle.layers.items():
        pyogrio.write_dataframe(
            _for_ogr(frame),
            folder / f"{name}.geojson",
            driver="GeoJSON",
            layer_options={"RFC7946": "YES", "DESCRIPTION": _description(bundle)},
        )


def write_kml(bundle: Bundle, path: Path) -> None:
    """One KML for Google Earth, a folder per layer; every text is escaped, as Earth renders it as HTML."""
    first = True
    for name, frame in bundle.layers.items():
        if frame.empty:
            continue
        safe = _for_ogr(frame)
        for column in safe.columns:
            if column != "geometry" and not pd.api.types.is_numeric_dtype(safe[column]):
                safe[column] = safe[column].map(lambda v: html.escape(v) if isinstance(v, str) else v)
        # Field names too (a COA's id names its score column): GDAL writes them into the XML unescaped, and
        # re-reads them when the next layer is appended, so only plain characters are kept.
        safe.columns = [c if c == "geometry" else re.sub(r"[^\w .:-]", "_", str(c)) for c in safe.columns]
        options = {"NAME": html.escape(bundle.title), "DESCRIPTION": html.escape(_description(bundle))}
        pyogrio.write_dataframe(
            safe,
            path,
            layer=name,
            driver="LIBKML",
            append=not first,
            dataset_options=options if first else None,
        )
        first = False
    if first:  # nothing to show: still a document that says what it is
        empty = gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        options = {"NAME": html.escape(bundle.title), "DESCRIPTION": html.escape(_description(bundle))}
        pyogrio.write_dataframe(empty, path, layer="zones", driver="LIBKML", dataset_options=options)


def write_geotiff(bundle: Bundle, path: Path) -> None:
    """The risk surface: one band per COA score, then people, displaced, site weight, threat density."""
    bands = bundle.bands
    count, rows, cols = bands.arrays.shape
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": count,
        "height": rows,
        "width": cols,
        "crs": bands.crs,
        "transform": bands.transform,
        "nodata": float("nan"),
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands.arrays)
        said = column_descriptions(bundle).drop_duplicates("column").set_index("column")["description"]
        for i, name in enumerate(bands.names, start=1):
            dst.set_band_description(i, name)
            dst.update_tags(i, DESCRIPTION_TEXT=said.get(name, ""))  # the band's meaning, in the export's language
        dst.update_tags(PRIMUM_REDACTION=" ".join(bundle.statement), TIFFTAG_IMAGEDESCRIPTION=_description(bundle))


def write_csv(bundle: Bundle, folder: Path) -> None:
    """A folder with ``sites.csv``, ``threat_reports.csv`` and ``harm_records.csv`` (longitude, latitude),
    ``checklist.csv`` and ``support.csv``, each headed by ``#`` lines, and ``columns.csv`` saying what each
    column holds."""
    folder.mkdir()
    sites = bundle.layers["sites"]
    table = pd.DataFrame(sites.drop(columns="geometry"))
    points = sites.geometry.representative_point()
    table.insert(len(table.columns), "longitude", points.x.round(6))
    table.insert(len(table.columns), "latitude", points.y.round(6))
    reports = bundle.layers["threat_reports"]
    report_table = pd.DataFrame(reports.drop(columns="geometry"))
    report_table["longitude"], report_table["latitude"] = reports.geometry.x.round(6), reports.geometry.y.round(6)
    harm = bundle.layers["harm_records"]
    harm_table = pd.DataFrame(harm.drop(columns="geometry"))
    harm_table["longitude"], harm_table["latitude"] = harm.geometry.x.round(6), harm.geometry.y.round(6)
    tables = {
        "sites": table,
        "checklist": bundle.checklist,
        "threat_reports": report_table,
        "harm_records": harm_table,
        "support": bundle.support,
    }
    for name, frame in tables.items():
        _write_table(bundle, folder / f"{name}.csv", frame)
    described = _columns(bundle, geometry=False)
    _write_table(bundle, folder / "columns.csv", described[described["layer"].isin(list(tables))])


def _write_table(bundle: Bundle, path: Path, frame: pd.DataFrame) -> None:
    _table(bundle.heading, path, frame)


def _columns(bundle: Bundle, *, geometry: bool) -> pd.DataFrame:
    """The column descriptions of the tables a format carries: with geometry, the points' degrees are in the
    geometry, not in columns of their own."""
    described = column_descriptions(bundle)
    if geometry:
        described = described[~described["column"].isin(["longitude", "latitude"])]
    return described.reset_index(drop=True)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells and headers that a spreadsheet would run as formulas, prefixed with ' so they show as text.

    Site names, notes and checklist text come from layers and users; numbers stay numbers.
    """

    def cell(value: object) -> object:
        return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    text = frame.select_dtypes(include=["object", "string"]).columns
    out = frame.copy()
    for column in text:
        out[column] = out[column].map(cell)
    out.columns = [cell(str(c)) for c in out.columns]
    return out


def _for_ogr(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain column types every driver writes: booleans with gaps become text, not silently false."""
    out = frame.copy()
    for column in out.columns:
        if column != "geometry" and out[column].dtype == object:
            values = out[column].dropna()
            if len(values) and values.map(lambda v: isinstance(v, bool)).all():
                out[column] = out[column].map({True: "yes", False: "no"})
    return out


WRITERS: dict[str, Callable[[Bundle, Path], None]] = {
    "gpkg": write_gpkg,
    "geotiff": write_geotiff,
    "geojson": write_geojson,
    "kml": write_kml,
    "csv": write_csv,
}


def _register_gpkg(found: HarmRegister, path: Path) -> None:
    about = pd.DataFrame({"line": range(1, len(found.heading) + 1), "text": found.heading})
    pyogrio.write_dataframe(about, path, layer="about", driver="GPKG")
    described = found.described()
    columns = described[~described["column"].isin(["longitude", "latitude"])]
    pyogrio.write_dataframe(columns, path, layer="columns", driver="GPKG")
    pyogrio.write_dataframe(
        _for_ogr(found.records), path, layer="harm_records", driver="GPKG",
        layer_options={"DESCRIPTION": " ".join(found.heading)},
    )  # fmt: skip
    pyogrio.write_dataframe(found.support, path, layer="support", driver="GPKG")


def _register_geojson(found: HarmRegister, folder: Path) -> None:
    folder.mkdir()
    described = found.described()
    _table(found.heading, folder / "columns.csv", described[~described["column"].isin(["longitude", "latitude"])])
    pyogrio.write_dataframe(
        _for_ogr(found.records), folder / "harm_records.geojson", driver="GeoJSON",
        layer_options={"RFC7946": "YES", "DESCRIPTION": " ".join(found.heading)},
    )  # fmt: skip


def _register_csv(found: HarmRegister, folder: Path) -> None:
    folder.mkdir()
    records = pd.DataFrame(found.records.drop(columns="geometry"))
    records["longitude"], records["latitude"] = found.records.geometry.x.round(6), found.records.geometry.y.round(6)
    _table(found.heading, folder / "harm_records.csv", records)
    _table(found.heading, folder / "support.csv", found.support)
    _table(found.heading, folder / "columns.csv", found.described())


def _table(heading: list[str], path: Path, frame: pd.DataFrame) -> None:
    """A CSV headed by ``#`` lines saying what it is and what was redacted."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.writelines(f"# {line}\n" for line in heading)
        inert(frame).to_csv(handle, index=False)


REGISTER_WRITERS: dict[str, Callable[[HarmRegister, Path], None]] = {
    "gpkg": _register_gpkg,
    "geojson": _register_geojson,
    "csv": _register_csv,
}
