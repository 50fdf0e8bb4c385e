"""Real files written by others (``tests/corpus``, ``../shared/realdata``) and probes made from them.

Each test checks numbers counted by hand from the file: the rows it holds, its statuses, its date range, its
kinds. A probe re-saves the same rows as missions re-save them and must read the same.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import require_realdata

from planner.layers.manifest import load_layerset

CORPUS = Path(__file__).resolve().parent / "corpus"
MakeManifest = Callable[..., Path]
pytestmark = pytest.mark.realdata


def test_a_healthsites_gather_export_with_line_breaks_in_its_cells(make_manifest: MakeManifest) -> None:
    path = CORPUS / "healthsites_saint-louis_gather_2019.csv"
    manifest = make_manifest(
        {"health": {"kind": "sites", "path": str(path), "category": "health", "name": "Name of Facility"}}
    )
    layer = load_layerset(manifest).layers["health"]
    frame = layer.frame
    assert len(frame) == 104  # 104 records on 251 lines
    assert layer.summary(pd.Timestamp("2019-08-01").date())["by_status"] == {
        "functional": 102,
        "not_functional": 1,
        "unknown": 1,
    }
    # Records are found at the line they start on, though earlier cells hold line breaks
    assert frame.set_index("name").loc["Case de Santé de Ndièl mbam", "source_row"] == 88
    assert frame["source_row"].iloc[-1] == 251
    assert frame.geometry.x.between(-16.514, -16.180).all() and frame.geometry.y.between(15.837, 16.109).all()
    assert layer.read_as["encoding"] == "UTF-8"


# --- UCDP GED, as UCDP, HDX and the API publish it, and as a French office re-saves it -----------------------------


@pytest.fixture(scope="module")
def ged() -> pd.DataFrame:
    """UCDP GED 23.1 for Bangui (234 events) in the GED CSV's own columns."""
    root = require_realdata()
    frame = gpd.read_file(root / "bangui_car" / "ucdp_ged_23.1_bangui.geojson")
    frame["latitude"], frame["longitude"] = frame.geometry.y, frame.geometry.x
    frame["date_start"] = frame["date_start"].dt.strftime("%Y-%m-%d %H:%M:%S.000")
    frame["date_end"] = frame["date_end"].dt.strftime("%Y-%m-%d %H:%M:%S.000")
    return pd.DataFrame(frame.drop(columns="geometry"))


def same_as_ged(layer_frame: pd.DataFrame) -> None:
    """What the GED file says, counted from it: 234 events, 118 one-sided, 2,271 deaths (best), one on 27 May 2001."""
    assert len(layer_frame) == 234
    assert layer_frame["kind"].value_counts().to_dict() == {"attack_on_civilians": 118, "armed_clash": 116}
    assert layer_frame["date"].min() == pd.Timestamp("1991-08-08")
    assert layer_frame["date"].max() == pd.Timestamp("2022-12-22")
    assert layer_frame.set_index("event_id").loc["22744", "date"] == pd.Timestamp("2001-05-27")
    assert layer_frame["location_precision_m"].value_counts().to_dict() == {1_000.0: 226, 25_000.0: 7, 50_000.0: 1}
    assert layer_frame["fatalities"].sum() == 2_271  # the sum of `best`


def ucdp(path: str) -> dict[str, dict[str, object]]:
    return {"events": {"kind": "threats", "path": path, "schema": "ucdp"}}


def test_ged_csv_and_the_hdx_copy_with_its_hxl_row(make_manifest: MakeManifest, ged: pd.DataFrame) -> None:
    plain = ged.to_csv(index=False)
    same_as_ged(load_layerset(make_manifest(ucdp("ged.csv"), {"ged.csv": plain})).layers["events"].frame)
    tags = {
        "id": "#event+id",
        "date_start": "#date+start",
        "latitude": "#geo+lat",
        "longitude": "#geo+lon",
        "best": "#affected+killed",
    }
    hxl_row = ",".join(tags.get(c, "") for c in ged.columns)
    header, body = plain.split("\n", 1)
    layer = load_layerset(make_manifest(ucdp("hdx.csv"), {"hdx.csv": f"{header}\n{hxl_row}\n{body}"})).layers["events"]
    same_as_ged(layer.frame)
    assert layer.read_as["hxl"] == "yes" and layer.frame["source_row"].min() == 3


