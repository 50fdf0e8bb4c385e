"""Threat reports: ACLED, UCDP and generic logs, with precision, kind and sensitive fields kept."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.layers import load_layerset

ACLED = (
    "event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,actor2,civilian_targeting,"
    "latitude,longitude,geo_precision,source,notes,fatalities\n"
    "SSD1,2025-05-01,1,Violence against civilians,Attack,Militia X,Civilians,Civilian targeting,4.85,31.6,1,"
    "Informant J.D. (CAN),Named the informant,3\n"
    "SSD2,2025-05-10,2,Battles,Armed clash,Militia X,Army,,4.86,31.61,2,Radio,,0\n"
    "SSD3,2025-05-12,3,Violence against civilians,Sexual violence,Militia Y,Civilians,Civilian targeting,4.87,31.62,"
    "3,Clinic,,\n"
    "SSD4,2025-05-13,1,Explosions/Remote violence,Shelling/artillery/missile attack,Army,,,4.88,31.63,1,Press,,1\n"
)


def load(make_manifest, name: str, content: str, **spec: object):  # type: ignore[no-untyped-def]
    manifest = make_manifest({"ev": {"kind": "threats", "path": name, **spec}}, {name: content})
    return load_layerset(manifest).layers["ev"]


def test_acled_kinds_precision_and_targeting(make_manifest) -> None:  # type: ignore[no-untyped-def]
    layer = load(make_manifest, "a.csv", ACLED, schema="acled", sensitive=["source", "notes"])
    frame = layer.frame.set_index("event_id")
    assert dict(frame["kind"]) == {
        "SSD1": "attack_on_civilians",
        "SSD2": "armed_clash",
        "SSD3": "sexual_violence",
        "SSD4": "explosion",
    }
    assert list(frame["civilian_targeting"]) == [True, False, True, False]
    assert list(frame["location_precision_m"]) == [2_000, 25_000, 100_000, 2_000]
    assert list(frame["date_precision_days"]) == [0, 7, 31, 0]
    assert frame.loc["SSD1", "fatalities"] == 3
    assert frame["fatalities"].isna().tolist() == [False, False, True, False]  # blank is unknown, not 0
    assert frame.loc["SSD1", "actors"] == "Militia X; Civilians"


def test_sensitive_fields_are_carried_and_marked(make_manifest) -> None:  # type: ignore[no-untyped-def]
    layer = load(make_manifest, "a.csv", ACLED, schema="acled", sensitive=["source", "notes"])
    assert layer.sensitive == ("source", "notes")
    assert layer.frame.loc[0, "source"] == "Informant J.D. (CAN)"


def test_misspelt_sensitive_column_is_an_error_not_a_leak(make_manifest) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"sensitive\[sorce\]: column 'sorce' is not in the file.*unprotected"):
        load(make_manifest, "a.csv", ACLED, schema="acled", sensitive=["sorce"])


def test_acled_without_its_columns(make_manifest) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"ACLED column\(s\) missing: event_date, event_type"):
        load(make_manifest, "a.csv", "latitude,longitude\n4.85,31.6\n", schema="acled")


def test_unparseable_dates_name_their_lines(make_manifest) -> None:  # type: ignore[no-untyped-def]
    bad = ACLED.replace("2025-05-10", "sometime in May")
    with pytest.raises(InputError, match=r"line 3: 'event_date' is missing or not a date"):
        load(make_manifest, "a.csv", bad, schema="acled")


def test_ucdp_one_sided_violence_is_an_attack_on_civilians(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = (
        "id,type_of_violence,side_a,side_b,where_prec,latitude,longitude,date_start,date_end,date_prec,"
        "deaths_civilians,best,low,high\n"
        "1,3,Group A,Civilians,1,4.85,31.6,2025-01-01,2025-01-01,1,4,4,4,6\n"
        "2,1,Government,Rebels,4,4.86,31.6,2025-01-05,2025-01-20,4,0,10,8,12\n"
    )
    frame = load(make_manifest, "u.csv", csv, schema="ucdp").frame
    assert list(frame["kind"]) == ["attack_on_civilians", "armed_clash"]
    assert list(frame["one_sided"]) == [True, False]
    assert list(frame["location_precision_m"]) == [1_000, 150_000]
    assert list(frame["date_precision_days"]) == [0, 31]
    assert list(frame["fatalities"]) == [4, 10]


def test_ucdp_bad_violence_code(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "id,type_of_violence,latitude,longitude,date_start\n1,7,4.85,31.6,2025-01-01\n"
    with pytest.raises(InputError, match="line 2: 'type_of_violence' must be 1, 2 or 3"):
        load(make_manifest, "u.csv", csv, schema="ucdp")


def test_generic_incident_log(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = (
        "date,lat,lon,type,severity,reported_by\n2025-06-01,4.85,31.6,Abduction of civilians,4,CLA Mary\n"
        "2025-06-02,4.86,31.6,Gunfire heard,2,Patrol\n2025-06-03,4.86,31.6,Cattle dispute,,Patrol\n"
    )
    layer = load(make_manifest, "log.csv", csv, schema="generic", sensitive=["reported_by"])
    frame = layer.frame
    assert list(frame["kind"]) == ["attack_on_civilians", "armed_clash", "other"]
    assert frame["severity"].tolist()[:2] == [4, 2]
    assert layer.sensitive == ("reported_by",)


def test_generic_type_map_and_severity_range(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "date,lat,lon,type,severity\n2025-06-01,4.85,31.6,CAT-7,9\n"
    with pytest.raises(InputError, match="severity must be between 1 and 5"):
        load(make_manifest, "log.csv", csv, schema="generic", type_map={"CAT-7": "unrest"})
    ok = csv.replace(",9\n", ",3\n")
    assert list(load(make_manifest, "log.csv", ok, schema="generic", type_map={"CAT-7": "unrest"}).frame["kind"]) == [
        "unrest"
    ]


def test_unknown_kind_in_type_map(make_manifest) -> None:  # type: ignore[no-untyped-def]
    csv = "date,lat,lon,type\n2025-06-01,4.85,31.6,X\n"
    with pytest.raises(InputError, match="unknown threat kind"):
        load(make_manifest, "log.csv", csv, schema="generic", type_map={"X": "bad_kind"})
