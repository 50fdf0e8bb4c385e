"""An offline basemap the mission brings: tiles from a local MBTiles or PMTiles file or an XYZ tile folder,
served to the dashboard from this machine only (127.0.0.1), and drawn under the brief's map.

Nothing is fetched from anywhere else: the tile server binds to the loopback address, answers only
``/{z}/{x}/{y}`` from the one source it was given, and the map style names only that address. Raster tiles
(PNG, JPEG, WebP) are drawn as they are; vector tiles (MVT) are drawn with a plain style of their own layers
on the dashboard, and are left out of the brief's map, which says so.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import mmap
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from planner.errors import InputError

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "pbf": ""}
RASTER = ("png", "jpg", "jpeg", "webp")
FIX = "name an .mbtiles or .pmtiles file, or a folder of {z}/{x}/{y}.png tiles, in [dashboard] basemap"


@dataclass(frozen=True)
class TileSource:
    """Tiles by (z, x, y) in the XYZ scheme, from one local file or folder."""

    path: Path
    format: str  # png | jpg | webp | pbf
    minzoom: int
    maxzoom: int
    vector_layers: tuple[str, ...] = ()

    @property
    def raster(self) -> bool:
        return self.format in RASTER

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        return _read(self.path, self.format, z, x, y)


def open_basemap(path: str | Path) -> TileSource:
    """The tile source at ``path``, checked before anything is served; a bad one is refused in words."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError.single(path, "", "the basemap is not there", FIX)
    if path.is_dir():
        return _folder(path)
    suffix = path.suffix.lower()
    if suffix == ".mbtiles":
        return _mbtiles(path)
    if suffix == ".pmtiles":
        return _pmtiles(path)
    raise InputError.single(path, "", f"'{suffix}' is not a basemap format", FIX)


def _folder(path: Path) -> TileSource:
    zooms = sorted(int(p.name) for p in path.iterdir() if p.is_dir() and p.name.isdigit())
    tile = next((t for z in zooms for t in (path / str(z)).glob("*/*.*")), None)
    if not zooms or tile is None or tile.suffix.lower().lstrip(".") not in FORMATS:
        raise InputError.single(path, "", "no {z}/{x}/{y} tiles in the folder", FIX)
    return TileSource(path, tile.suffix.lower().lstrip("."), zooms[0], zooms[-1])


def _mbtiles(path: Path) -> TileSource:
    try:
        with _connect(path) as conn:
            meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
            zooms = conn.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError.single(path, "", f"not an MBTiles file ({exc})", FIX) from None
    fmt = str(meta.get("format", "png")).lower()
    if fmt not in FORMATS:
        raise InputError.single(path, "metadata.format", f"tiles in '{fmt}' cannot be drawn", FIX)
    layers = tuple(layer["id"] for layer in json.loads(meta.get("json", "{}")).get("vector_layers", []))
    return TileSource(path, fmt, int(zooms[0] or 0), int(zooms[1] or 0), layers)


def _pmtiles(path: Path) -> TileSource:
    from pmtiles.reader import Reader  # noqa: PLC0415  (only a PMTiles basemap needs it)
    from pmtiles.tile import TileType  # noqa: PLC0415

    try:
        reader = Reader(_pmtiles_bytes(path))
        header = reader.header()
        metadata = reader.metadata()
    except Exception as exc:  # the reader raises bare errors on a file that is not PMTiles
        raise InputError.single(path, "", f"not a PMTiles file ({exc})", FIX) from None
    fmt = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp", TileType.MVT: "pbf"}.get(
        header["tile_type"]
    )
    if fmt is None:
        raise InputError.single(path, "", f"tiles of type {header['tile_type']} cannot be drawn", FIX)
    layers = tuple(layer["id"] for layer in metadata.get("vector_layers", []))
    return TileSource(path, fmt, int(header["min_zoom"]), int(header["max_zoom"]), layers)