def test_ged_re_saved_by_french_excel_with_upper_case_headers(make_manifest: MakeManifest, ged: pd.DataFrame) -> None:
    french = ged.copy()
    french.columns = [c.upper() for c in french.columns]
    french["DATE_START"] = pd.to_datetime(ged["date_start"]).dt.strftime("%d/%m/%Y")
    french["DATE_END"] = pd.to_datetime(ged["date_end"]).dt.strftime("%d/%m/%Y")
    text = french.to_csv(index=False, sep=";", decimal=",")
    layer = load_layerset(make_manifest(ucdp("ged_fr.csv"), {"ged_fr.csv": text.encode("cp1252")})).layers["events"]
    same_as_ged(layer.frame)
    assert layer.read_as["separator"] == "semicolon" and layer.read_as["decimal"] == "comma"
    assert layer.read_as["encoding"] == "cp1252"  # side names carry accents: 'André Kolingba'
    assert layer.read_as["dates in 'date_start'"] == "day-first"


def test_ged_as_xlsx_and_as_the_apis_json(make_manifest: MakeManifest, ged: pd.DataFrame, tmp_path: Path) -> None:
    ged.to_excel(tmp_path / "ged.xlsx", index=False, sheet_name="GED")
    same_as_ged(load_layerset(make_manifest(ucdp("ged.xlsx"))).layers["events"].frame)
    answer = {
        "TotalCount": len(ged),
        "TotalPages": 1,
        "PreviousPageUrl": "",
        "NextPageUrl": "",
        "Result": json.loads(ged.to_json(orient="records")),
    }
    (tmp_path / "ged_api.json").write_text(json.dumps(answer), encoding="utf-8")
    layer = load_layerset(make_manifest(ucdp("ged_api.json"))).layers["events"]
    same_as_ged(layer.frame)
    assert layer.read_as["format"] == "json rows (UCDP API)"


def test_one_page_of_a_longer_api_answer_is_refused(
    make_manifest: MakeManifest, ged: pd.DataFrame, tmp_path: Path
) -> None:
    from planner.errors import InputError  # noqa: PLC0415

    page = {
        "TotalCount": 1848,
        "TotalPages": 2,
        "NextPageUrl": "https://ucdpapi.pcr.uu.se/api/gedevents/23.1?page=1",
        "Result": json.loads(ged.head(100).to_json(orient="records")),
    }
    (tmp_path / "page.json").write_text(json.dumps(page), encoding="utf-8")
    with pytest.raises(InputError, match=r"one page of 2 of the API's answer"):
        load_layerset(make_manifest(ucdp("page.json")))


# --- a real facility list as a KMZ from Google Earth ---------------------------------------------------------------


def test_a_facility_list_saved_as_kmz_reads_as_the_geojson(make_manifest: MakeManifest, tmp_path: Path) -> None:
    root = require_realdata()
    source = root / "juba" / "health" / "hsf_master_facility_list.geojson"
    facilities = gpd.read_file(source)
    facilities.to_file(tmp_path / "doc.kml", driver="KML")
    with zipfile.ZipFile(tmp_path / "health.kmz", "w") as archive:
        archive.write(tmp_path / "doc.kml", "doc.kml")
    spec = {"kind": "sites", "category": "health", "status": "Functional Status", "name": "Health Facility Name"}
    layers = load_layerset(
        make_manifest({"kmz": {**spec, "path": "health.kmz"}, "geojson": {**spec, "path": str(source)}})
    ).layers
    kmz, geojson = layers["kmz"].frame, layers["geojson"].frame
    assert len(kmz) == len(geojson) == 59
    assert kmz["name"].tolist() == geojson["name"].tolist()
    assert kmz["status_class"].tolist() == geojson["status_class"].tolist()
    # Counted from the file: Moderately 37 + Limitedly 17 Functional, Highly 2, Not 2, one blank
    assert geojson["status_class"].value_counts().to_dict() == {
        "partly_functional": 54,
        "functional": 2,
        "not_functional": 2,
        "unknown": 1,
    }
    assert (kmz.geometry.x - geojson.geometry.x).abs().max() < 1e-9
