"""Reading a vector table in any format users bring, into EPSG:4326, with every problem collected.

Formats: GeoJSON, GeoPackage, shapefile (plain or zipped), KML, and CSV with latitude/longitude columns or a
WKT column (HXL-tagged CSVs included). The result keeps the source columns plus ``source_row``, the row as a
user finds it in the file (the CSV line number, or the feature number counting from 1).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from planner.errors import Collector, DataIOError
from planner.geo import WGS84

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".fgb"}
LAT_NAMES = ("latitude", "lat", "y", "#geo+lat")
LON_NAMES = ("longitude", "lon", "long", "lng", "x", "#geo+lon")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
MAX_LISTED_ROWS = 8


@dataclass(frozen=True)
class TableOptions:
    """What the manifest says about a file's geometry."""

    lat: str | None = None
    lon: str | None = None
    wkt: str | None = None
    crs: str | None = None
    layer: str | None = None
    # Roads: a line with fewer than two distinct points is a zero-length artefact the reader drops and
    # reports, not an invalid geometry that stops the layer.
    degenerate_lines_ok: bool = False


@dataclass
class Table:
    """A file read into EPSG:4326, with its HXL tags (tag -> column) when the CSV had a tag row."""

    frame: gpd.GeoDataFrame
    hxl: dict[str, str]
    source_crs: CRS


def rows_text(rows: Iterable[object], label: str = "row") -> str:
    """'lines 3, 7, 12' with long lists shortened, for messages."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
    more = f" and {len(rows) - MAX_LISTED_ROWS} more" if len(rows) > MAX_LISTED_ROWS else ""
    return f"{label if len(rows) == 1 else label + 's'} {shown}{more}"


def text_column(values: pd.Series) -> pd.Series:
    """Source text as an object column, with blanks (None, NaN, '', ' ') as None.

    pandas infers its string dtype from text and turns None into NaN; findings and exports need None.
    """
    cleaned = [
        None if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip() else str(v).strip()
        for v in values.tolist()
    ]
    return pd.Series(cleaned, index=values.index, dtype=object)


def row_label(path: Path) -> str:
    """How a user finds a row of this file: CSV line numbers, or feature numbers counting from 1."""
    return "line" if path.suffix.lower() in {".csv", ".txt", ".tsv"} else "feature"


def find_column(columns: Sequence[str], declared: str | None, candidates: Sequence[str]) -> str | None:
    """The declared column if given, else the first candidate present (case-insensitive)."""
    if declared is not None:
        return declared if declared in columns else None
    lower = {c.lower(): c for c in columns}
    for name in candidates:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def read_table(path: Path, options: TableOptions, problems: Collector) -> Table | None:
    """Read ``path``; add every problem found to ``problems`` and return None if the file is unusable."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return _read_csv(path, options, problems)
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, options, problems)
    problems.add(
        "",
        f"unknown file type '{suffix}'",
        "use GeoJSON, GeoPackage, a (zipped) shapefile, KML or CSV with lat/lon or WKT columns",
    )
    return None


