"""Files as field staff save them: French Excel CSVs, other dialects, ACLED generations, rows cut short.

The probes are the fictional sample's own tables re-saved the way missions re-save them; each test checks
what a GIS officer would count by hand: the same events, the same dates, the same kinds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from planner.errors import InputError
from planner.layers.manifest import load_layerset
from planner.layers.numbers import decimal_mark, parse_numbers

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
ACLED = (SAMPLE / "events_acled.csv").read_text(encoding="utf-8")
MakeManifest = Callable[..., Path]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def write_csv(rows: list[list[str]], sep: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def french_excel(text: str) -> bytes:
    """What French Excel writes for a table: ';', decimal commas, dd/mm/yyyy dates, cp1252, CRLF."""
    rows = rows_of(text)
    changed = []
    for row in rows:
        cells = []
        for cell in row:
            text = cell
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                y, m, d = text.split("-")
                text = f"{d}/{m}/{y}"
            elif re.fullmatch(r"-?\d+\.\d+", text):
                text = text.replace(".", ",")
            cells.append(text.replace("(fictional)", "(fictif – exercice été)"))
        changed.append(cells)
    return write_csv(changed, ";").encode("cp1252")


def acled_layer(path: str, **spec: object) -> dict[str, dict[str, object]]:
    return {"events": {"kind": "threats", "path": path, "schema": "acled", **spec}}


@pytest.fixture(scope="module")
def sample_events() -> pd.DataFrame:
    return load_layerset(SAMPLE.parent.parent / "layers" / "sample.yaml").layers["events"].frame


def same_events(frame: pd.DataFrame, reference: pd.DataFrame) -> None:
    """The same events, on the same days, of the same kinds, at the same places, as the sample reads them."""
    assert frame["event_id"].tolist() == reference["event_id"].tolist()
    assert frame["date"].tolist() == reference["date"].tolist()
    assert frame["kind"].tolist() == reference["kind"].tolist()
    assert frame.geometry.x.round(6).tolist() == reference.geometry.x.round(6).tolist()
    assert frame.geometry.y.round(6).tolist() == reference.geometry.y.round(6).tolist()


# --- CSV dialects -------------------------------------------------------------------------------------------------


def test_a_french_excel_acled_export_reads_as_the_original(
    make_manifest: MakeManifest, sample_events: pd.DataFrame
) -> None:
    manifest = make_manifest(acled_layer("events.csv"), {"events.csv": french_excel(ACLED)})
    layer = load_layerset(manifest).layers["events"]
    same_events(layer.frame, sample_events)
    assert layer.read_as == {
        "format": "csv",
        "encoding": "cp1252",
        "separator": "semicolon",
        "decimal": "comma",
        "dates in 'event_date'": "day-first",
    }


def test_tab_separated_utf16_from_excel_unicode_text(make_manifest: MakeManifest, sample_events: pd.DataFrame) -> None:
    text = write_csv(rows_of(ACLED), "\t")
    manifest = make_manifest(acled_layer("events.txt"), {"events.txt": text.encode("utf-16")})
    layer = load_layerset(manifest).layers["events"]
    same_events(layer.frame, sample_events)
    assert (layer.read_as["encoding"], layer.read_as["separator"]) == ("UTF-16", "tab")


def test_counts_with_french_thousands_and_decimal_commas(make_manifest: MakeManifest) -> None:
    camps = (
        "nom;latitude;longitude;individus\nCamp A;4,85;31,6;1 200\nCamp B;4,86;31,62;12\u202f500\nCamp C;4,87;31,63;\n"
    )
    manifest = make_manifest(
        {"idp": {"kind": "displacement", "path": "camps.csv", "population": "individus", "name": "nom"}},
        {"camps.csv": camps.encode("utf-8-sig")},
    )
    frame = load_layerset(manifest).layers["idp"].frame
    assert frame["population"].tolist()[:2] == [1200.0, 12500.0]
    assert pd.isna(frame["population"].iloc[2])  # blank is unknown, never 0
    assert frame.geometry.y.tolist() == [4.85, 4.86, 4.87]


def test_a_file_writing_decimals_both_ways_is_refused_with_the_key(make_manifest: MakeManifest) -> None:
    sites = "name;lat;lon\nA;4,85;31.6\nB;4,86;31.61\n"
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": sites})
    with pytest.raises(
        InputError, match=r"decimal: .*with a comma \('4,85' in 'lat'\) and with a point.*`decimal: ','`"
    ):
        load_layerset(manifest)
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health", "decimal": ","}}, {"s.csv": sites}
    )
    with pytest.raises(InputError, match=r"lines 2, 3: empty or non-numeric 'lat'/'lon'"):
        load_layerset(manifest)  # '31.6' is not a number when the comma is the decimal mark


def test_numbers_are_read_with_the_files_mark() -> None:
    values = pd.Series(["1,200", "1.200", "1 200", "4,85", "12", "", None, "abc"], dtype=object)
    point, bad_point = parse_numbers(values, ".")
    comma, bad_comma = parse_numbers(values, ",")
    assert point.tolist()[:2] == [1200.0, 1.2] and point.tolist()[2] == 1200.0
    assert comma.tolist()[:4] == [1.2, 1200.0, 1200.0, 4.85]
    assert bad_point.tolist() == [False, False, False, True, False, False, False, True]
    assert bad_comma.tolist()[-1] and not bad_comma.tolist()[3]
    assert decimal_mark(pd.DataFrame({"a": ["1,200", "3"]})) == (".", None)  # a thousands group says nothing
    assert decimal_mark(pd.DataFrame({"a": ["1,200", "4,85"]})) == (",", None)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        ("latitude_deg", "longitude_deg"),
        ("_gps_latitude", "_gps_longitude"),
        ("Facility Location / latitude", "Facility Location / longitude"),
    ],
)
def test_survey_tool_coordinate_columns_are_found(make_manifest: MakeManifest, lat: str, lon: str) -> None:
    table = write_csv([["name", lat, lon], ["Clinic", "4.85", "31.6"]])
    manifest = make_manifest({"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": table})
    frame = load_layerset(manifest).layers["s"].frame
    assert (frame.geometry.x.iloc[0], frame.geometry.y.iloc[0]) == (31.6, 4.85)


# --- rows that cannot be read -------------------------------------------------------------------------------------


def test_a_last_row_cut_short_is_dropped_and_listed(make_manifest: MakeManifest, sample_events: pd.DataFrame) -> None:
    lines = ACLED.rstrip("\n").split("\n")
    cut = "\n".join(lines[:-1]) + "\n" + lines[-1][:40] + "\n"  # a download cut in the middle of the last row
    # 1 row of 72 is more than the 1 % a layer may lose by default; this mission accepts 2 %
    manifest = make_manifest(acled_layer("events.csv", max_bad_rows=0.02), {"events.csv": cut})
    layer = load_layerset(manifest).layers["events"]
    assert len(layer) == len(sample_events) - 1
    assert [d.rows for d in layer.dropped] == [(len(lines),)]
    assert "fields (cut short?)" in layer.dropped[0].reason
    flag = next(f for f in layer.flags if f.code == "rows_dropped")
    assert flag.rows == (len(lines),) and f"line {len(lines)}" in flag.message


def test_a_row_with_extra_fields_is_dropped_and_the_lines_after_it_keep_their_numbers(
    make_manifest: MakeManifest,
) -> None:
    rows = ["id,name,lat,lon"] + [f"{i},Site {i},4.8{i % 10},31.6" for i in range(1, 150)]
    rows[5] += ",extra"  # line 6
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": "\n".join(rows) + "\n"}
    )
    layer = load_layerset(manifest).layers["s"]
    assert len(layer) == 148
    assert layer.dropped[0].rows == (6,) and "has 5 fields, the header 4" in layer.dropped[0].reason
    assert layer.frame.loc[layer.frame["site_id"] == "6", "source_row"].tolist() == [7]


def test_more_bad_rows_than_allowed_refuse_the_layer_naming_them(make_manifest: MakeManifest) -> None:
    rows = ["id,name,lat,lon"] + [f"{i},Site {i},4.85,31.6" for i in range(1, 51)]
    rows[3] = "3,Site 3,north,31.6"
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health"}}, {"s.csv": "\n".join(rows)}
    )
    with pytest.raises(InputError) as caught:
        load_layerset(manifest)  # 1 of 50 is 2 %: more than the 1 % default
    text = str(caught.value)
    assert "1 of 50 rows cannot be read" in text and "line 4: empty or non-numeric 'lat'/'lon'" in text
    manifest = make_manifest(
        {"s": {"kind": "sites", "path": "s.csv", "category": "health", "max_bad_rows": 0.05}},
        {"s.csv": "\n".join(rows)},
    )
    assert len(load_layerset(manifest).layers["s"]) == 49


# --- ACLED generations --------------------------------------------------------------------------------------------


def test_uppercase_acled_headers_are_read(make_manifest: MakeManifest, sample_events: pd.DataFrame) -> None:
    rows = rows_of(ACLED)
    rows[0] = [c.upper() for c in rows[0]]
    manifest = make_manifest(acled_layer("events.csv"), {"events.csv": write_csv(rows)})
    layer = load_layerset(manifest).layers["events"]
    same_events(layer.frame, sample_events)
    assert layer.frame["location_precision_m"].tolist() == sample_events["location_precision_m"].tolist()


def test_pre_2019_acled_event_types_keep_their_kinds(make_manifest: MakeManifest) -> None:
    header = (
        "EVENT_ID_CNTY,EVENT_DATE,TIME_PRECISION,EVENT_TYPE,ACTOR1,ACTOR2,LATITUDE,LONGITUDE,GEO_PRECISION,FATALITIES"
    )
    old = [
        ("Remote violence", "explosion"),
        ("Battle-No change of territory", "armed_clash"),
        ("Battle-Government regains territory", "armed_clash"),
        ("Battle-Non-state actor overtakes territory", "armed_clash"),
        ("Violence against civilians", "attack_on_civilians"),
        ("Riots/Protests", "unrest"),
        ("Strategic development", "strategic"),
        ("Non-violent transfer of territory", "strategic"),
        ("Headquarters or base established", "strategic"),
    ]
    lines = [header] + [
        f"SSD{i},12-May-2016,2,{etype},Militia,,4.85,31.6,3,0" for i, (etype, _) in enumerate(old, start=1)
    ]
    manifest = make_manifest(acled_layer("old.csv"), {"old.csv": "\n".join(lines)})
    layer = load_layerset(manifest).layers["events"]
    assert layer.frame["kind"].tolist() == [kind for _, kind in old]
    assert set(layer.frame["date_precision_days"]) == {7.0}  # time_precision 2: within the week
    assert set(layer.frame["location_precision_m"]) == {100_000.0}  # geo_precision 3: the region
    assert not [f for f in layer.flags if f.code == "unknown_types"]


def test_an_event_type_nobody_knows_is_flagged_with_its_text(make_manifest: MakeManifest) -> None:
    lines = [
        "event_id_cnty,event_date,event_type,latitude,longitude",
        "X1,2025-05-01,Battles,4.85,31.6",
        "X2,2025-05-02,Cyber incident,4.85,31.6",
    ]
    manifest = make_manifest(acled_layer("e.csv", as_of="2025-05-02"), {"e.csv": "\n".join(lines)})
    layer = load_layerset(manifest).layers["events"]
    assert layer.frame["kind"].tolist() == ["armed_clash", "other"]
    flag = next(f for f in layer.flags if f.code == "unknown_types")
    assert flag.rows == (3,) and "Cyber incident" in flag.message


def test_a_generic_log_keeps_acled_precision_codes(make_manifest: MakeManifest) -> None:
    lines = [
        "date,type,lat,lon,geo_precision,time_precision",
        "2025-05-01,attack on civilians,4.85,31.6,1,1",
        "2025-05-02,armed clash,4.85,31.6,3,3",
    ]
    manifest = make_manifest(
        {"log": {"kind": "threats", "path": "log.csv", "schema": "generic"}}, {"log.csv": "\n".join(lines)}
    )
    frame = load_layerset(manifest).layers["log"].frame
    assert frame["location_precision_m"].tolist() == [2_000.0, 100_000.0]
    assert frame["date_precision_days"].tolist() == [0.0, 31.0]


# --- spreadsheets and KML -----------------------------------------------------------------------------------------


def camps_workbook(path: Path, *, hxl: bool = True, sheet: str = "Sites") -> None:
    """A DTM-style site list as Excel keeps it: a cover sheet first, dates as date cells, counts as numbers."""
    from datetime import date  # noqa: PLC0415

    import openpyxl  # noqa: PLC0415

    workbook = openpyxl.Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Read me"
    cover.append(["Displacement site list, round 9 (fictional)"])
    sites = workbook.create_sheet(sheet)
    sites.append(["Site ID", "Site name", "Latitude", "Longitude", "IDP individuals", "Date reported"])
    if hxl:
        sites.append(["#loc+code", "#loc+name", "#geo+lat", "#geo+lon", "#affected+idps+ind", "#date+reported"])
    sites.append(["007", "Nyal Collective Centre", 4.8512, 31.5901, 1200, date(2025, 3, 4)])
    sites.append(["008", "Goro School Shelter", 4.8612, 31.6001, 320.0, "15/03/2025"])
    workbook.save(path)


def test_an_xlsx_site_list_is_read_from_the_named_sheet(make_manifest: MakeManifest, tmp_path: Path) -> None:
    camps_workbook(tmp_path / "sites.xlsx")
    manifest = make_manifest({"idp": {"kind": "displacement", "path": "sites.xlsx", "sheet": "Sites"}})
    layer = load_layerset(manifest).layers["idp"]
    frame = layer.frame
    assert frame["site_id"].tolist() == ["007", "008"]  # a code stays text: no leading zero lost
    assert frame["population"].tolist() == [1200.0, 320.0]
    assert frame["source_row"].tolist() == [3, 4]  # the rows Excel shows, after the header and the HXL row
    # A date cell, and a text date whose column is day-first: 4 and 15 March
    assert [d.date().isoformat() for d in frame["population_date"]] == ["2025-03-04", "2025-03-15"]
    assert layer.read_as["format"] == "xlsx" and layer.read_as["sheet"] == "Sites" and layer.read_as["hxl"] == "yes"


def test_a_workbook_read_from_its_first_sheet_or_a_missing_one_says_which_there_are(
    make_manifest: MakeManifest, tmp_path: Path
) -> None:
    camps_workbook(tmp_path / "sites.xlsx")
    manifest = make_manifest({"idp": {"kind": "displacement", "path": "sites.xlsx", "sheet": "Round 9"}})
    with pytest.raises(InputError, match=r"sheet: no sheet 'Round 9' in the workbook.*sheets are: Read me, Sites"):
        load_layerset(manifest)
    manifest = make_manifest({"idp": {"kind": "displacement", "path": "sites.xlsx"}})
    with pytest.raises(InputError, match=r"no lat column found"):
        load_layerset(manifest)  # the first sheet is the cover note: refused, not read as an empty layer


def test_an_ods_workbook_reads_like_the_xlsx(make_manifest: MakeManifest, tmp_path: Path) -> None:
    camps_workbook(tmp_path / "sites.xlsx", sheet="Sites")
    frame = pd.read_excel(tmp_path / "sites.xlsx", sheet_name="Sites", dtype=str).drop(columns="Date reported")
    import pyogrio  # noqa: PLC0415

    pyogrio.write_dataframe(frame, tmp_path / "sites.ods", driver="ODS", layer="Sites")
    manifest = make_manifest({"idp": {"kind": "displacement", "path": "sites.ods"}})
    layer = load_layerset(manifest).layers["idp"]
    assert layer.frame["population"].tolist() == [1200.0, 320.0]
    assert layer.read_as["format"] == "ods"


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Health</name>
<Folder><name>Clinics</name>
<Placemark><name>Clinic A</name><ExtendedData><Data name="status"><value>Non fonctionnel</value></Data>
</ExtendedData><Point><coordinates>31.59,4.85,0</coordinates></Point></Placemark>
<Placemark><name>Clinic B</name><ExtendedData><Data name="status"><value>Functional</value></Data>
</ExtendedData><Point><coordinates>31.60,4.86,0</coordinates></Point></Placemark>
</Folder>
<Folder><name>Hospitals</name>
<Placemark><name>Hospital C</name><ExtendedData><Data name="status"><value>Fonctionnel</value></Data>
</ExtendedData><Point><coordinates>31.61,4.87,0</coordinates></Point></Placemark>
</Folder></Document></kml>
"""


