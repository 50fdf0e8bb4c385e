"""Small offline basemaps over the sample area, in each format a mission may bring: solid teal raster tiles."""

from __future__ import annotations

import io
import math
import sqlite3
from pathlib import Path

from PIL import Image

TEAL = (32, 192, 160)
# The sample area (Kalo) and its surroundings, in lon/lat.
BOX = (33.45, 6.05, 33.75, 6.35)
ZOOMS = (10, 11, 12, 13)


def tile_png(colour: tuple[int, int, int] = TEAL) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def tiles() -> list[tuple[int, int, int]]:
    """Every (z, x, y) tile over ``BOX`` at ``ZOOMS``."""
    found = []
    for z in ZOOMS:
        n = 1 << z
        x0, x1 = (int((lon + 180) / 360 * n) for lon in (BOX[0], BOX[2]))
        y0, y1 = (int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n) for lat in (BOX[3], BOX[1]))
        found += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return found


def write_mbtiles(path: Path) -> Path:
    data = tile_png()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "Kalo test basemap"), ("format", "png")])
        conn.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)", [(z, x, (1 << z) - 1 - y, data) for z, x, y in tiles()]
        )
    return path


def write_folder(path: Path) -> Path:
    data = tile_png()
    for z, x, y in tiles():
        target = path / str(z) / str(x) / f"{y}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return path


def write_pmtiles(path: Path) -> Path:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid  # noqa: PLC0415
    from pmtiles.writer import Writer  # noqa: PLC0415

    data = tile_png()
    with path.open("wb") as handle:
        writer = Writer(handle)
        for z, x, y in sorted(tiles(), key=lambda t: zxy_to_tileid(*t)):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_lon_e7": int(BOX[0] * 1e7),
                "min_lat_e7": int(BOX[1] * 1e7),
                "max_lon_e7": int(BOX[2] * 1e7),
                "max_lat_e7": int(BOX[3] * 1e7),
                "center_zoom": 12,
                "center_lon_e7": int((BOX[0] + BOX[2]) / 2 * 1e7),
                "center_lat_e7": int((BOX[1] + BOX[3]) / 2 * 1e7),
            },
            {"name": "Kalo test basemap"},
        )
    return path
