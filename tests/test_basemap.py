"""The mission's offline basemap: read from MBTiles, PMTiles or a tile folder, served on 127.0.0.1 only, named
by the dashboard's map style, and drawn under the brief's map."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from basemap_world import TEAL, tile_png, tiles, write_folder, write_mbtiles, write_pmtiles
from matplotlib.image import imread

from planner.assess import assess
from planner.basemap import map_style, open_basemap, serve
from planner.brief import map_png
from planner.errors import InputError
from planner.outputs import bundle
from planner.plan import open_plan
from planner.redaction import policy
from planner.settings import RedactionSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
WRITERS: dict[str, Callable[[Path], Path]] = {
    "basemap.mbtiles": write_mbtiles,
    "basemap.pmtiles": write_pmtiles,
    "tiles": write_folder,
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_each_format_gives_its_tiles_in_the_xyz_scheme(tmp_path: Path, name: str) -> None:
    source = open_basemap(WRITERS[name](tmp_path / name))
    z, x, y = tiles()[-1]
    assert source.format == "png" and source.raster and (source.minzoom, source.maxzoom) == (10, 13)
    assert source.tile(z, x, y) == tile_png()
    assert source.tile(z, x + 50, y) is None  # outside the area: no tile, not someone else's


def test_the_tiles_are_served_on_loopback_only_and_named_by_the_map_style(tmp_path: Path) -> None:
    path = write_mbtiles(tmp_path / "basemap.mbtiles")
    url = serve(path)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/{z}/{x}/{y}")
    z, x, y = tiles()[0]
    with urllib.request.urlopen(url.format(z=z, x=x, y=y)) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"] == "image/png"
        assert answer.read() == tile_png()
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(url.replace("/{z}/{x}/{y}", "/../../etc/passwd"))
    style = map_style(open_basemap(path), url)
    assert [s["tiles"] for s in style["sources"].values()] == [[url]]
    assert [layer["type"] for layer in style["layers"]] == ["background", "raster"]


def test_a_file_that_is_not_a_basemap_is_refused_in_words(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.mbtiles").write_text("not sqlite")
    with pytest.raises(InputError, match="not a basemap format"):
        open_basemap(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="not an MBTiles file"):
        open_basemap(tmp_path / "broken.mbtiles")
    with pytest.raises(InputError, match="not there"):
        open_basemap(tmp_path / "missing.pmtiles")


def _teal_share(png: bytes) -> float:
    image = (imread(io.BytesIO(png), format="png")[..., :3] * 255).round()
    return float(np.all(np.abs(image - np.array(TEAL)) < 8, axis=-1).mean())


def test_the_briefs_map_is_drawn_over_the_missions_basemap(tmp_path: Path) -> None:
    plan, layers = open_plan(ROOT / "scenarios" / "sample.yaml")
    plain = assess(plan, layers)
    with_basemap = assess(
        plan, layers, Settings(dashboard={"basemap": str(write_mbtiles(tmp_path / "basemap.mbtiles"))})
    )
    redaction = policy(None, RedactionSettings())
    assert _teal_share(map_png(plain, bundle(plain, redaction))) == 0
    assert _teal_share(map_png(with_basemap, bundle(with_basemap, redaction))) > 0.2


def test_the_dashboard_map_style_names_the_loopback_basemap(world_with_basemap: dict[str, Any]) -> None:
    from test_dashboard import app, deck_spec  # noqa: PLC0415

    spec = deck_spec(app(world_with_basemap))
    style = json.loads(base64.b64decode(spec["mapStyle"].removeprefix("data:application/json;base64,")))
    [source] = style["sources"].values()
    assert source["type"] == "raster" and source["tiles"][0].startswith("http://127.0.0.1:")
    assert "http" not in json.dumps(spec["layers"])


@pytest.fixture
def world_with_basemap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import shutil  # noqa: PLC0415

    for folder in ("scenarios", "layers", "data/sample"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    write_mbtiles(tmp_path / "basemap.mbtiles")
    settings = tmp_path / "mission.toml"
    settings.write_text('[dashboard]\ndata_dirs = ["scenarios", "layers", "data"]\nbasemap = "basemap.mbtiles"\n')
    monkeypatch.setenv("PRIMUM_SETTINGS", str(settings))
    monkeypatch.setenv("PRIMUM_DB", str(tmp_path / "record.db"))
    return {"root": tmp_path, "plan": tmp_path / "scenarios" / "sample.yaml"}