def test_every_folder_of_a_kml_and_kmz_is_read_with_its_extended_data(
    make_manifest: MakeManifest, tmp_path: Path
) -> None:
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(tmp_path / "health.kmz", "w") as archive:
        archive.writestr("doc.kml", KML)
        archive.writestr("images/icon.png", b"\x89PNG")
    for name in ("health.kml", "health.kmz"):
        manifest = make_manifest(
            {"h": {"kind": "sites", "path": name, "category": "health", "status": "status", "keep": ["folder"]}},
            {"health.kml": KML},
        )
        frame = load_layerset(manifest).layers["h"].frame
        assert frame["name"].tolist() == ["Clinic A", "Clinic B", "Hospital C"], name
        assert frame["folder"].tolist() == ["Clinics", "Clinics", "Hospitals"]
        assert frame["functional"].tolist() == [False, True, True]


def test_a_kml_that_is_a_network_link_or_empty_is_refused(make_manifest: MakeManifest) -> None:
    link = (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><NetworkLink><name>Sites</name>'
        "<Link><href>https://www.google.com/maps/d/kml?mid=abc</href></Link></NetworkLink></kml>"
    )
    manifest = make_manifest({"h": {"kind": "sites", "path": "h.kml", "category": "health"}}, {"h.kml": link})
    with pytest.raises(InputError, match=r"network link to features kept on a server.*Keep data up to date"):
        load_layerset(manifest)
    empty = '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder/></Document></kml>'
    manifest = make_manifest({"h": {"kind": "sites", "path": "h.kml", "category": "health"}}, {"h.kml": empty})
    with pytest.raises(InputError, match=r"the KML holds no placemarks"):
        load_layerset(manifest)


