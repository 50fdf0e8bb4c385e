"""Reading a vector table in any format users bring, into EPSG:4326, with every problem collected.

Formats: GeoJSON, GeoPackage, shapefile (plain or zipped), KML and KMZ (every folder, ``ExtendedData`` as
columns), FlatGeobuf, and tables with latitude/longitude columns or a WKT column: CSV in any dialect, XLSX,
ODS and the UCDP API's JSON (see :mod:`planner.layers.tabular`; HXL tag rows included). The result keeps the
source columns plus ``source_row``, the row as a user finds it in the file (the CSV line or spreadsheet row,
or the feature number counting from 1).

A reader given an ``area`` (a box in degrees) keeps only the features whose extent meets it, so the cost of a
national layer follows the study area: a GeoPackage, shapefile or FlatGeobuf is read through its spatial index,
a CSV of latitudes and longitudes keeps its rows by their coordinates before any other cell is made text, any
other file is read whole and filtered before any row is parsed further. Feature numbers stay those of the
whole file. A reader may keep rows beyond the area for reasons of its own (``wanted``: the recent reports a
rule looks for anywhere); those files are then read whole, never through a spatial index.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from planner.errors import Collector, DataIOError, rows_text
from planner.geo import WGS84
from planner.layers.numbers import parse_numbers
from planner.layers.tabular import Choose, hxl_base, is_table_file, read_rows

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz", ".fgb"}
KML_SUFFIXES = {".kml", ".kmz"}
# Coordinate columns found without a key, compared without case: plain names, the suffixes of KoBo and ODK
# exports ('_gps_latitude', 'Facility Location / latitude', 'location/latitude') and HXL hashtags.
LAT_NAMES = ("latitude", "lat", "y", "latitude_deg", "lat_deg", "_gps_latitude", "gps_latitude", "#geo+lat")
LON_NAMES = (
    "longitude",
    "lon",
    "long",
    "lng",
    "x",
    "longitude_deg",
    "lon_deg",
    "_gps_longitude",
    "gps_longitude",
    "#geo+lon",
)
LAT_SUFFIXES = ("/latitude", "_latitude", " latitude")
LON_SUFFIXES = ("/longitude", "_longitude", " longitude")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "geom_wkt")
# Formats whose features GDAL finds through a spatial index, and whose feature ids give the feature's number
INDEXED_SUFFIXES = {".gpkg", ".shp", ".fgb"}
Area = tuple[float, float, float, float]  # west, south, east, north in degrees (EPSG:4326)


@dataclass(frozen=True)
class TableOptions:
    """What the manifest says about a file's geometry."""

    lat: str | None = None
    lon: str | None = None
    wkt: str | None = None
    crs: str | None = None
    layer: str | None = None
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    # Roads: a line with fewer than two distinct points is a zero-length artefact the reader drops and
    # reports, not an invalid geometry that stops the layer.
    degenerate_lines_ok: bool = False
    # Figures per admin area: a table without coordinates, whose rows get their areas from a boundary layer.
    no_geometry: bool = False

    @classmethod
    def of(cls, spec: Any, **extra: Any) -> TableOptions:
        """The options a layer's manifest entry gives (keys it does not have stay unset)."""
        names = ("lat", "lon", "wkt", "crs", "layer", "sep", "decimal", "encoding", "sheet")
        given: dict[str, Any] = {name: getattr(spec, name, None) for name in names}
        return cls(**given, **extra)


@dataclass
class Table:
    """A file read into EPSG:4326: its HXL tags (tag -> column) when a table had a tag row, its decimal mark,
    and how it was read (``read_as``: format, encoding, separator ...) for the layer's report."""

    frame: gpd.GeoDataFrame
    hxl: dict[str, str]
    source_crs: CRS
    decimal: str = "."
    read_as: dict[str, str] = field(default_factory=dict)
    area: Area | None = None  # the box (degrees) the features were read through; None: the whole file
    # Read through an area: how many rows or features the whole file holds (a file with features elsewhere
    # only is not an empty file); None when read whole
    file_rows: int | None = None

    def numbers(self, column: str) -> tuple[pd.Series, pd.Series]:
        """A column's numbers (with the file's decimal mark) and the mask of cells that are not numbers."""
        return parse_numbers(self.frame[column], self.decimal)


