"""The one place layer and plan files are opened: regular files only, content that is what its name says, no network.

GDAL picks a driver by content, not by name: a file uploaded as ``.geojson`` that holds OGR VRT XML would be
opened as a VRT and read whatever it points at (a file outside the data folders, or a URL). So before GDAL
sees a file, its first bytes must match its suffix (JSON for GeoJSON, the SQLite header for GeoPackage, the
TIFF header for GeoTIFF ...), rasters are opened with the GeoTIFF driver alone, and GDAL's network file
systems are switched off for the whole process. A FIFO, a device or a folder is refused before it is opened,
so a read can never block.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import stat
import time
import zipfile
from pathlib import Path

from planner.errors import InputError

# GDAL reads these from the environment at each use: set here, once, for every reader (pyogrio and rasterio).
GDAL_OFFLINE = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".primum-no-network",  # /vsicurl/ and friends find nothing to fetch
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "CPL_CURL_ENABLE_FILE_SCHEME": "NO",
    "GDAL_ENABLE_DEPRECATED_DRIVER_DODS": "NO",
}
for _key, _value in GDAL_OFFLINE.items():
    os.environ.setdefault(_key, _value)

RASTER_DRIVER = "GTiff"  # rasterio opens a raster with this driver alone
# What a file of each kind starts with (after any UTF-8 byte order mark and white space, for text formats).
_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".tif": _TIFF,
    ".tiff": _TIFF,
    ".gpkg": (b"SQLite format 3\x00",),
    ".shp": (b"\x00\x00\x27\x0a",),
    ".fgb": (b"fgb",),
    ".zip": (b"PK\x03\x04",),
    ".kmz": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".geojson": (b"{",),
    ".json": (b"{",),
    ".kml": (b"<?xml", b"<kml"),
}
_XML_ROOTS_REFUSED = (b"<OGRVRTDataSource", b"<VRTDataset", b"<GDAL_WMS", b"<WFS_GDAL", b"<GDAL_WCS")
_ZIPPED_SHAPEFILE = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".xml", ".qmd"}
# What a KMZ may hold beside its KML: the icons and pictures Google Earth and My Maps put in it.
_KMZ_PARTS = {".kml", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg"}
_NETWORK_LINK_FIX = (
    "export the map's features themselves: in Google My Maps, 'Export to KML/KMZ' with 'Keep data up to date "
    "with network link KML' unchecked; in Google Earth, save the folder, not its link"
)


# A file's modification time moves with the filesystem's clock, which ticks every few milliseconds: a file
# written twice within a tick, with the same size, would look unchanged. Until it has been left alone this
# long, a file's identity matches no other, so no cache serves what may already be out of date.
SETTLING_NS = 2_000_000_000
_UNSETTLED = itertools.count(2)  # -1 is a missing file


def file_identity(path: Path) -> tuple[str, int, int]:
    """What says a file is the one read before: its resolved path, size and modification time. Parsed files
    are cached under it, so a changed file is read again and an unchanged one is not."""
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError:  # missing: whoever reads it next says so, with the key that named it
        return str(resolved), -1, -1
    if time.time_ns() - stat.st_mtime_ns < SETTLING_NS:
        return str(resolved), stat.st_size, -next(_UNSETTLED)
    return str(resolved), stat.st_size, stat.st_mtime_ns


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def regular_file(path: Path, where: str = "path") -> Path:
    """``path`` resolved, if it is an existing regular file; a FIFO, device or folder is refused unopened."""
    resolved = Path(path).resolve()
    try:
        mode = resolved.stat().st_mode
    except FileNotFoundError:
        raise InputError.single(path, where, "file not found", "check the path") from None
    if not stat.S_ISREG(mode):
        raise InputError.single(
            path, where, "not a regular file (a folder, pipe or device)", "point at the data file itself"
        )
    return resolved


def check_content(path: Path, where: str = "path") -> None:
    """Refuse a file whose first bytes are not what its suffix says (a VRT disguised as GeoJSON or GeoTIFF)."""
    suffix = path.suffix.lower()
    expected = _SIGNATURES.get(suffix)
    if expected is None:
        return
    with path.open("rb") as handle:
        head = handle.read(4096)
    textual = suffix in {".geojson", ".json", ".kml"}
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip() if textual else head
    if not text.startswith(expected) or (textual and any(root in text for root in _XML_ROOTS_REFUSED)):
        raise InputError.single(
            path,
            where,
            f"the content is not a {suffix[1:]} file (it starts with {head[:24]!r})",
            f"save the layer as a real {suffix[1:]} file; virtual and network datasets (VRT, WMS, links) are "
            "not opened",
        )
    if suffix == ".zip":
        _check_zip(path, where)
    elif suffix == ".kml":
        _check_kml(path.read_bytes(), path, where)
    elif suffix == ".kmz":
        _check_kmz(path, where)
    elif suffix in {".xlsx", ".ods"}:
        _check_workbook(path, where)


def _check_kml(content: bytes, path: Path, where: str) -> None:
    """A KML whose features are behind a network link is a pointer to a server, not a layer: refused."""
    if b"<NetworkLink" in content:
        raise InputError.single(
            path,
            where,
            "the KML holds a network link to features kept on a server, not the features",
            _NETWORK_LINK_FIX,
        )


def _zip_names(path: Path, where: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [n for n in archive.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        raise InputError.single(path, where, "the file is damaged or cut short", "save or download it again") from None


def _check_kmz(path: Path, where: str) -> None:
    names = _zip_names(path, where)
    strange = [n for n in names if Path(n).suffix.lower() not in _KMZ_PARTS]
    kml = [n for n in names if n.lower().endswith(".kml")]
    if strange or not kml:
        raise InputError.single(
            path,
            where,
            f"a KMZ must hold a KML and its pictures only (found {', '.join(strange[:5]) or 'no .kml'})",
            "save it again from Google Earth or My Maps, or save the layer as KML",
        )
    with zipfile.ZipFile(path) as archive:
        for name in kml:
            _check_kml(archive.read(name), path, where)


def _check_workbook(path: Path, where: str) -> None:
    """An XLSX or ODS is a zip of XML parts: it must be a spreadsheet, not a zip renamed."""
    names = set(_zip_names(path, where))
    is_xlsx = "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)
    is_ods = "mimetype" in names and "content.xml" in names
    if (path.suffix.lower() == ".xlsx" and not is_xlsx) or (path.suffix.lower() == ".ods" and not is_ods):
        raise InputError.single(
            path,
            where,
            f"the content is not a {path.suffix[1:].upper()} workbook",
            "save the table again from Excel or LibreOffice in that format",
        )


def _check_zip(path: Path, where: str) -> None:
    """A zipped shapefile holds shapefile parts only: nothing GDAL would follow elsewhere."""
    names = _zip_names(path, where)
    strange = [n for n in names if Path(n).suffix.lower() not in _ZIPPED_SHAPEFILE]
    if strange or not any(n.lower().endswith(".shp") for n in names):
        raise InputError.single(
            path,
            where,
            f"a zipped layer must hold a shapefile's parts only (found {', '.join(strange[:5]) or 'no .shp'})",
            "zip the .shp with its .shx, .dbf and .prj, nothing else",
        )


def safe_layer_file(path: Path, where: str = "path") -> Path:
    """The checks every reader runs before GDAL, pandas or a YAML parser sees a file."""
    resolved = regular_file(path, where)
    check_content(resolved, where)
    return resolved