# --- status words -------------------------------------------------------------------------------------------------


def test_validate_counts_sites_by_status_and_flags_words_it_does_not_know(
    make_manifest: MakeManifest, tmp_path: Path
) -> None:
    import json  # noqa: PLC0415

    from typer.testing import CliRunner  # noqa: PLC0415

    from planner.cli import app  # noqa: PLC0415

    table = (
        "name,lat,lon,Functional Status\n"
        "A,4.85,31.60,Highly Functional\nB,4.85,31.61,Moderately Functional\nC,4.85,31.62,Non fonctionnelle\n"
        "D,4.85,31.63,\nE,4.85,31.64,Under repair by NGO\nF,4.85,31.65,Fermée\n"
    )
    make_manifest(
        {"h": {"kind": "sites", "path": "h.csv", "category": "health", "as_of": "2025-05-01"}}, {"h.csv": table}
    )
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "manifest.yaml"), "--on", "2025-06-01", "--json"])
    [layer] = json.loads(result.output)["layerset"]["layers"]
    assert layer["by_status"] == {"not_functional": 2, "unknown": 2, "functional": 1, "partly_functional": 1}
    [flag] = [f for f in layer["flags"] if f["code"] == "status_unrecognised"]
    assert flag["rows"] == [6] and "Under repair by NGO" in flag["message"] and "status_map" in flag["message"]

    make_manifest(
        {
            "h": {
                "kind": "sites",
                "path": "h.csv",
                "category": "health",
                "as_of": "2025-05-01",
                "status_map": {"Under repair by NGO": "partly_functional"},
            }
        }
    )
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "manifest.yaml"), "--on", "2025-06-01", "--json"])
    [layer] = json.loads(result.output)["layerset"]["layers"]
    assert layer["by_status"]["partly_functional"] == 2
    assert not [f for f in layer["flags"] if f["code"] == "status_unrecognised"]