def _read_vector(path: Path, options: TableOptions, problems: Collector) -> Table | None:
    uri = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        with warnings.catch_warnings():
            # GDAL warns about things like non-closed rings through Python warnings; the checks below
            # report each of them as a problem of the row, so the raw warning adds nothing.
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = gpd.read_file(uri, layer=options.layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataIOError(f"{path}: cannot be read as a vector file ({exc})") from exc
    frame = frame.reset_index(drop=True)
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
    file_crs = frame.crs
    declared = _declared_crs(options.crs, problems)
    if file_crs is None and declared is None:
        problems.add("", "the file has no CRS", "declare it in the manifest, e.g. `crs: EPSG:4326`, or set it in QGIS")
        return None
    if file_crs is not None and declared is not None and CRS.from_user_input(file_crs) != declared:
        problems.add(
            "",
            f"the file's CRS is {CRS.from_user_input(file_crs).to_string()} but the manifest declares "
            f"{declared.to_string()}",
            "remove `crs:` from the manifest, or correct it; a file's own CRS is never overridden",
        )
        return None
    source_crs = CRS.from_user_input(file_crs) if file_crs is not None else declared
    assert source_crs is not None
    if file_crs is None:
        frame = frame.set_crs(source_crs)
    _check_geometries(frame, problems, row_label="feature", degenerate_lines_ok=options.degenerate_lines_ok)
    if problems.problems:
        return None
    return Table(frame.to_crs(WGS84), {}, source_crs)


def _declared_crs(text: str | None, problems: Collector) -> CRS | None:
    if text is None:
        return None
    try:
        return CRS.from_user_input(text)
    except CRSError:
        problems.add("crs", f"unknown CRS '{text}'", "write it as an EPSG code, e.g. `crs: EPSG:32636`")
        return None


def _read_csv(path: Path, options: TableOptions, problems: Collector) -> Table | None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add(
            f"line {line}",
            f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} cannot be decoded)",
            "save it as UTF-8 (in Excel: Save As > 'CSV UTF-8'; in LibreOffice: character set 'Unicode (UTF-8)')",
        )
        return None
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.add("", f"cannot be read as CSV ({exc})", "check the separator and quoting")
        return None
    frame = frame.replace({"": None})
    first_line = 2  # the header is line 1
    hxl: dict[str, str] = {}
    if len(frame) and _is_hxl_row(frame.iloc[0]):
        hxl = {_hxl_base(v): col for col, v in frame.iloc[0].items() if isinstance(v, str) and v.startswith("#")}
        frame = frame.iloc[1:].reset_index(drop=True)
        first_line = 3
    frame.insert(0, "source_row", np.arange(first_line, first_line + len(frame)))
    columns = list(frame.columns)
    declared = _declared_crs(options.crs, problems)

    wkt_col = find_column(columns, options.wkt, WKT_NAMES if options.lat is None else ())
    lat_col = find_column(columns, options.lat, LAT_NAMES) or hxl.get("#geo+lat")
    lon_col = find_column(columns, options.lon, LON_NAMES) or hxl.get("#geo+lon")
    if options.wkt is not None and wkt_col is None:
        problems.add("wkt", f"column '{options.wkt}' is not in the file", f"columns are: {', '.join(columns)}")
        return None
    if wkt_col is not None and options.lat is None:
        geometry = _parse_wkt(frame, wkt_col, problems)
        source_crs = declared or WGS84
    else:
        for key, declared_name, found in (("lat", options.lat, lat_col), ("lon", options.lon, lon_col)):
            if found is None:
                what = f"column '{declared_name}' is not in the file" if declared_name else f"no {key} column found"
                problems.add(
                    key,
                    what,
                    f"declare it in the manifest, e.g. `{key}: <column>`; columns are: "
                    f"{', '.join(c for c in columns if c != 'source_row')}",
                )
        if lat_col is None or lon_col is None:
            return None
        if declared is not None and not declared.is_geographic:
            problems.add(
                "crs",
                "lat/lon columns are degrees but the declared CRS is projected",
                "remove `crs:`, or give the coordinates as WKT in that CRS",
            )
            return None
        geometry = _parse_lat_lon(frame, lat_col, lon_col, problems)
        source_crs = declared or WGS84
    if geometry is None:
        return None
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=source_crs)
    _check_geometries(gdf, problems, row_label="line", degenerate_lines_ok=options.degenerate_lines_ok)
    if problems.problems:
        return None
    return Table(gdf.to_crs(WGS84), hxl, source_crs)


