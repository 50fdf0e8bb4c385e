"""Files are opened only as what they say they are: no VRT in disguise, no network, no pipes."""

from __future__ import annotations

import http.server
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import yaml
from conftest import write_raster
from rasterio.errors import RasterioIOError

from planner.errors import InputError
from planner.layers import load_layerset
from planner.opening import RASTER_DRIVER
from planner.plan import load_plan, open_plan
from planner.uploads import check_confined, save_upload


class _Counting(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012  (shared by the handler instances of one test server)

    def do_GET(self) -> None:
        _Counting.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"lon,lat\n31.6,4.85\n")

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def loopback_server() -> Iterator[str]:
    """A web server on 127.0.0.1 that counts the requests it gets; stops by itself after the test."""
    _Counting.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counting)
    server.timeout = 0.2
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def manifest(tmp_path: Path, kind: str, name: str, content: str | bytes) -> Path:
    target = tmp_path / name
    target.write_bytes(content.encode() if isinstance(content, str) else content)
    spec = {"kind": kind, "path": name, "as_of": "2025-01-01"}
    if kind == "population":
        spec["units"] = "count"
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"area": "Test", "layers": {"x": spec}}))
    return tmp_path / "m.yaml"


def vector_vrt(source: str) -> str:
    return (
        f"<OGRVRTDataSource><OGRVRTLayer name='s'><SrcDataSource>{source}</SrcDataSource>"
        "<GeometryType>wkbPoint</GeometryType><GeometryField encoding='PointFromColumns' x='lon' y='lat'/>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def test_a_vrt_disguised_as_geojson_is_refused_before_its_source_is_read(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-secret.csv"
    outside.write_text("lon,lat,name\n31.6,4.85,secret\n")
    path = manifest(tmp_path, "sites", "sites.geojson", vector_vrt(str(outside)))
    with pytest.raises(InputError) as refused:
        load_layerset(path)
    message = str(refused.value)
    assert "layers.x.path" in message and "not a geojson file" in message and "VRT" in message
    assert "secret" not in message


def test_a_network_source_is_never_fetched(tmp_path: Path, loopback_server: str) -> None:
    for name in ("sites.geojson", "sites.kml"):
        path = manifest(tmp_path, "sites", name, vector_vrt(f"/vsicurl/{loopback_server}/points.csv"))
        with pytest.raises(InputError, match="not a"):
            load_layerset(path)
    assert _Counting.requests == []


def test_a_vrt_disguised_as_a_geotiff_is_refused_and_the_gtiff_driver_alone_would_refuse_it(tmp_path: Path) -> None:
    outside = write_raster(tmp_path.parent / f"{tmp_path.name}-outside.tif", np.full((4, 4), 7.0))
    vrt = (
        "<VRTDataset rasterXSize='4' rasterYSize='4'><VRTRasterBand dataType='Float32' band='1'>"
        f"<SimpleSource><SourceFilename>{outside}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>"
        "</VRTRasterBand></VRTDataset>"
    )
    path = manifest(tmp_path, "population", "pop.tif", vrt)
    with pytest.raises(InputError, match=r"layers\.x\.path.*not a tif file"):
        load_layerset(path)
    with pytest.raises(RasterioIOError):  # the second line of defence, had the first been passed
        rasterio.open(tmp_path / "pop.tif", driver=RASTER_DRIVER)


def test_a_pipe_as_a_layer_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "sites.geojson")
    (tmp_path / "m.yaml").write_text(
        yaml.safe_dump({"area": "Test", "layers": {"x": {"kind": "sites", "path": "sites.geojson"}}})
    )
    with pytest.raises(InputError, match="not a regular file"):
        load_layerset(tmp_path / "m.yaml")


def test_a_zip_with_anything_but_a_shapefile_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "layer.zip", "w") as archive:
        archive.writestr("layer.vrt", vector_vrt("/etc/passwd"))
    (tmp_path / "m.yaml").write_text(
        yaml.safe_dump({"area": "Test", "layers": {"x": {"kind": "sites", "path": "layer.zip"}}})
    )
    with pytest.raises(InputError, match=r"shapefile's parts only \(found layer\.vrt\)"):
        load_layerset(tmp_path / "m.yaml")


def test_a_plan_geometry_file_in_disguise_is_refused_with_its_key(tmp_path: Path) -> None:
    (tmp_path / "areas.geojson").write_text(vector_vrt("/etc/passwd"))
    (tmp_path / "layers.yaml").write_text(yaml.safe_dump({"area": "Test", "layers": {}}))
    plan = {
        "name": "P",
        "layers": "layers.yaml",
        "window": {"start": "2025-06-01T06:00:00+03:00", "end": "2025-06-01T12:00:00+03:00"},
        "coas": [
            {
                "id": "A",
                "name": "A",
                "elements": [{"id": "c", "activity": "cordon_search", "geometry_file": "areas.geojson"}],
            }
        ],
    }
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    with pytest.raises(InputError, match=r"coas\.A\.elements\.c\.geometry_file.*not a geojson file"):
        load_plan(tmp_path / "plan.yaml")


def test_gdal_itself_fetches_nothing_even_from_a_real_vrt(tmp_path: Path, loopback_server: str) -> None:
    # Past every check of ours, GDAL's own network access is off for the whole process.
    (tmp_path / "remote.vrt").write_text(vector_vrt(f"/vsicurl/{loopback_server}/points.csv"))
    with pytest.raises((pyogrio.errors.DataSourceError, pyogrio.errors.CRSError)):
        pyogrio.read_dataframe(tmp_path / "remote.vrt")
    with pytest.raises(RasterioIOError):
        rasterio.open(f"/vsicurl/{loopback_server}/population.tif")
    assert _Counting.requests == []


def test_an_uploaded_vrt_in_disguise_passes_the_folder_check_but_is_refused_before_any_read(
    tmp_path: Path, loopback_server: str
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    raster_vrt = (
        "<VRTDataset rasterXSize='1' rasterYSize='1'><VRTRasterBand band='1'><SimpleSource>"
        f"<SourceFilename>/vsicurl/{loopback_server}/p.tif</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>"
    )
    save_upload("sites.geojson", vector_vrt(f"/vsicurl/{loopback_server}/points.csv").encode(), uploads, max_mb=1)
    save_upload("pop.tif", raster_vrt.encode(), uploads, max_mb=1)
    layers = {
        "area": "Uploaded",
        "layers": {
            "sites": {"kind": "sites", "path": "sites.geojson"},
            "population": {"kind": "population", "path": "pop.tif", "units": "count"},
        },
    }
    save_upload("layers.yaml", yaml.safe_dump(layers).encode(), uploads, max_mb=1)
    plan = {
        "name": "Uploaded plan",
        "layers": "layers.yaml",
        "window": {"start": "2025-06-01T06:00:00+03:00", "end": "2025-06-01T12:00:00+03:00"},
        "coas": [
            {"id": "A", "name": "A", "elements": [{"id": "lz", "activity": "helicopter_lz", "position": [31.6, 4.85]}]}
        ],
    }
    plan_path = save_upload("plan.yaml", yaml.safe_dump(plan).encode(), uploads, max_mb=1)
    check_confined(plan_path, [uploads])  # every file is inside the uploads: the folder check cannot see it
    with pytest.raises(InputError) as refused:
        open_plan(plan_path)
    text = str(refused.value)
    assert "layers.sites.path" in text and "layers.population.path" in text
    assert _Counting.requests == []