# --- several rows per site ----------------------------------------------------------------------------------------


def test_a_price_table_gives_one_market_per_market(make_manifest: MakeManifest) -> None:
    rows = [["date", "market_id", "market", "latitude", "longitude", "commodity", "price"]]
    for day in ("2025-01-15", "2025-02-15", "2025-03-15"):
        for commodity in ("Sorghum", "Maize", "Beans"):
            rows.append([day, "101", "Konyokonyo", "4.8492", "31.6043", commodity, "1200"])
            rows.append([day, "102", "Custom", "4.8601", "31.5889", commodity, "1300"])
    rows.append(["2025-03-15", "103", "Gudele", "4.8700", "31.5500", "Sorghum", "900"])
    manifest = make_manifest(
        {"m": {"kind": "sites", "path": "prices.csv", "category": "market", "id": "market_id", "keep": ["date"]}},
        {"prices.csv": write_csv(rows)},
    )
    layer = load_layerset(manifest).layers["m"]
    assert layer.frame["name"].tolist() == ["Konyokonyo", "Custom", "Gudele"]
    assert layer.frame["date"].tolist() == ["2025-03-15"] * 3  # the latest row of each
    [flag] = [f for f in layer.flags if f.code == "grouped_rows"]
    assert "19 rows of 'm' describe 3 sites" in flag.message and len(flag.rows) == 16
    assert not [f for f in layer.flags if f.code == "duplicate_id"]