def _connect(path: Path) -> sqlite3.Connection:
    """The MBTiles file read-only: the basemap is the mission's, never written."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


@cache
def _pmtiles_bytes(path: Path) -> Any:
    """The PMTiles file mapped in memory once per process: pages are read as tiles are asked for."""
    with path.open("rb") as handle:  # the mapping outlives the file object
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def get_bytes(offset: int, length: int) -> bytes:
        return mapping[offset : offset + length]

    return get_bytes


def _read(path: Path, fmt: str, z: int, x: int, y: int) -> bytes | None:
    if path.is_dir():
        tile = path / str(z) / str(x) / f"{y}.{fmt}"
        return tile.read_bytes() if tile.is_file() else None
    if path.suffix.lower() == ".mbtiles":
        with _connect(path) as conn:  # MBTiles rows count from the south (TMS)
            row = conn.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        data = bytes(row[0]) if row else None
    else:
        from pmtiles.reader import Reader  # noqa: PLC0415

        data = Reader(_pmtiles_bytes(path)).get(z, x, y)
    if data and fmt == "pbf" and data[:2] == b"\x1f\x8b":  # vector tiles are often stored gzipped
        data = gzip.decompress(data)
    return data


# --- the loopback tile server ----------------------------------------------------------------------------------

_TILE_PATH = re.compile(r"^/(\d{1,2})/(\d{1,7})/(\d{1,7})$")


@cache
def serve(path: Path) -> str:
    """Serve the tiles of ``path`` on 127.0.0.1 (a free port, for the life of the process); returns the URL
    template a map style names."""
    source = open_basemap(path)

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = _TILE_PATH.match(self.path)
            data = source.tile(int(found[1]), int(found[2]), int(found[3])) if found else None
            if data is None:
                self.send_response(204 if found else 404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", FORMATS[source.format] or "application/x-protobuf")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cache-Control", "max-age=3600")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # tiles are not worth a log line each
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True, name="primum-basemap").start()
    return f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}"


def map_style(source: TileSource, url: str) -> dict[str, Any]:
    """A MapLibre style with the basemap as its only source, under a plain background."""
    background = {"id": "background", "type": "background", "paint": {"background-color": "#f2efe9"}}
    if source.raster:
        tiles = {
            "type": "raster",
            "tiles": [url],
            "tileSize": 256,
            "minzoom": source.minzoom,
            "maxzoom": source.maxzoom,
        }
        return {
            "version": 8,
            "sources": {"basemap": tiles},
            "layers": [background, {"id": "basemap", "type": "raster", "source": "basemap"}],
        }
    vector = {"type": "vector", "tiles": [url], "minzoom": source.minzoom, "maxzoom": source.maxzoom}
    layers: list[dict[str, Any]] = [background]
    for name in source.vector_layers:  # a plain drawing of every layer: areas light, lines grey
        common = {"source": "basemap", "source-layer": name}
        layers.append(
            {"id": f"{name}-fill", "type": "fill", **common, "paint": {"fill-color": "#e4e0d8", "fill-opacity": 0.6}}
        )
        layers.append({"id": f"{name}-line", "type": "line", **common, "paint": {"line-color": "#b0aaa0"}})
    return {"version": 8, "sources": {"basemap": vector}, "layers": layers}


# --- the brief's map -----------------------------------------------------------------------------------------------


def mosaic(source: TileSource, west: float, south: float, east: float, north: float, *, pixels: int = 1024) -> Any:
    """The raster basemap over a lon/lat box as one RGBA array in Web Mercator, with its bounds (metres), at
    the zoom that gives about ``pixels`` across; None for vector tiles or when no tile covers the box."""
    if not source.raster:
        return None
    import numpy as np  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415  (Pillow comes with matplotlib)

    span = max(east - west, 1e-9)
    zoom = int(max(source.minzoom, min(source.maxzoom, math.floor(math.log2(pixels / 256 * 360 / span)))))
    x0, y0 = _tile_xy(west, north, zoom)
    x1, y1 = _tile_xy(east, south, zoom)
    image = np.zeros(((y1 - y0 + 1) * 256, (x1 - x0 + 1) * 256, 4), dtype=np.uint8)
    found = False
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            data = source.tile(zoom, x, y)
            if not data:
                continue
            tile = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA").resize((256, 256)))
            image[(y - y0) * 256 : (y - y0 + 1) * 256, (x - x0) * 256 : (x - x0 + 1) * 256] = tile
            found = True
    if not found:
        return None
    left, top = _mercator_of_tile(x0, y0, zoom)
    right, bottom = _mercator_of_tile(x1 + 1, y1 + 1, zoom)
    return image, (left, bottom, right, top)


def _tile_xy(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 1 << zoom
    lat = max(-85.05, min(85.05, lat))
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def _mercator_of_tile(x: int, y: int, zoom: int) -> tuple[float, float]:
    half = 20037508.342789244
    size = 2 * half / (1 << zoom)
    return -half + x * size, half - y * size