def text_column(values: pd.Series) -> pd.Series:
    """Source text as an object column, with blanks (None, NaN, '', ' ') as None.

    pandas infers its string dtype from text and turns None into NaN; findings and exports need None.
    """
    # Each distinct text cleaned once (a national layer repeats a few types and actors in half a million rows),
    # through pandas' Arrow-backed strings: vectorised, where a Python loop costs seconds on a large layer
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(distinct, dtype=object).astype("string[pyarrow]").str.strip()
    text = text.where(text != "", None)
    cleaned = np.append(text.astype(object).where(text.notna(), None).to_numpy(), np.array([None], dtype=object))
    return pd.Series(cleaned[codes], index=values.index, dtype=object)  # code -1, a blank, is the None at the end


def row_label(path: Path) -> str:
    """How a user finds a row of this file: CSV lines, spreadsheet rows, or feature numbers counting from 1."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return "line"
    return "row" if suffix in {".xlsx", ".ods"} else "feature"


def find_column(columns: Sequence[str], declared: str | None, candidates: Sequence[str]) -> str | None:
    """The declared column if given, else the first candidate present (case-insensitive)."""
    if declared is not None:
        return declared if declared in columns else None
    lower = {c.lower().strip(): c for c in columns}
    for name in candidates:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def find_suffixed(columns: Sequence[str], suffixes: Sequence[str]) -> str | None:
    """The one column whose name ends with a survey tool's suffix ('Facility Location / latitude'); None when
    no column or several do (several would be a guess)."""
    found = [c for c in columns if c.lower().replace(" / ", "/").endswith(tuple(s.lower() for s in suffixes))]
    return found[0] if len(found) == 1 else None


def read_table(
    path: Path, options: TableOptions, problems: Collector, area: Area | None = None, wanted: Choose | None = None
) -> Table | None:
    """Read ``path``; add every problem found to ``problems`` and return None if the file is unusable.

    Rows in ``problems.skip_rows`` (found unreadable by an earlier reading) are left out; with ``area``, so are
    the features whose extent lies wholly outside it (they are neither parsed nor checked), except the rows
    ``wanted`` keeps. ``wanted`` is asked once, of every row of the file.
    """
    suffix = path.suffix.lower()
    if is_table_file(path):
        table = _read_rows(path, options, problems, area, wanted)
    elif suffix in VECTOR_SUFFIXES:
        table = _read_vector(path, options, problems, area, wanted)
    else:
        problems.add(
            "",
            f"unknown file type '{suffix}'",
            "use GeoJSON, GeoPackage, a (zipped) shapefile, KML, KMZ, or a table (CSV, XLSX, ODS) with lat/lon "
            "or WKT columns",
        )
        return None
    return table


def _vector_frame(path: Path, options: TableOptions) -> gpd.GeoDataFrame:
    """The features of a vector file; every folder of a KML or KMZ (its folder in a ``folder`` column)."""
    uri = _uri(path)
    with warnings.catch_warnings():
        # GDAL warns about things like non-closed rings through Python warnings; the checks below
        # report each of them as a problem of the row, so the raw warning adds nothing.
        warnings.simplefilter("ignore", RuntimeWarning)
        if path.suffix.lower() not in KML_SUFFIXES or options.layer is not None:
            return gpd.read_file(uri, layer=options.layer, engine="pyogrio")
        # A KML keeps each folder as a layer of its own: reading only the first would drop the others
        folders = [str(name) for name in pyogrio.list_layers(uri)[:, 0]]
        frames = [gpd.read_file(uri, layer=name, engine="pyogrio").assign(folder=name) for name in folders]
        frames = [f for f in frames if len(f)]
        if not frames:
            return gpd.GeoDataFrame({"folder": []}, geometry=[], crs=WGS84)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def _uri(path: Path) -> str:
    uri = str(path)
    if path.suffix.lower() == ".zip":
        uri = f"/vsizip/{path}"
    elif path.suffix.lower() == ".kmz":
        # The KML inside, read as KML: read as a KMZ, GDAL's LIBKML drops every ExtendedData column
        uri = f"/vsizip/{path}/{_kmz_document(path)}"
    return uri


def _indexed_frame(path: Path, options: TableOptions, area: Area) -> tuple[gpd.GeoDataFrame, int] | None:
    """The features of an indexed file whose extent meets ``area``, read through its spatial index, with
    ``source_row`` their number in the whole file, and how many features the file holds; None when the file
    cannot say its CRS or its numbering (then it is read whole)."""
    uri = _uri(path)
    info = pyogrio.read_info(uri, layer=options.layer)
    crs = info["crs"] or options.crs
    if crs is None:
        return None
    first = _first_fid(path, uri, options.layer, info)
    if first is None:
        return None
    bbox = _area_in(area, CRS.from_user_input(crs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame = gpd.read_file(uri, layer=options.layer, engine="pyogrio", bbox=bbox, fid_as_index=True)
    # In the file's order (an index returns them in its own)
    frame = frame.sort_index(kind="stable")
    numbers = np.asarray(frame.index, dtype=np.int64) - first + 1
    frame = frame.reset_index(drop=True)
    frame.insert(0, "source_row", numbers)
    return frame, _feature_count(uri, options.layer, info)


def _feature_count(uri: str, layer: str | None, info: dict[str, Any]) -> int:
    """The features of a file, as its own metadata says (a GeoPackage, shapefile or FlatGeobuf keeps the
    count), counted only when it does not say."""
    count = int(info["features"])
    if count >= 0:
        return count
    return int(pyogrio.read_info(uri, layer=layer, force_feature_count=True)["features"])


def _first_fid(path: Path, uri: str, layer: str | None, info: dict[str, Any]) -> int | None:
    """The id of a file's first feature, when ids count its features one by one (so a feature's number is
    its id less this, plus one): always so for shapefiles and FlatGeobuf (from 0); for a GeoPackage, when its
    ids run without gaps; otherwise None."""
    if path.suffix.lower() in {".shp", ".fgb"}:
        return 0
    count = int(info["features"])  # kept by the GeoPackage itself, not counted; -1 when it does not say
    if count < 0:
        return None
    fid = _quoted(info.get("fid_column") or "fid")
    name = _quoted(layer or str(pyogrio.list_layers(uri)[0, 0]))
    span = pyogrio.read_dataframe(
        uri, sql=f"SELECT MIN({fid}) AS lo, MAX({fid}) AS hi FROM {name}", read_geometry=False
    )
    low, high = (int(span[c].iloc[0]) if pd.notna(span[c].iloc[0]) else 0 for c in ("lo", "hi"))
    return low if count == 0 or high - low + 1 == count else None


def _quoted(name: str) -> str:
    """A table or column name as SQL writes it, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _area_in(area: Area, crs: CRS) -> Area:
    """``area`` (degrees) as a box in ``crs`` that holds all of it (edges densified: a projected edge bends)."""
    if crs.is_geographic and crs.equals(CRS.from_user_input(WGS84), ignore_axis_order=True):
        return area
    transformer = Transformer.from_crs(WGS84, crs, always_xy=True)
    west, south, east, north = transformer.transform_bounds(*area, densify_pts=21)
    return float(west), float(south), float(east), float(north)