def test_dtm_rounds_keep_each_sites_latest_count_and_two_places_under_one_id_stay_two(
    make_manifest: MakeManifest,
) -> None:
    table = (
        "site_id,name,lat,lon,individuals,date\n"
        "S1,Camp A,4.85,31.60,900,2025-01-31\n"
        "S1,Camp A,4.85,31.60,1200,2025-04-30\n"
        "S1,Camp A,4.85,31.60,1100,2025-02-28\n"
        "S2,Camp B,4.86,31.61,300,2025-04-30\n"
        "S2,Camp B,4.96,31.71,50,2025-04-30\n"
    )
    spec = {"kind": "displacement", "path": "dtm.csv"}
    frame = load_layerset(make_manifest({"idp": spec}, {"dtm.csv": table})).layers["idp"].frame
    assert frame["population"].tolist() == [1200.0, 300.0, 50.0]  # S2 at two places is not folded
    frame = load_layerset(make_manifest({"idp": {**spec, "repeated": "first"}})).layers["idp"].frame
    assert frame["population"].tolist() == [900.0, 300.0, 50.0]


# --- figures per admin area ---------------------------------------------------------------------------------------


def square(west: float, south: float, side: float = 0.1) -> dict[str, object]:
    ring = [[west, south], [west + side, south], [west + side, south + side], [west, south + side], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


ADMIN = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ADM2_EN": "Kajo-Keji", "ADM2_PCODE": "SS0102"},
                "geometry": square(31.5, 4.8),
            },
            {
                "type": "Feature",
                "properties": {"ADM2_EN": "Juba", "ADM2_PCODE": "SS0101"},
                "geometry": square(31.6, 4.8),
            },
        ],
    }
)