def _is_hxl_row(row: pd.Series) -> bool:
    values = [v for v in row.tolist() if isinstance(v, str) and v.strip()]
    return bool(values) and sum(v.strip().startswith("#") for v in values) >= max(1, len(values) // 2)


def _hxl_base(tag: str) -> str:
    """'#affected +idps +ind' -> '#affected+idps+ind' (HXL allows spaces and attribute order varies)."""
    parts = tag.replace(" ", "").lower().split("+")
    return "+".join([parts[0], *sorted(parts[1:])]) if len(parts) > 1 else parts[0]


def hxl_column(hxl: dict[str, str], tag: str) -> str | None:
    return hxl.get(_hxl_base(tag))


def _parse_numbers(frame: pd.DataFrame, column: str) -> tuple[pd.Series, list[int]]:
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    bad = frame.loc[values.isna(), "source_row"].tolist()
    return values, bad


def _parse_lat_lon(frame: pd.DataFrame, lat_col: str, lon_col: str, problems: Collector) -> gpd.GeoSeries | None:
    lat, bad_lat = _parse_numbers(frame, lat_col)
    lon, bad_lon = _parse_numbers(frame, lon_col)
    bad = sorted(set(bad_lat) | set(bad_lon))
    if bad:
        problems.add(
            rows_text(bad, "line"),
            f"empty or non-numeric '{lat_col}'/'{lon_col}'",
            "give decimal degrees (e.g. 4.8512) in both columns, or remove the rows",
        )
    lat_out = (lat.abs() > 90) & lat.notna()
    lon_out = (lon.abs() > 180) & lon.notna()
    out = frame.loc[lat_out | lon_out, "source_row"].tolist()
    if out:
        swapped = bool(lat_out.any()) and bool((lon.abs() <= 90).all())
        problems.add(
            rows_text(out, "line"),
            f"latitude outside -90..90 or longitude outside -180..180 in '{lat_col}'/'{lon_col}'",
            "the lat and lon columns look swapped: exchange `lat:` and `lon:` in the manifest"
            if swapped
            else "correct the coordinates in the file",
        )
    if bad or out:
        return None
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat))


def _parse_wkt(frame: pd.DataFrame, column: str, problems: Collector) -> gpd.GeoSeries | None:
    texts = frame[column]
    geoms = shapely.from_wkt(texts.fillna("").to_numpy(dtype=object), on_invalid="ignore")
    bad = frame.loc[pd.isna(geoms) | texts.isna().to_numpy(), "source_row"].tolist()
    if bad:
        problems.add(
            rows_text(bad, "line"),
            f"column '{column}' holds no readable WKT geometry",
            "write geometries as WKT, e.g. POINT (31.59 4.86)",
        )
        return None
    return gpd.GeoSeries(geoms)


def _check_geometries(
    frame: gpd.GeoDataFrame, problems: Collector, *, row_label: str, degenerate_lines_ok: bool = False
) -> None:
    geoms = frame.geometry
    missing = frame.loc[geoms.isna() | geoms.is_empty, "source_row"].tolist()
    if missing:
        problems.add(
            rows_text(missing, row_label),
            "empty or missing geometry",
            "give each feature a geometry, or remove it from the file",
        )
    present = geoms.notna() & ~geoms.is_empty
    invalid = present & ~geoms.is_valid
    if degenerate_lines_ok:
        invalid &= ~(geoms.geom_type.isin(["LineString", "MultiLineString"]) & (shapely.length(geoms.to_numpy()) == 0))
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid].to_numpy())
        rows = frame.loc[invalid, "source_row"].tolist()
        first = f" (first: {reasons[0]})"
        problems.add(
            rows_text(rows, row_label),
            f"invalid geometry{first}",
            "repair it in QGIS (Vector > Geometry Tools > Fix Geometries); Primum does not repair silently",
        )
    if frame.crs is not None and CRS.from_user_input(frame.crs).is_geographic and present.any():
        minx, miny, maxx, maxy = geoms[present].total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            problems.add(
                "",
                f"coordinates outside the range of degrees ({minx:.0f}..{maxx:.0f}, {miny:.0f}..{maxy:.0f})",
                "the file is probably projected: declare its real CRS, e.g. `crs: EPSG:32636`",
            )