def _outside(frame: gpd.GeoDataFrame, area: Area, crs: CRS) -> np.ndarray:
    """Rows whose geometry's extent lies wholly outside ``area``; rows with no geometry are kept, for the
    checks to report."""
    west, south, east, north = _area_in(area, crs)
    bounds = shapely.bounds(frame.geometry.to_numpy())  # NaN for missing or empty: compares False, kept
    return (bounds[:, 0] > east) | (bounds[:, 2] < west) | (bounds[:, 1] > north) | (bounds[:, 3] < south)


def _kmz_document(path: Path) -> str:
    """The KML a KMZ opens with: ``doc.kml`` by convention, else its first KML (the content check found one)."""
    with zipfile.ZipFile(path) as archive:
        kmls = [n for n in archive.namelist() if n.lower().endswith(".kml")]
    return "doc.kml" if "doc.kml" in kmls else sorted(kmls, key=lambda n: (n.count("/"), n))[0]


def _read_vector(
    path: Path, options: TableOptions, problems: Collector, area: Area | None, wanted: Choose | None
) -> Table | None:
    try:
        indexed = None
        if area is not None and wanted is None and path.suffix.lower() in INDEXED_SUFFIXES:
            indexed = _indexed_frame(path, options, area)
        if indexed is not None:
            frame, file_rows = indexed
        else:
            frame = _vector_frame(path, options).reset_index(drop=True)
            frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
            file_rows = len(frame)
            if area is not None and frame.crs is not None:
                outside = _outside(frame, area, CRS.from_user_input(frame.crs))
                if wanted is not None:
                    outside &= ~np.asarray(wanted(list(frame.columns), frame.__getitem__), dtype=bool)
                frame = frame[~outside].reset_index(drop=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataIOError(f"{path}: cannot be read as a vector file ({exc})") from exc
    problems.rows_read = len(frame)
    if problems.skip_rows:
        frame = frame[~frame["source_row"].isin(problems.skip_rows)].reset_index(drop=True)
    if path.suffix.lower() in KML_SUFFIXES:
        if not len(frame):
            problems.add(
                "",
                "the KML holds no placemarks",
                "export the folder with its features (a KML of styles or empty folders is no layer)",
            )
            return None
        # The KML driver's styling fields say nothing about the place and would crowd every report
        styling = ["id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility"]
        frame = frame.drop(columns=[c for c in [*styling, "drawOrder", "icon"] if c in frame.columns])
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
    read_as = {"format": path.suffix.lower()[1:]}
    whole = file_rows if area is not None else None
    return Table(frame.to_crs(WGS84), {}, source_crs, read_as=read_as, area=area, file_rows=whole)


def _declared_crs(text: str | None, problems: Collector) -> CRS | None:
    if text is None:
        return None
    try:
        return CRS.from_user_input(text)
    except CRSError:
        problems.add("crs", f"unknown CRS '{text}'", "write it as an EPSG code, e.g. `crs: EPSG:32636`")
        return None


def _read_rows(
    path: Path, options: TableOptions, problems: Collector, area: Area | None, wanted: Choose | None
) -> Table | None:
    choice = _AreaChoice(options, area, wanted) if area is not None and not options.no_geometry else None
    rows = read_rows(
        path,
        problems,
        sep=options.sep,
        decimal=options.decimal,
        encoding=options.encoding,
        sheet=options.sheet,
        choose=choice,
    )
    if rows is None:
        return None
    frame, hxl = rows.frame, rows.hxl
    file_rows = choice.rows if choice is not None and choice.chosen else len(frame)
    problems.rows_read = len(frame) + len(set(rows.ragged) - set(frame["source_row"]))
    if problems.skip_rows:
        frame = frame[~frame["source_row"].isin(problems.skip_rows)].reset_index(drop=True)
    label = row_label(path)
    ragged = {line: why for line, why in rows.ragged.items() if line not in problems.skip_rows}
    for why in sorted(set(ragged.values())):
        problems.add_rows([line for line, w in ragged.items() if w == why], label, why, "complete or remove the row")
    columns = list(frame.columns)
    declared = _declared_crs(options.crs, problems)
    if options.no_geometry:
        empty = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), crs=WGS84), crs=WGS84)
        return None if problems.problems else Table(empty, hxl, WGS84, rows.decimal, rows.read_as)

    wkt_col, lat_col, lon_col = _geometry_columns(columns, options, hxl)
    if options.wkt is not None and wkt_col is None:
        problems.add("wkt", f"column '{options.wkt}' is not in the file", f"columns are: {', '.join(columns)}")
        return None
    if wkt_col is not None and options.lat is None:
        geometry = _parse_wkt(frame, wkt_col, problems, label)
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
        geometry = _parse_lat_lon(frame, lat_col, lon_col, problems, decimal=rows.decimal, label=label)
        source_crs = declared or WGS84
    if geometry is None:
        return None
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=source_crs)
    if area is not None and (choice is None or not choice.chosen):
        outside = _outside(gdf, area, source_crs)
        if wanted is not None:
            outside &= ~np.asarray(wanted(columns, frame.__getitem__), dtype=bool)
        gdf = gdf[~outside].reset_index(drop=True)
    if wkt_col is not None and options.lat is None:  # points made of checked degrees need no other check
        _check_geometries(gdf, problems, row_label=label, degenerate_lines_ok=options.degenerate_lines_ok)
    if problems.problems:
        return None
    if not CRS.from_user_input(source_crs).equals(WGS84):
        gdf = gdf.to_crs(WGS84)
    return Table(gdf, hxl, source_crs, rows.decimal, rows.read_as, area, file_rows if area is not None else None)