def test_figures_per_area_join_by_pcode_or_name_and_an_unknown_name_says_the_nearest(
    make_manifest: MakeManifest,
) -> None:
    table = "county,idps\nSS0101,5000\nkajo keji,1200\n"
    layers = {
        "counties": {"kind": "admin", "path": "adm2.geojson"},
        "dtm": {"kind": "displacement", "path": "dtm.csv", "admin": "counties", "admin_key": "county"},
    }
    layerset = load_layerset(make_manifest(layers, {"adm2.geojson": ADMIN, "dtm.csv": table}))
    frame = layerset.layers["dtm"].frame
    assert [round(b[0], 2) for b in frame.geometry.bounds.to_numpy()] == [
        31.6,
        31.5,
    ]  # Juba by p-code, Kajo-Keji by name
    assert frame["population"].tolist() == [5000.0, 1200.0]
    assert frame["area_people"].isna().all()  # no raster: kept as area figures
    assert next(f for f in layerset.layers["dtm"].flags if f.code == "area_level").rows == (2, 3)

    make_manifest(layers, {"dtm.csv": "county,idps\nJubba,5000\n"})
    with pytest.raises(InputError, match=r"'Jubba' \(nearest: Juba\).*admin_names"):
        load_layerset(make_manifest(layers))
    layers["dtm"]["admin_names"] = {"Jubba": "Juba"}
    assert len(load_layerset(make_manifest(layers)).layers["dtm"]) == 1