def _geometry_columns(
    columns: list[str], options: TableOptions, hxl: dict[str, str]
) -> tuple[str | None, str | None, str | None]:
    """The WKT column, and the latitude and longitude columns, a table's geometry is read from."""
    wkt_col = find_column(columns, options.wkt, WKT_NAMES if options.lat is None else ())
    lat_col = find_column(columns, options.lat, LAT_NAMES) or hxl.get("#geo+lat")
    lon_col = find_column(columns, options.lon, LON_NAMES) or hxl.get("#geo+lon")
    if options.lat is None and lat_col is None and lon_col is None:
        lat_col, lon_col = find_suffixed(columns, LAT_SUFFIXES), find_suffixed(columns, LON_SUFFIXES)
    return wkt_col, lat_col, lon_col


@dataclass
class _AreaChoice:
    """The rows of a latitude/longitude table to read for an area, chosen from the two coordinate columns
    before any other cell is made text. A row is left out only when both its coordinates read as numbers
    (with either decimal mark) and put it outside the area; rows whose coordinates put it inside only when
    swapped are kept, for the check against the area to name the swap; ``wanted`` keeps others. A table whose
    geometry is WKT, named by HXL tags or in a declared CRS is not chosen here (``chosen`` stays False): its
    rows are filtered by their geometry once read."""

    options: TableOptions
    area: Area
    wanted: Choose | None
    chosen: bool = False
    rows: int = 0  # the rows it chose from: the whole table's (an HXL tag row among them)

    def __call__(self, columns: list[str], column: Any) -> np.ndarray | None:
        wkt_col, lat_col, lon_col = _geometry_columns(columns, self.options, {})
        if (wkt_col is not None and self.options.lat is None) or lat_col is None or lon_col is None:
            return None
        if self.options.crs is not None:
            return None
        lat, lon = _degrees(column(lat_col)), _degrees(column(lon_col))
        self.rows = len(lat)
        west, south, east, north = self.area

        def meets(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return (x >= west) & (x <= east) & (y >= south) & (y <= north)

        keep = np.isnan(lat) | np.isnan(lon) | meets(lon, lat) | meets(lat, lon)
        if self.wanted is not None:
            keep |= np.asarray(self.wanted(columns, column), dtype=bool)
        self.chosen = True
        return keep


def _degrees(values: pd.Series) -> np.ndarray:
    """Coordinates read with a decimal point, else with a decimal comma; NaN where neither reads."""
    numbers = parse_numbers(values, ".")[0].to_numpy(dtype=float, copy=True)
    left = np.isnan(numbers) & values.notna().to_numpy()
    if left.any():
        numbers[left] = parse_numbers(values[left], ",")[0].to_numpy(dtype=float)
    return numbers


def hxl_column(hxl: dict[str, str], tag: str) -> str | None:
    return hxl.get(hxl_base(tag))


def _parse_lat_lon(
    frame: pd.DataFrame, lat_col: str, lon_col: str, problems: Collector, *, decimal: str, label: str
) -> gpd.GeoSeries | None:
    lat = parse_numbers(frame[lat_col], decimal)[0]
    lon = parse_numbers(frame[lon_col], decimal)[0]
    bad = frame.loc[lat.isna() | lon.isna(), "source_row"].tolist()
    if bad:
        problems.add_rows(
            bad,
            label,
            f"empty or non-numeric '{lat_col}'/'{lon_col}'",
            "give decimal degrees (e.g. 4.8512) in both columns, or remove the rows",
        )
    lat_out = (lat.abs() > 90) & lat.notna()
    lon_out = (lon.abs() > 180) & lon.notna()
    out = frame.loc[lat_out | lon_out, "source_row"].tolist()
    if out:
        swapped = bool(lat_out.any()) and bool((lon.abs() <= 90).all())
        problems.add_rows(
            out,
            label,
            f"latitude outside -90..90 or longitude outside -180..180 in '{lat_col}'/'{lon_col}'",
            "the lat and lon columns look swapped: exchange `lat:` and `lon:` in the manifest"
            if swapped
            else "correct the coordinates in the file",
        )
    if bad or out:
        return None
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat))


def _parse_wkt(frame: pd.DataFrame, column: str, problems: Collector, label: str) -> gpd.GeoSeries | None:
    texts = frame[column]
    geoms = shapely.from_wkt(texts.fillna("").to_numpy(dtype=object), on_invalid="ignore")
    bad = frame.loc[pd.isna(geoms) | texts.isna().to_numpy(), "source_row"].tolist()
    if bad:
        problems.add_rows(
            bad,
            label,
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
        problems.add_rows(
            missing,
            row_label,
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