def test_an_areas_people_are_spread_over_its_residents_and_keep_the_share_outside_the_study_area() -> None:
    import numpy as np  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from planner.harm.presence import Presence, _over_residents  # noqa: PLC0415

    # Four cells of the study area, three inside a county of 1,000 residents (the rest of it lies outside)
    presence = Presence(
        home_share=1.0,
        window_hours=1.0,
        cell_x=np.array([50.0, 150.0, 250.0, 350.0]),
        cell_y=np.array([50.0, 50.0, 50.0, 50.0]),
        residents=np.array([100.0, 300.0, 0.0, 500.0]),
        resident_spread=(1.0, 1.0),
        cell_m=100.0,
        shape=(1, 4),
    )
    county = shapely.box(0, 0, 300, 100)
    x, _, weight = _over_residents(county, 1_000.0, presence)
    assert x.tolist() == [50.0, 150.0, 250.0]
    assert weight.tolist() == [0.1, 0.3, 0.0]  # 60 % of the county's people are outside the study area
    x, _, weight = _over_residents(county, float("nan"), presence)  # no raster: evenly over the area
    assert weight.sum() == pytest.approx(1.0) and x.min() >= 0 and x.max() <= 300


def test_a_population_table_scales_the_raster_inside_each_area_and_nowhere_else(
    make_manifest: MakeManifest, tmp_path: Path
) -> None:
    import numpy as np  # noqa: PLC0415
    import rasterio  # noqa: PLC0415
    from affine import Affine  # noqa: PLC0415

    # 4 x 4 pixels of 0.05 degrees, 10 people each; Juba covers the left half (31.6-31.7), Kajo-Keji none of it
    with rasterio.open(
        tmp_path / "pop.tif",
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float64",
        crs="EPSG:4326",
        transform=Affine(0.05, 0, 31.6, 0, -0.05, 4.9),
        nodata=-1,
    ) as dst:
        dst.write(np.full((1, 4, 4), 10.0))
    layers = {
        "population": {"kind": "population", "path": "pop.tif", "units": "count"},
        "counties": {"kind": "admin", "path": "adm2.geojson"},
        "census": {
            "kind": "population_table",
            "path": "census.csv",
            "admin": "counties",
            "admin_key": "pcode",
            "population": "people",
            "date": "year",
        },
    }
    census = "pcode,people,year\nSS0101,400,2019-01-01\nSS0101,160,2023-01-01\nSS0102,999,2023-01-01\n"
    adm2 = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"ADM2_EN": "Juba", "ADM2_PCODE": "SS0101"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[31.6, 4.7], [31.7, 4.7], [31.7, 4.9], [31.6, 4.9], [31.6, 4.7]]],
                    },
                },
                {
                    "type": "Feature",
                    "properties": {"ADM2_EN": "Kajo-Keji", "ADM2_PCODE": "SS0102"},
                    "geometry": square(31.0, 4.0),
                },
            ],
        }
    )
    layerset = load_layerset(make_manifest(layers, {"census.csv": census, "adm2.geojson": adm2}))
    window = layerset.population.read_window((31.6, 4.7, 31.8, 4.9))
    people = np.asarray(window.people())
    # The 8 pixels of Juba held 80 people; the latest census (2023) says 160: each doubles. The rest stay.
    assert people[:, :2].tolist() == [[20.0, 20.0]] * 4 and people[:, 2:].tolist() == [[10.0, 10.0]] * 4
    flags = {f.code: f for f in layerset.layers["census"].flags}
    assert flags["no_coverage"].rows == (4,)  # Kajo-Keji lies outside the raster: kept as an area total
    assert flags["grouped_rows"].rows == (2,)
